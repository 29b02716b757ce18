import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { afterEach, assert, describe, it } from "vitest"
import * as Os from "../../src/core/Os.ts"
import * as Target from "../../src/core/Target.ts"
import * as FileLedger from "../../src/run/FileLedger.ts"
import * as Recover from "../../src/run/Recover.ts"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "faultline-revert-"))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const DEAD = 4194305 // above Linux's default pid_max: no process has it
const started: Array<number> = []

afterEach(() => {
  for (const pid of started.splice(0)) Os.signal(pid, "SIGKILL", false)
})

// A process carrying a run label, as the process driver starts them.
const labelled = async (label: string) => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
    env: { ...process.env, [Os.LABEL_ENV]: label },
    stdio: "ignore",
    detached: true
  })
  child.unref()
  started.push(child.pid!)
  for (let i = 0; i < 200 && !Os.labelled(label).includes(child.pid!); i++) await sleep(10)
  return child.pid!
}

const killRecord = (dir: string, runId: string, label: string, pid: number) => {
  const spec = { name: "svc", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] }
  const target = Target.make({ kind: "process", id: String(pid), name: "svc" })
  const data = { name: "svc", pid, group: true, spec, label, signal: "SIGKILL" }
  FileLedger.appendLine(dir, runId, { type: "run", runId, pid: DEAD, journal: null, at: 0, watchdogPid: null })
  FileLedger.appendLine(dir, runId, {
    type: "intent",
    runId,
    faultId: `${runId}/f1`,
    driver: "process",
    connection: {},
    fault: "process.kill",
    target,
    revert: { driver: "process", fault: "process.kill", target, data }
  })
}

describe("reverting process.kill from the ledger finds the process by its run label", () => {
  it("a copy the runner's own revert started (the original pid dead) is found: no second copy", async () => {
    const dir = tmp()
    const label = `test-${process.pid}-copy.svc`
    await labelled(label)
    killRecord(dir, "dead-copy", label, DEAD)
    const { rows, remaining } = await Effect.runPromise(Recover.recover(dir))
    assert.deepStrictEqual(rows.map((r) => r.result), ["reverted"])
    assert.strictEqual(remaining, 0)
    await sleep(100)
    assert.lengthOf(Os.labelled(label), 1, "exactly one copy runs")
  })

  it("no copy runs: the revert starts exactly one, labelled like the original", async () => {
    const dir = tmp()
    const label = `test-${process.pid}-none.svc`
    killRecord(dir, "dead-none", label, DEAD)
    await Effect.runPromise(Recover.recover(dir))
    for (let i = 0; i < 200 && Os.labelled(label).length === 0; i++) await sleep(10)
    const copies = Os.labelled(label)
    started.push(...copies)
    assert.lengthOf(copies, 1)
    // Reverting again (the record is closed now; a fresh record as a second watchdog would see it).
    killRecord(dir, "dead-none-2", label, DEAD)
    await Effect.runPromise(Recover.recover(dir))
    await sleep(100)
    assert.lengthOf(Os.labelled(label), 1, "a second revert starts no second copy")
  })
})

describe("a revert the watchdog cannot finish is not called done", () => {
  it("leaves the fault open and the run not closed, with a failed row", async () => {
    const dir = tmp()
    const target = Target.make({ kind: "docker", id: "", name: "gone" })
    FileLedger.appendLine(dir, "dead-empty", { type: "run", runId: "dead-empty", pid: DEAD, journal: null, at: 0, watchdogPid: null })
    // A Docker intent whose revert data names no container, on a target with no id: the
    // revert must fail rather than close a fault it never checked.
    FileLedger.appendLine(dir, "dead-empty", {
      type: "intent",
      runId: "dead-empty",
      faultId: "dead-empty/f1",
      driver: "docker",
      connection: { socketPath: null },
      fault: "docker.partition",
      target,
      revert: { driver: "docker", fault: "docker.partition", target, data: {} }
    })
    const { rows, remaining } = await Effect.runPromise(Recover.recover(dir))
    const row = rows.find((r) => r.faultId === "dead-empty/f1")
    assert.strictEqual(row?.result, "failed", JSON.stringify(rows))
    assert.match(row!.detail, /names no container/)
    assert.strictEqual(remaining, 1)
    assert.isFalse(FileLedger.readRun(dir, "dead-empty")!.closed)
  })
})
