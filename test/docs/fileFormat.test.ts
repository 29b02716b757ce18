/**
 * docs/file-format.md and docs/experiment.schema.json are generated from the experiment
 * file's Schema (`npm run docs`). These tests fail when either is stale, and check that the
 * JSON Schema editors use agrees with the decoder on real files.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Ajv2020 } from "ajv/dist/2020.js"
import * as YAML from "yaml"
import { paths, render, renderSchema } from "../../scripts/gen-file-format.ts"
import * as ExperimentFile from "../../src/ExperimentFile.ts"
import { jsonSchema } from "../../src/ExperimentFileSchema.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const validator = new Ajv2020({ strict: false, allErrors: true }).compile(jsonSchema())
const yamlFiles = [
  ...fs.readdirSync(path.join(root, "experiments")).filter((f) => f.endsWith(".yaml")).map((f) => path.join(root, "experiments", f)),
  ...fs.readdirSync(path.join(root, "test/fixtures")).filter((f) => f.endsWith(".yaml")).map((f) => path.join(root, "test/fixtures", f))
]
const decodes = (file: string, text: string) => Exit.isSuccess(Effect.runSyncExit(ExperimentFile.decode(file, text)))

describe("docs/file-format.md", () => {
  it("is what `npm run docs` generates from the Schema today", () => {
    assert.strictEqual(fs.readFileSync(paths.markdown, "utf8"), render(), "docs/file-format.md is stale: run `npm run docs`")
    assert.strictEqual(fs.readFileSync(paths.schema, "utf8"), renderSchema(), "docs/experiment.schema.json is stale: run `npm run docs`")
  })

  it("names every fault of every integration, with the defaults the decoder applies", () => {
    const md = render()
    for (const tag of ["process.kill", "docker.partition", "network.latency", "aws.route53.setWeight"]) {
      assert.include(md, `### \`${tag}\``)
    }
    // The default shown is the one decoding a file without the key produces.
    const file = "kill.yaml"
    const text =
      "name: k\nhypothesis: [{ name: h, probe: { tcp: { host: 127.0.0.1, port: 1 } } }]\nmethod: [{ inject: { fault: process.kill, target: { name: [x] } } }]\n"
    const decoded = Effect.runSync(ExperimentFile.decode(file, text))
    const step = decoded.method[0]!
    assert.isTrue("inject" in step)
    const signal = (step as any).inject.signal
    assert.match(md, new RegExp(`\\| \`signal\` \\|[^\\n]*\\| no \\| \`"${signal}"\` \\|`))
  })
})

describe("the JSON Schema (faultline schema)", () => {
  // JSON Schema cannot say everything a Schema check says (a valid regex, a duration's text,
  // exactly one selector kind), so it may accept a file the decoder refuses; it must never
  // refuse one the decoder accepts, or editors would flag good experiments.
  it("accepts every YAML experiment the decoder accepts", () => {
    let accepted = 0
    for (const file of yamlFiles) {
      const text = fs.readFileSync(file, "utf8")
      if (!decodes(file, text)) continue
      assert.isTrue(validator(YAML.parse(text)), `${file}: ${JSON.stringify(validator.errors?.slice(0, 3))}`)
      accepted++
    }
    assert.isAtLeast(accepted, 3)
  })

  it("refuses a fixture the decoder refuses for a value outside its type (an unknown signal)", () => {
    const file = path.join(root, "test/fixtures/bad-signal.yaml")
    const text = fs.readFileSync(file, "utf8")
    assert.isFalse(decodes(file, text))
    assert.isFalse(validator(YAML.parse(text)))
  })

  it("flags a misspelt key and an unknown fault, so an editor shows them", () => {
    const base = YAML.parse(fs.readFileSync(path.join(root, "experiments/pause-kv.yaml"), "utf8"))
    assert.isTrue(validator(base))
    assert.isFalse(validator({ ...base, objectivez: { rto: "1 second" } }))
    assert.isFalse(validator({ ...base, method: [{ inject: { fault: "process.explode", target: { name: ["kv"] } } }] }))
    assert.isFalse(validator({ ...base, method: [{ inject: { fault: "network.latency", target: { name: ["db"] }, latency: -1 } }] }))
  })

  it("is what `faultline schema` prints", () => {
    const node = path.join(root, "node_modules", ".bin", "node")
    const out = execFileSync(node, ["src/cli/main.ts", "schema"], { cwd: root, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 })
    assert.deepStrictEqual(JSON.parse(out), jsonSchema())
  })

  it("is named by the modeline of every YAML experiment in experiments/", () => {
    for (const file of yamlFiles.filter((f) => f.includes(`${path.sep}experiments${path.sep}`))) {
      const first = fs.readFileSync(file, "utf8").split("\n")[0]
      assert.strictEqual(first, "# yaml-language-server: $schema=../docs/experiment.schema.json", file)
    }
  })
})
