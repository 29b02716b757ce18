/**
 * The README and docs/ show code that runs: each listing is compared with the file it comes
 * from (which its own test runs), every relative link resolves, and the README's YAML
 * experiment is run once through the CLI.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8")

// The fenced blocks of a Markdown file, in order, with their language.
const blocks = (markdown: string): ReadonlyArray<{ readonly lang: string; readonly code: string }> =>
  [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }))

const docs = [
  "README.md",
  "bench/README.md",
  ...fs.readdirSync(path.join(root, "docs"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md")).map((f) => path.join("docs", f))
]

describe("README.md", () => {
  it("is a front door: at most 150 lines", () => {
    assert.isAtMost(read("README.md").split("\n").length, 151)
  })

  it("shows experiments/pause-kv.ts and experiments/pause-kv.yaml verbatim", () => {
    const b = blocks(read("README.md"))
    assert.include(b.filter((x) => x.lang === "ts").map((x) => x.code), read("experiments/pause-kv.ts"))
    assert.include(b.filter((x) => x.lang === "yaml").map((x) => x.code), read("experiments/pause-kv.yaml"))
  })

  it("lists every verdict status with the exit code the CLI returns", async () => {
    const { exitCodeOf: exitCode } = await import("../../src/cli/ExitCode.ts")
    const readme = read("README.md")
    for (const status of ["passed", "deviated", "aborted", "failed", "interrupted", "refused", "planned"] as const) {
      assert.match(readme, new RegExp(`^\\| \`${status}\` \\|.*\\| ${exitCode(status)} \\|$`, "m"), status)
    }
  })
})

describe("docs/", () => {
  it("testing.md shows test/docs/kvPause.test.ts verbatim", () => {
    assert.include(blocks(read("docs/testing.md")).map((x) => x.code), read("test/docs/kvPause.test.ts"))
  })

  it("adding-a-target.md shows every file of examples/file-target verbatim", () => {
    const shown = blocks(read("docs/adding-a-target.md")).map((x) => x.code)
    for (const f of fs.readdirSync(path.join(root, "examples/file-target"))) {
      assert.include(shown, read(path.join("examples/file-target", f)), f)
    }
  })

  it("every relative link resolves to a file", () => {
    for (const doc of docs) {
      for (const m of read(doc).matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)) {
        const target = m[1]!
        if (/^[a-z]+:/.test(target)) continue
        assert.isTrue(fs.existsSync(path.resolve(root, path.dirname(doc), target)), `${doc}: ${target}`)
      }
    }
  })

  it("names no tooling outside the project", () => {
    for (const doc of docs) assert.notMatch(read(doc), /wt-docs|\/work\//, doc)
  })
})

// A real run of the README's YAML experiment: it starts a process, pauses it and reverts.
// Under heavy load the 50 ms latency tolerance may not hold, so the verdict may be
// `deviated`; what must hold is that it runs to a verdict, reverts, and writes its report.
describe("the README's YAML experiment", () => {
  it("runs to a verdict with cleanup ok", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-readme-"))
    const node = path.join(root, "node_modules", ".bin", "node")
    const r = spawnSync(node, ["src/cli/main.ts", "run", "experiments/pause-kv.yaml", "--json", "--out", out], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ""}` }
    })
    const report = JSON.parse(r.stdout)
    assert.include(["passed", "deviated"], report.status, r.stderr)
    assert.strictEqual(r.status, report.status === "passed" ? 0 : 1)
    assert.strictEqual(report.cleanup, "ok")
    for (const f of report.faults) assert.isNotNull(f.revertedAt, f.fault)
    assert.isTrue(fs.existsSync(path.join(out, report.runId, "report.md")))
    fs.rmSync(out, { recursive: true, force: true })
  }, 70_000)
})
