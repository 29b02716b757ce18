import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "vitest"

// The dependency direction is checked by dependency-cruiser with the project's own rules
// (`npm run check:deps`, run by CI). These tests show the check passes on the tree and fails
// on an upward import.
const root = path.resolve(import.meta.dirname, "../..")
const config = path.join(root, ".dependency-cruiser.cjs")
const bin = path.join(root, "node_modules", ".bin", "depcruise")

const cruise = (cwd: string) => spawnSync(bin, ["src", "--config", config, "--output-type", "err"], { cwd, encoding: "utf8", timeout: 120_000 })

const tree = (files: Record<string, string>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-deps-"))
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true, module: "NodeNext" } }))
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), text)
  }
  return dir
}

describe("dependency direction (cli -> run/report -> integrations -> targets/probes/proxy -> core)", () => {
  it("the source tree has no violation", () => {
    const r = cruise(root)
    assert.strictEqual(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /no dependency violations found \(\d+ modules/)
  })

  it("an upward import from core fails the check, naming the rule", () => {
    const dir = tree({
      "src/core/Model.ts": `import { main } from "../cli/main.ts"\nexport const m = main\n`,
      "src/cli/main.ts": `export const main = 1\n`
    })
    const r = cruise(dir)
    assert.notStrictEqual(r.status, 0)
    assert.match(r.stdout, /core-is-the-center/)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("a target importing another target, or the integration list, fails the check", () => {
    const dir = tree({
      "src/targets/a/Driver.ts": `import { b } from "../b/Driver.ts"\nimport { all } from "../../integrations.ts"\nexport const a = [b, all]\n`,
      "src/targets/b/Driver.ts": `export const b = 1\n`,
      "src/integrations.ts": `export const all = 2\n`
    })
    const r = cruise(dir)
    assert.notStrictEqual(r.status, 0)
    assert.match(r.stdout, /a-target-is-one-folder/)
    assert.match(r.stdout, /targets-point-inward/)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
