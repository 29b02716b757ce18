import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Ledger, Target } from "../../src/index.ts"

// Leases of the in-memory ledger hold between runs of one process (two runs in one suite):
// a target with a fault open in one run cannot be touched by another until the fault closes
// or the run ends.

let n = 0
const fresh = (name: string) => Target.make({ kind: "memory", id: `${name}-${++n}`, name })

const record = (runId: string, faultId: string, target: Target.Target) => ({
  runId,
  faultId,
  driver: "memory",
  connection: {},
  fault: "memory.break",
  target,
  revert: { driver: "memory", fault: "memory.break", target, data: {} }
})

describe("in-memory ledger leases", () => {
  it.effect("a target leased by one run is refused to another, and re-entrant for the holder", () =>
    Effect.gen(function*() {
      const a = yield* Ledger.makeMemory
      const b = yield* Ledger.makeMemory
      const t = fresh("db")
      yield* a.acquire("run-a", t)
      yield* a.acquire("run-a", t)
      const held = yield* Effect.flip(b.acquire("run-b", t))
      assert.deepInclude(held, { _tag: "LeaseHeld", target: Target.key(t), holder: "run-a", pid: process.pid })
      yield* a.endRun("run-a")
    }))

  it.effect("the lease is released when the run's last open fault on the target closes", () =>
    Effect.gen(function*() {
      const a = yield* Ledger.makeMemory
      const b = yield* Ledger.makeMemory
      const t = fresh("db")
      const other = fresh("cache")
      yield* a.acquire("run-a", t)
      yield* a.intent(record("run-a", "f1", t))
      yield* a.intent(record("run-a", "f2", t))
      yield* a.intent(record("run-a", "f3", other))
      yield* a.closed("f1")
      // f2 is still open on the target: the lease holds.
      assert.strictEqual((yield* Effect.flip(b.acquire("run-b", t)))._tag, "LeaseHeld")
      // A fault open on another target does not keep this one leased.
      yield* a.closed("f2")
      yield* b.acquire("run-b", t)
      yield* b.endRun("run-b")
      yield* a.endRun("run-a")
    }))

  it.effect("closing a fault of a run that does not hold the lease leaves the holder's lease alone", () =>
    Effect.gen(function*() {
      const a = yield* Ledger.makeMemory
      const b = yield* Ledger.makeMemory
      const c = yield* Ledger.makeMemory
      const t = fresh("db")
      yield* a.acquire("run-a", t)
      // Run b journals and closes a fault on the target without holding its lease.
      yield* b.intent(record("run-b", "g1", t))
      yield* b.closed("g1")
      assert.strictEqual((yield* Effect.flip(c.acquire("run-c", t)))._tag, "LeaseHeld")
      yield* a.endRun("run-a")
      yield* c.acquire("run-c", t)
      yield* c.endRun("run-c")
    }))

  it.effect("ending a run releases its leases only, and closing an unknown fault is a no-op", () =>
    Effect.gen(function*() {
      const a = yield* Ledger.makeMemory
      const b = yield* Ledger.makeMemory
      const c = yield* Ledger.makeMemory
      const ta = fresh("db")
      const tb = fresh("cache")
      yield* a.acquire("run-a", ta)
      yield* b.acquire("run-b", tb)
      yield* a.closed("never-intended")
      yield* a.endRun("run-a")
      yield* c.acquire("run-c", ta)
      assert.strictEqual((yield* Effect.flip(c.acquire("run-c", tb)))._tag, "LeaseHeld")
      yield* b.endRun("run-b")
      yield* c.endRun("run-c")
    }))

  it.effect("open lists intents and injected faults, not closed ones, with their state and revert data", () =>
    Effect.gen(function*() {
      const a = yield* Ledger.makeMemory
      const t = fresh("db")
      yield* a.intent(record("run-a", "f1", t))
      yield* a.intent(record("run-a", "f2", t))
      yield* a.intent(record("run-a", "f3", t))
      const revert = { driver: "memory", fault: "memory.break", target: t, data: { was: "running" } }
      yield* a.injected("f2", revert)
      yield* a.injected("unknown", revert)
      yield* a.closed("f3")
      const open = yield* a.open
      assert.deepStrictEqual(open.map((r) => [r.faultId, r.state]), [["f1", "intent"], ["f2", "injected"]])
      assert.deepStrictEqual(open[1]!.revert.data, { was: "running" })
    }))
})
