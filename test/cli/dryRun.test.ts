// Dry runs and plans change nothing: no `processes:` started, no module set-up run; what was
// not done is said in the journal, and a module that cannot be planned without running its
// set-up is refused with the reason.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const binDir = path.join(root, "node_modules", ".bin")
const dirs: Array<string> = []
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-dry-"))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})
const cli = (args: ReadonlyArray<string>, extra: Record<string, string> = {}) => {
  const r = spawnSync(path.join(binDir, "node"), [path.join(root, "bin/faultline.js"), ...args], {
    cwd: root,
    env: { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`, ...extra },
    encoding: "utf8",
    timeout: 60_000
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("dry runs and plans are side-effect free", () => {
  it("run --dry-run starts none of the file's processes, resolves their targets and journals that they were not started", { timeout: 60_000 }, async () => {
    const dir = tmp()
    const marker = path.join(dir, "started")
    const file = path.join(dir, "exp.yaml")
    fs.writeFileSync(
      file,
      `name: dry
processes:
  - name: victim
    command: node
    args: ["-e", ${JSON.stringify(`require("fs").writeFileSync(${JSON.stringify(marker)}, "x"); console.log("READY"); setInterval(() => {}, 1000)`)}]
    ready: READY
hypothesis:
  - name: h
    probe: { command: { command: node, args: ["-e", "0"] } }
method:
  - inject: { fault: process.kill, target: { name: [victim] }, signal: SIGKILL }
`
    )
    const out = path.join(dir, "out")
    const r = cli(["run", file, "--dry-run", "--out", out])
    await sleep(500)
    assert.isFalse(fs.existsSync(marker), "a declared process was started by a dry run")
    assert.strictEqual(r.code, 0, r.stdout + r.stderr)
    const run = fs.readdirSync(out).find((d) => d !== "ledger")!
    const events = fs.readFileSync(path.join(out, run, "journal.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).event)
    const resolved = events.find((e) => e._tag === "TargetsResolved")
    assert.deepStrictEqual(resolved.targets.map((t: { name: string }) => t.name), ["victim"])
    assert.isDefined(events.find((e) => e._tag === "Note" && /processes \(victim\) were not started/.test(e.message)))
    assert.isUndefined(events.find((e) => e._tag === "FaultInjected"))
  })

  it("plan refuses a module whose default export is an Effect (its set-up would run), saying why; nothing runs", { timeout: 60_000 }, () => {
    const marker = path.join(tmp(), "setup")
    const r = cli(["plan", "test/fixtures/setup-in-default.ts"], { FAULTLINE_TEST_MARKER: marker })
    assert.strictEqual(r.code, 2, r.stdout + r.stderr)
    assert.include(r.stderr, "export const setup")
    assert.isFalse(fs.existsSync(marker), "plan ran the module's set-up")
    const dry = cli(["run", "test/fixtures/setup-in-default.ts", "--dry-run", "--out", tmp()], { FAULTLINE_TEST_MARKER: marker })
    assert.strictEqual(dry.code, 2)
    assert.isFalse(fs.existsSync(marker), "--dry-run ran the module's set-up")
  })

  it("a module's `setup` export: plan never runs it (and says so), run does", { timeout: 60_000 }, () => {
    const marker = path.join(tmp(), "setup")
    const p = cli(["plan", "test/fixtures/setup-split.ts"], { FAULTLINE_TEST_MARKER: marker })
    assert.strictEqual(p.code, 0, p.stdout + p.stderr)
    assert.isFalse(fs.existsSync(marker), "plan ran `setup`")
    const out = tmp()
    const dry = cli(["run", "test/fixtures/setup-split.ts", "--dry-run", "--out", out], { FAULTLINE_TEST_MARKER: marker })
    assert.strictEqual(dry.code, 0, dry.stderr)
    assert.isFalse(fs.existsSync(marker))
    const run = fs.readdirSync(out).find((d) => d !== "ledger")!
    assert.include(fs.readFileSync(path.join(out, run, "journal.jsonl"), "utf8"), "was not run")
    const r = cli(["run", "test/fixtures/setup-split.ts", "--out", tmp()], { FAULTLINE_TEST_MARKER: marker })
    assert.strictEqual(r.code, 0, r.stdout + r.stderr)
    assert.strictEqual(fs.readFileSync(marker, "utf8"), "set-up ran")
  })
})
