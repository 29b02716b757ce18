/**
 * Second, independent tests for features that rested on one test each: the after-check
 * verdict (with every revert succeeding), leases on the in-memory ledger (refused while
 * held, free again once the fault is reverted), and the RPO window from a hand-built
 * journal whose lost acknowledged writes are known.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Fault, Hypothesis, Journal, Probe, Selector, Stopwatch, Tolerance } from "../../src/index.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const events = (r: Experiment.RunResult) => r.entries.map((e) => e.event)

describe("after-check verdict", () => {
  it.effect("healthy during the method, reverts all succeed, unhealthy after: deviated with cleanup ok", () =>
    Effect.gen(function*() {
      // The service breaks on the way back: it answers until the fault is reverted, then
      // stops (a recovery that brings back a broken replica). Nothing fails to revert.
      const comesBackBroken = Probe.make(
        "answers until the revert",
        Effect.gen(function*() {
          const d = yield* MemoryDriver
          if (d.state.calls.some((c) => c.startsWith("revert:"))) return yield* Effect.fail(new Error("down since the revert"))
          return "ok"
        })
      )
      const h = Hypothesis.make("service", {
        probe: comesBackBroken,
        every: "10 millis",
        samples: 20,
        // A ratio, so that a sample racing the revert at the method's end cannot decide.
        tolerance: Tolerance.successRatio({ atLeast: 0.8, confidence: 0.95 })
      })
      const exp = Experiment.make({
        name: "broken on the way back",
        hypothesis: h,
        method: Effect.andThen(Fault.inject(breakTargets(Selector.name("a"))), Effect.sleep("2 seconds"))
      })
      const fiber = yield* Effect.forkChild(Experiment.run(exp))
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r.verdict.status, "deviated")
      assert.strictEqual(r.verdict.cleanup, "ok")
      assert.include(r.verdict.reason, "after")
      const checked = (phase: string) => events(r).find((e) => e._tag === "HypothesisChecked" && e.phase === phase)
      const before = checked("before")
      const during = checked("during")
      const after = checked("after")
      assert.isTrue(before?._tag === "HypothesisChecked" && before.met)
      assert.isTrue(during?._tag === "HypothesisChecked" && during.met)
      assert.isTrue(after?._tag === "HypothesisChecked" && !after.met && after.good === 0)
      assert.isTrue(events(r).some((e) => e._tag === "FaultReverted"))
      assert.isFalse(events(r).some((e) => e._tag === "FaultRevertFailed"))
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a", "revert:memory.break:a"])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }] }))))
})

describe("leases (in-memory ledger)", () => {
  it.effect("a second run on a held target gets LeaseHeld; the lease is free once the fault is reverted, before the run ends", () =>
    Effect.gen(function*() {
      const h = Hypothesis.make("x up", { probe: healthy(["x"]), every: "10 millis", samples: 3, tolerance: Tolerance.all() })
      const breakA = (name: string, method: Effect.Effect<unknown, unknown, any>) => Experiment.make({ name, hypothesis: h, method })
      // The holder breaks `a` for one second, reverts it, then keeps running for ten.
      const holder = breakA(
        "holder",
        Effect.andThen(Effect.scoped(Effect.andThen(Fault.inject(breakTargets(Selector.name("a"))), Effect.sleep("1 second"))), Effect.sleep("10 seconds"))
      )
      const short = (name: string) => breakA(name, Effect.andThen(Fault.inject(breakTargets(Selector.name("a"))), Effect.sleep("100 millis")))

      const first = yield* Effect.forkChild(Experiment.run(holder, { runId: "holder-run" }))
      yield* TestClock.adjust("500 millis")
      const refused = yield* Effect.forkChild(Experiment.run(short("refused"), { runId: "refused-run" }))
      // Long enough for the whole short run had it not been refused, and still before the
      // holder reverts at about 1 s.
      yield* TestClock.adjust("300 millis")
      const r2 = yield* Fiber.join(refused)
      assert.strictEqual(r2.verdict.status, "failed")
      assert.include(r2.verdict.reason, "LeaseHeld")
      assert.include(r2.verdict.reason, "held by run holder-run")
      assert.isFalse(events(r2).some((e) => e._tag === "FaultInjected" || e._tag === "FaultInjecting"))
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a"])

      // The holder reverted `a` at about 1 s and is still running (sleeping its ten seconds).
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a", "revert:memory.break:a"])
      const later = yield* Effect.forkChild(Experiment.run(short("later"), { runId: "later-run" }))
      yield* TestClock.adjust("2 seconds")
      const r3 = yield* Fiber.join(later)
      assert.strictEqual(r3.verdict.status, "passed", r3.verdict.reason)
      assert.isUndefined(first.pollUnsafe(), "the holder is still running")
      yield* TestClock.adjust("1 minute")
      const r1 = yield* Fiber.join(first)
      assert.strictEqual(r1.verdict.status, "passed", r1.verdict.reason)
      assert.deepStrictEqual(d.state.calls, [
        "inject:memory.break:a",
        "revert:memory.break:a",
        "inject:memory.break:a",
        "revert:memory.break:a"
      ])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "x" }] }))))
})

describe("RPO window from heartbeat write markers", () => {
  // Acknowledged writes 1..10, one every 20 ms from mono 100 ms.
  const ackMono = (seq: number) => 100 + (seq - 1) * 20
  const journalWith = (surviving: ReadonlyArray<number>) =>
    Effect.gen(function*() {
      const journal = yield* Journal.make({ runId: "rpo" })
      for (let seq = 1; seq <= 10; seq++) yield* journal.append({ _tag: "HeartbeatAck", seq, mono: ackMono(seq) })
      yield* journal.append({ _tag: "HeartbeatReadBack", checked: 10, surviving: [...surviving] })
      return journal.snapshot()
    })

  it.effect("lost writes are counted exactly; the window runs from the last survivor before the first loss to the last loss", () =>
    Effect.gen(function*() {
      // 7, 9 and 10 lost; 8 survived (a write that landed on the new primary).
      const rpo = Stopwatch.computeRpo(yield* journalWith([1, 2, 3, 4, 5, 6, 8]))!
      assert.strictEqual(rpo.ackedWrites, 10)
      assert.strictEqual(rpo.lostWrites, 3)
      assert.deepStrictEqual(rpo.lostSeqs, [7, 9, 10])
      assert.strictEqual(rpo.windowMs, ackMono(10) - ackMono(6))
    }))

  it.effect("nothing lost: zero writes, zero window; every write lost: the window spans first to last", () =>
    Effect.gen(function*() {
      const none = Stopwatch.computeRpo(yield* journalWith([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))!
      assert.deepStrictEqual([none.lostWrites, none.windowMs], [0, 0])
      const all = Stopwatch.computeRpo(yield* journalWith([]))!
      assert.strictEqual(all.lostWrites, 10)
      assert.strictEqual(all.windowMs, ackMono(10) - ackMono(1))
      // A journal without a read-back has no RPO at all.
      const journal = yield* Journal.make({ runId: "no-read-back" })
      yield* journal.append({ _tag: "HeartbeatAck", seq: 1, mono: 1 })
      assert.isNull(Stopwatch.computeRpo(journal.snapshot()))
    }))
})
