import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Fault, Hypothesis, Selector, Target } from "../../src/index.ts"
import * as FileLedger from "../../src/run/FileLedger.ts"
import * as Recover from "../../src/run/Recover.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "faultline-ledger-"))
// These tests are about the ledger: the fault breaks what the probe sees, which is observed, not judged.
const h = Hypothesis.make("healthy", { probe: healthy(["x"]), every: "10 millis", during: "observe" })
const longBreak = (name: string, ms: number) =>
  Experiment.make({
    name: `break ${name}`,
    hypothesis: h,
    method: Effect.andThen(Fault.inject(breakTargets(Selector.name(name))), Effect.sleep(ms))
  })

// A pid that certainly belongs to no process any more.
const deadPid = () => {
  const r = spawnSync(process.execPath, ["-e", "0"])
  return r.pid!
}

describe("file ledger", () => {
  it.effect("records intent, injection and closing, fsync'ed, and closes the run", () =>
    Effect.gen(function*() {
      const dir = tmp()
      const fiber = yield* Effect.forkChild(
        Experiment.run(longBreak("a", 100), { runId: "run-1" }).pipe(
          Effect.provide(FileLedger.layer({ dir, watchdog: false }))
        )
      )
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r.verdict.status, "passed")
      const lines = fs.readFileSync(path.join(dir, "runs", "run-1.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).type)
      assert.deepStrictEqual(lines, ["run", "intent", "injected", "closed", "run-closed"])
      const run = FileLedger.readRun(dir, "run-1")!
      assert.isTrue(run.closed)
      assert.deepStrictEqual(FileLedger.openFaults(run), [])
      assert.deepStrictEqual(fs.readdirSync(path.join(dir, "leases")), [])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "x" }] }))))

  it.effect("lease: a second run on the same target is refused, naming the first; free again afterwards", () =>
    Effect.gen(function*() {
      const dir = tmp()
      const ledger = FileLedger.layer({ dir, watchdog: false })
      const first = yield* Effect.forkChild(Experiment.run(longBreak("a", 10_000), { runId: "first" }).pipe(Effect.provide(ledger)))
      yield* TestClock.adjust("2 seconds")
      const second = yield* Effect.forkChild(Experiment.run(longBreak("a", 100), { runId: "second" }).pipe(Effect.provide(ledger)))
      yield* TestClock.adjust("2 seconds")
      const r2 = yield* Fiber.join(second)
      assert.strictEqual(r2.verdict.status, "failed")
      assert.include(r2.verdict.reason, "held by run first")
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a"])
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(first)).verdict.status, "passed")
      const third = yield* Effect.forkChild(Experiment.run(longBreak("a", 100), { runId: "third" }).pipe(Effect.provide(ledger)))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(third)).verdict.status, "passed")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "x" }] }))))

  it.effect("in-memory ledgers hold leases between runs of one process too", () =>
    Effect.gen(function*() {
      const first = yield* Effect.forkChild(Experiment.run(longBreak("a", 10_000), { runId: "m1" }))
      yield* TestClock.adjust("2 seconds")
      const second = yield* Effect.forkChild(Experiment.run(longBreak("a", 100), { runId: "m2" }))
      yield* TestClock.adjust("2 seconds")
      assert.include((yield* Fiber.join(second)).verdict.reason, "held by run m1")
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(first)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "x" }] }))))

  it.effect("a run refuses a target with faults left open by a dead run, naming it", () =>
    Effect.gen(function*() {
      const dir = tmp()
      const target = Target.make({ kind: "memory", id: "1", name: "a" })
      FileLedger.appendLine(dir, "dead-run", { type: "run", runId: "dead-run", pid: deadPid(), journal: null, at: 0, watchdogPid: null })
      FileLedger.appendLine(dir, "dead-run", {
        type: "intent",
        runId: "dead-run",
        faultId: "dead-run/f1",
        driver: "memory",
        connection: {},
        fault: "memory.break",
        target,
        revert: { driver: "memory", fault: "memory.break", target, data: { name: "a" } }
      })
      const fiber = yield* Effect.forkChild(
        Experiment.run(longBreak("a", 100), { runId: "new" }).pipe(
          Effect.provide(FileLedger.layer({ dir, watchdog: false }))
        )
      )
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r.verdict.status, "failed")
      assert.include(r.verdict.reason, "open faults left by run dead-run (memory.break dead-run/f1)")
      assert.deepStrictEqual((yield* MemoryDriver).state.calls, [])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "x" }] }))))
})

describe("recover", () => {
  it("reverts what a dead run left (intent-only and injected), idempotently; the CLI says so and exits 0", async () => {
    const dir = tmp()
    const marker = `faultline-test-recover-${process.pid}`
    const victims = [0, 1].map(() => spawn(process.execPath, ["-e", "setInterval(()=>{},1000)", marker], { stdio: "ignore", detached: true }))
    try {
      // Another OS process, not the Clock: poll (bounded, 10 s) until both victims have exec'd
      // node with our marker, instead of sleeping a fixed time and hoping they did.
      const pids = victims.map((v) => v.pid!)
      const execed = (pid: number) => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(marker)
        } catch {
          return false
        }
      }
      for (const deadline = Date.now() + 10_000; !pids.every(execed);) {
        assert.isBelow(Date.now(), deadline, "the victims did not start within 10 s")
        await new Promise((r) => setTimeout(r, 10))
      }
      for (const pid of pids) process.kill(pid, "SIGSTOP")
      const runId = "crashed"
      FileLedger.appendLine(dir, runId, { type: "run", runId, pid: deadPid(), journal: null, at: 0, watchdogPid: null })
      pids.forEach((pid, i) => {
        const target = Target.make({ kind: "process", id: String(pid), name: `v${i}` })
        const revert = { driver: "process", fault: "process.pause", target, data: { name: `v${i}`, pid, group: false } }
        FileLedger.appendLine(dir, runId, {
          type: "intent",
          runId,
          faultId: `${runId}/f${i}`,
          driver: "process",
          connection: {},
          fault: "process.pause",
          target,
          revert
        })
        if (i === 1) FileLedger.appendLine(dir, runId, { type: "injected", faultId: `${runId}/f${i}`, revert })
      })
      // The state letter after the command name in /proc/PID/stat: T stopped, Z zombie (a
      // victim killed instead of resumed stays a zombie of this process until reaped).
      const state = (pid: number) => {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
      }
      const stopped = (pid: number) => state(pid) === "T"
      const running = (pid: number) => ["R", "S", "D"].includes(state(pid))
      assert.isTrue(pids.every(stopped))
      const out = execFileSync(process.execPath, [path.join(root, "src/cli/main.ts"), "recover", "--ledger", dir], { encoding: "utf8" })
      assert.include(out, "process.pause f0")
      assert.include(out, "process.pause f1")
      assert.include(out, "0 faults left open")
      assert.isTrue(pids.every(running), "resumed, not killed")
      const again = await Effect.runPromise(Recover.recover(dir))
      assert.deepStrictEqual(again, { rows: [], remaining: 0 })
      assert.isTrue(FileLedger.readRun(dir, runId)!.closed)
    } finally {
      for (const v of victims) v.kill("SIGKILL")
    }
  })

  it("leaves faults of a live run alone", async () => {
    const dir = tmp()
    const target = Target.make({ kind: "process", id: "1", name: "x" })
    FileLedger.appendLine(dir, "live", { type: "run", runId: "live", pid: process.pid, journal: null, at: 0, watchdogPid: null })
    FileLedger.appendLine(dir, "live", {
      type: "intent",
      runId: "live",
      faultId: "live/f1",
      driver: "process",
      connection: {},
      fault: "process.pause",
      target,
      revert: { driver: "process", fault: "process.pause", target, data: { name: "x", pid: 1 } }
    })
    const { rows, remaining } = await Effect.runPromise(Recover.recover(dir))
    assert.strictEqual(rows[0]!.result, "skipped (run is live)")
    assert.strictEqual(remaining, 0)
  })
})
