// A ledger is data, not code; run files are private and never followed through symlinks.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileJournal from "../../src/run/FileJournal.ts"
import * as FileLedger from "../../src/run/FileLedger.ts"
import * as Recover from "../../src/run/Recover.ts"
import * as Report from "../../src/report/Report.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const binDir = path.join(root, "node_modules", ".bin")
const node = path.join(binDir, "node")
const dirs: Array<string> = []
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-trust-"))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})
// The sealing key of these CLI runs: a private file of the test's own.
const keyDir = tmp()
const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`, FAULTLINE_LEDGER_KEY: path.join(keyDir, "k", "ledger.key") }
const cli = (args: ReadonlyArray<string>, cwd = root) => {
  const r = spawnSync(node, [path.join(root, "bin/faultline.js"), ...args], { cwd, env, encoding: "utf8", timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8)

describe("a crafted ledger runs nothing", () => {
  it("`faultline recover` in a directory holding a crafted faultline-runs/ledger imports, spawns and appends nothing", { timeout: 90_000 }, async () => {
    const cwd = tmp()
    const elsewhere = tmp()
    const victim = path.join(elsewhere, "victim.txt")
    fs.writeFileSync(victim, "original\n")
    const marker = (n: number) => path.join(elsewhere, `pwned-${n}`)
    const pid = deadPid()
    const target = { kind: "process", id: "x", name: "x", labels: {} }
    const spec = (n: number) => ({ name: "x", command: node, args: ["-e", `require("fs").writeFileSync(${JSON.stringify(marker(n))}, "1")`] })
    const intent = (faultId: string, driver: string, fault: string, data: Record<string, unknown>, seal?: string) => ({
      type: "intent",
      runId: "evil",
      faultId,
      driver,
      connection: { reverter: `data:text/javascript,require("fs").writeFileSync(${JSON.stringify(marker(9))}, "1")` },
      fault,
      target,
      revert: { driver, fault, target, data },
      ...(seal === undefined ? {} : { seal })
    })
    const lines = [
      { type: "run", runId: "evil", pid, journal: victim, at: 0, watchdogPid: null },
      // A dead pid and a spec: the old reverter restarted "the process" by running the spec.
      intent("evil/f1", "process", "process.kill", { name: "x", pid, spec: spec(1) }),
      intent("evil/f2", "process", "process.restart", { name: "x", pid, spec: spec(2) }, "0".repeat(64)),
      // A driver name that is a module URL, and one that names nothing.
      intent("evil/f3", `data:text/javascript,require("fs").writeFileSync(${JSON.stringify(marker(3))}, "1")`, "x.y", {}),
      intent("evil/f4", "no-such-driver", "x.y", {})
    ]
    fs.mkdirSync(path.join(cwd, "faultline-runs", "ledger", "runs"), { recursive: true })
    fs.writeFileSync(path.join(cwd, "faultline-runs", "ledger", "runs", "evil.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n")

    const r = cli(["recover", "--json"], cwd)
    // Long enough for a detached child that was spawned to have written its marker.
    await sleep(1500)
    for (const n of [1, 2, 3, 9]) assert.isFalse(fs.existsSync(marker(n)), `marker ${n}: code ran\n${r.stdout}${r.stderr}`)
    assert.strictEqual(fs.readFileSync(victim, "utf8"), "original\n", "a file outside the run folder was appended to")
    // Nothing was done, and recover says so: the faults stay open and it exits 1.
    assert.strictEqual(r.code, 1, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.strictEqual(out.remaining, 4)
    assert.deepStrictEqual(out.rows.map((x: { result: string }) => x.result), ["failed", "failed", "failed", "failed"])
    for (const row of out.rows) assert.include(row.detail, "seal")
  })

  it.effect("a journal outside the ledger's run folders, or one that does not verify, is never appended to", () =>
    Effect.gen(function*() {
      const { journalOf } = yield* Effect.promise(() => import("../../src/run/LedgerTrust.ts"))
      const out = tmp()
      const ledger = path.join(out, "ledger")
      fs.mkdirSync(ledger, { mode: 0o700 })
      // A real journal of run r1 in its run folder.
      const runDir = path.join(out, "r1")
      yield* Effect.scoped(
        Effect.flatMap(FileJournal.make({ runId: "r1", file: path.join(runDir, "journal.jsonl") }), (j) => j.append({ _tag: "Note", message: "hi" }))
      )
      assert.strictEqual(journalOf(ledger, "r1", path.join(runDir, "journal.jsonl")).problem, null)
      // Another run's journal, a forged chain, a symlink, a path elsewhere: each refused.
      assert.include(journalOf(ledger, "r2", path.join(runDir, "journal.jsonl")).problem, "not the journal of run r2")
      const forged = path.join(out, "r3")
      fs.mkdirSync(forged, { mode: 0o700 })
      fs.writeFileSync(path.join(forged, "journal.jsonl"), JSON.stringify({ seq: 0, runId: "r3", prev: "x", hash: "y" }) + "\n", { mode: 0o600 })
      assert.include(journalOf(ledger, "r3", path.join(forged, "journal.jsonl")).problem, "hash chain")
      const linked = path.join(out, "r4")
      fs.mkdirSync(linked, { mode: 0o700 })
      fs.symlinkSync(path.join(runDir, "journal.jsonl"), path.join(linked, "journal.jsonl"))
      assert.include(journalOf(ledger, "r1", path.join(linked, "journal.jsonl")).problem, "symbolic link")
      const far = tmp()
      fs.copyFileSync(path.join(runDir, "journal.jsonl"), path.join(far, "journal.jsonl"))
      assert.include(journalOf(ledger, "r1", path.join(far, "journal.jsonl")).problem, "not in a run folder")
    }))
})

describe("a restart from the ledger", () => {
  // This process seals with a key of the test's own.
  const restartRecord = (dir: string, runId: string, marker: string) => {
    const pid = deadPid()
    const target = { kind: "process", id: String(pid), name: "svc", labels: {} }
    const spec = {
      name: "svc",
      command: node,
      args: ["-e", `require("fs").writeFileSync(${JSON.stringify(marker)}, process.env.FL_TEST_DB_PASSWORD ?? "unset")`],
      env: { FL_TEST_DB_PASSWORD: "value-the-run-had" }
    }
    FileLedger.appendLine(dir, runId, { type: "run", runId, pid, journal: null, at: 0, watchdogPid: null })
    FileLedger.appendLine(dir, runId, {
      type: "intent",
      runId,
      faultId: `${runId}/f1`,
      driver: "process",
      connection: {},
      fault: "process.kill",
      target,
      revert: { driver: "process", fault: "process.kill", target, data: { name: "svc", pid, spec } }
    } as any)
  }
  const waitFor = async (file: string) => {
    for (let i = 0; i < 100 && !fs.existsSync(file); i++) await sleep(50)
    await sleep(50)
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null
  }

  it("takes environment values from the reverting user's environment, never from the ledger (which holds names only)", { timeout: 30_000 }, async () => {
    process.env.FAULTLINE_LEDGER_KEY = path.join(tmp(), "key", "ledger.key")
    const dir = path.join(tmp(), "ledger")
    const marker = path.join(tmp(), "restarted")
    restartRecord(dir, "env-run", marker)
    const file = fs.readFileSync(path.join(dir, "runs", "env-run.jsonl"), "utf8")
    assert.notInclude(file, "value-the-run-had")
    assert.include(file, "FL_TEST_DB_PASSWORD")
    process.env.FL_TEST_DB_PASSWORD = "value-of-the-reverter"
    try {
      const r = await Effect.runPromise(Recover.recover(dir))
      assert.deepStrictEqual(r.rows.map((x) => x.result), ["reverted"], JSON.stringify(r.rows))
      assert.strictEqual(await waitFor(marker), "value-of-the-reverter")
    } finally {
      delete process.env.FL_TEST_DB_PASSWORD
    }
    // A name the reverting environment lacks: the restart is refused, not run without it.
    const dir2 = path.join(tmp(), "ledger")
    const marker2 = path.join(tmp(), "restarted")
    restartRecord(dir2, "env-missing", marker2)
    const r2 = await Effect.runPromise(Recover.recover(dir2))
    assert.deepStrictEqual(r2.rows.map((x) => x.result), ["failed"])
    assert.include(r2.rows[0]!.detail, "FL_TEST_DB_PASSWORD")
    assert.isNull(await waitFor(marker2))
  })

  it("a sealed record edited afterwards (another command) is refused", { timeout: 30_000 }, async () => {
    process.env.FAULTLINE_LEDGER_KEY = path.join(tmp(), "key", "ledger.key")
    const dir = path.join(tmp(), "ledger")
    const marker = path.join(tmp(), "restarted")
    restartRecord(dir, "edited", path.join(tmp(), "never"))
    const f = path.join(dir, "runs", "edited.jsonl")
    const lines = fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    lines[1].revert.data.spec.args = ["-e", `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`]
    fs.writeFileSync(f, lines.map((l) => JSON.stringify(l)).join("\n") + "\n")
    const r = await Effect.runPromise(Recover.recover(dir))
    assert.deepStrictEqual(r.rows.map((x) => x.result), ["failed"])
    assert.include(r.rows[0]!.detail, "seal does not match")
    assert.isNull(await waitFor(marker))
  })
})

describe("run files are private and never followed through symlinks", () => {
  it("a run's ledger, journal and reports are 0600 in 0700 folders", { timeout: 90_000 }, () => {
    const out = tmp()
    const r = cli(["run", "test/fixtures/kill-one.yaml", "--out", out])
    assert.strictEqual(r.code, 0, r.stderr)
    const run = fs.readdirSync(out).find((d) => d !== "ledger")!
    assert.strictEqual(mode(path.join(out, run)), "700")
    for (const f of ["journal.jsonl", "report.json", "report.md", "report.html"]) assert.strictEqual(mode(path.join(out, run, f)), "600", f)
    assert.strictEqual(mode(path.join(out, "ledger")), "700")
    assert.strictEqual(mode(path.join(out, "ledger", "runs")), "700")
    assert.strictEqual(mode(path.join(out, "ledger", "runs", `${run}.jsonl`)), "600")
  })

  it("a ledger folder writable by others, or a symlinked one, is refused with exit 2 (recover and run)", { timeout: 90_000 }, () => {
    const out = tmp()
    const ledger = path.join(out, "ledger")
    fs.mkdirSync(path.join(ledger, "runs"), { recursive: true })
    fs.chmodSync(ledger, 0o777)
    const r = cli(["recover", "--ledger", ledger])
    assert.strictEqual(r.code, 2, r.stdout + r.stderr)
    assert.include(r.stderr, "writable by")
    fs.chmodSync(ledger, 0o700)
    fs.writeFileSync(path.join(ledger, "runs", "x.jsonl"), "", { mode: 0o666 })
    fs.chmodSync(path.join(ledger, "runs", "x.jsonl"), 0o666)
    assert.strictEqual(cli(["recover", "--ledger", ledger]).code, 2)
    // A pre-planted symlink in a shared --out: the run refuses before it starts anything.
    const shared = tmp()
    const theirs = tmp()
    fs.symlinkSync(theirs, path.join(shared, "ledger"))
    const run = cli(["run", "test/fixtures/kill-one.yaml", "--out", shared])
    assert.strictEqual(run.code, 2, run.stdout + run.stderr)
    assert.include(run.stderr, "symbolic link")
    assert.deepStrictEqual(fs.readdirSync(theirs), [])
  })

  it.effect("ledger, journal and report writes refuse a planted symlink and leave its target alone", () =>
    Effect.gen(function*() {
      const victim = path.join(tmp(), "victim.txt")
      fs.writeFileSync(victim, "original\n")
      const ledger = path.join(tmp(), "ledger")
      fs.mkdirSync(path.join(ledger, "runs"), { recursive: true, mode: 0o700 })
      fs.symlinkSync(victim, path.join(ledger, "runs", "r1.jsonl"))
      assert.throws(() => FileLedger.appendLine(ledger, "r1", { type: "run-closed", by: "test" }))
      const runDir = path.join(tmp(), "run")
      fs.mkdirSync(runDir, { mode: 0o700 })
      fs.symlinkSync(victim, path.join(runDir, "report.json"))
      const report = Report.fromJournal([])
      const written = yield* Effect.exit(Report.write(runDir, report).pipe(Effect.provide(NodeFileSystem.layer)))
      assert.strictEqual(written._tag, "Failure")
      fs.symlinkSync(victim, path.join(runDir, "journal.jsonl"))
      const appended = yield* Effect.exit(FileJournal.appendTo(path.join(runDir, "journal.jsonl"), { _tag: "Note", message: "x" }))
      assert.strictEqual(appended._tag, "Failure")
      const made = yield* Effect.exit(Effect.scoped(FileJournal.make({ runId: "r", file: path.join(runDir, "journal.jsonl") })))
      assert.strictEqual(made._tag, "Failure")
      assert.strictEqual(fs.readFileSync(victim, "utf8"), "original\n")
    }))
})
