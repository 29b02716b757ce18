import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Abort, Experiment, Fault, Hypothesis, Journal, Probe, Selector, Stopwatch, Tolerance } from "../../src/index.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const targets = [{ name: "a" }, { name: "b" }, { name: "c" }]

// The faults here break what the probe sees; these tests are about reverts and the before
// and after checks, so the hypothesis only observes during the method (the during rule has
// its own tests in DuringRule.test.ts).
const serves = Hypothesis.make("healthy", {
  probe: healthy(),
  every: "10 millis",
  samples: 40,
  tolerance: Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 }),
  during: "observe"
})

const runWith = <R>(exp: Experiment.Experiment<R>, advance: Duration.Input = "30 seconds") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Experiment.run(exp))
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

const events = (r: Experiment.RunResult) => r.entries.map((e) => e.event)
const idx = (r: Experiment.RunResult, pred: (e: Journal.Event) => boolean) => events(r).findIndex(pred)

// Proves, for one finished run: each injected fault was reverted exactly once, in reverse
// order of injection, and the after-check (when there is one) came after every revert.
const assertRevertedOnceInReverse = (r: Experiment.RunResult, calls: ReadonlyArray<string>) => {
  const injected = calls.filter((c) => c.startsWith("inject:")).map((c) => c.split(":")[2])
  const reverted = calls.filter((c) => c.startsWith("revert:")).map((c) => c.split(":")[2])
  assert.deepStrictEqual(reverted, [...injected].reverse())
  const ids = events(r).flatMap((e) => e._tag === "FaultInjected" ? [e.faultId] : [])
  for (const id of ids) {
    assert.strictEqual(events(r).filter((e) => e._tag === "FaultReverted" && e.faultId === id).length, 1)
  }
  const lastRevert = Math.max(...events(r).map((e, i) => e._tag === "FaultReverted" ? i : -1))
  const after = idx(r, (e) => e._tag === "HypothesisChecked" && e.phase === "after")
  if (after >= 0) assert.isTrue(after > lastRevert)
}

describe("Experiment.run verdicts", () => {
  it.effect("passed: faults reverted once in reverse order, hypothesis re-checked after", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "two breaks",
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Fault.inject(breakTargets(Selector.name("b")))
          yield* Effect.sleep("1 second")
        })
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "passed")
      assert.strictEqual(r.verdict.cleanup, "ok")
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:b", "revert:memory.break:a"])
      assertRevertedOnceInReverse(r, d.state.calls)
      assert.strictEqual(d.state.broken.size, 0)
      assert.strictEqual(Journal.verifyChain(r.entries), -1)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("failed: a failing action fails the run, and what was injected is reverted", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "action fails",
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a", "b")))
          yield* Effect.fail(new Error("the action broke"))
        })
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "failed")
      assert.include(r.verdict.reason, "the action broke")
      assertRevertedOnceInReverse(r, d.state.calls)
      assert.deepStrictEqual(d.state.calls.filter((c) => c.startsWith("revert")), ["revert:memory.break:b", "revert:memory.break:a"])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("failed: an injection that fails fails the run; earlier injections are reverted", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "injection fails",
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Fault.inject(breakTargets(Selector.name("b")))
        })
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "failed")
      assert.include(r.verdict.reason, "memory.break on memory b failed")
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:a"])
      assert.isTrue(events(r).some((e) => e._tag === "FaultInjectFailed"))
    }).pipe(Effect.provide(MemoryDriver.layer({ targets, failInject: ["b"] }))))

  it.effect("aborted: a manual halt stops the method and reverts", () =>
    Effect.gen(function*() {
      const halt = yield* Abort.makeHalt
      const exp = Experiment.make({
        name: "halted",
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a", "c")))
          yield* halt.halt("facilitator pressed stop")
          yield* Effect.sleep("1 hour")
        }),
        abort: [Abort.manual(halt), Abort.maxDuration("10 minutes")]
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "aborted")
      assert.include(r.verdict.reason, "facilitator pressed stop")
      assertRevertedOnceInReverse(r, d.state.calls)
      assert.strictEqual(d.state.broken.size, 0)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("aborted: max duration and hypothesis breach", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "breach",
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.all))
          yield* Effect.sleep("10 minutes")
        }),
        abort: [Abort.breach(serves, { below: 0.5, over: "1 second" }), Abort.maxDuration("5 minutes")]
      })
      const r = yield* runWith(exp, "20 minutes")
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "aborted")
      assert.include(r.verdict.reason, "breach(healthy")
      assertRevertedOnceInReverse(r, d.state.calls)
      // The breach fired after one window of bad samples, not at the max duration.
      const fired = r.entries.find((e) => e.event._tag === "AbortFired")!
      const injected = r.entries.find((e) => e.event._tag === "FaultInjected")!
      assert.isTrue(fired.mono - injected.mono >= 1000 && fired.mono - injected.mono <= 1100)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("interrupted: interrupting the run reverts and journals `interrupted`", () =>
    Effect.gen(function*() {
      const seen: Array<Journal.Entry> = []
      const exp = Experiment.make({
        name: "interrupted",
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a", "b")))
          yield* Effect.sleep("1 hour")
        })
      })
      const fiber = yield* Effect.forkChild(Experiment.run(exp, { onEntry: (e) => seen.push(e) }))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.interrupt(fiber)
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:b", "revert:memory.break:a"])
      const end = seen.at(-1)!.event
      assert.strictEqual(end._tag, "RunEnded")
      assert.strictEqual(end._tag === "RunEnded" && end.status, "interrupted")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("deviated: steady state not met before; nothing injected", () =>
    Effect.gen(function*() {
      const down = Hypothesis.make("down", { probe: Probe.make("fails", Effect.fail("no")), every: "10 millis", samples: 5 })
      const exp = Experiment.make({
        name: "gate",
        hypothesis: down,
        method: Fault.inject(breakTargets(Selector.all))
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "deviated")
      assert.deepStrictEqual(d.state.calls, [])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("a failed revert gives cleanup: failed and keeps the verdict (deviated: not recovered)", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "stuck",
        hypothesis: serves,
        method: Fault.inject(breakTargets(Selector.name("a", "b")))
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.cleanup, "failed")
      assert.strictEqual(r.verdict.status, "deviated")
      // b's revert was retried, then given up; a's still ran.
      assert.deepStrictEqual(d.state.calls.filter((c) => c.startsWith("revert")), [
        "revert:memory.break:b",
        "revert:memory.break:b",
        "revert:memory.break:b",
        "revert:memory.break:a"
      ])
      const failed = events(r).find((e) => e._tag === "FaultRevertFailed")
      assert.strictEqual(failed?._tag === "FaultRevertFailed" && failed.attempts, 3)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets, failRevert: ["b"] }))))

  it.effect("a failed revert does not hide a failing method", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "stuck and failing",
        hypothesis: serves,
        method: Effect.andThen(Fault.inject(breakTargets(Selector.name("b"))), Effect.fail("boom"))
      })
      const r = yield* runWith(exp)
      assert.strictEqual(r.verdict.status, "failed")
      assert.strictEqual(r.verdict.cleanup, "failed")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets, failRevert: ["b"] }))))

  it.effect("Fault.revert early makes the scope's revert a no-op (idempotent)", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "early revert",
        hypothesis: serves,
        method: Effect.gen(function*() {
          const [inj] = yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Fault.revert(inj!)
          yield* Fault.revert(inj!)
        })
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "passed")
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:a", "revert:memory.break:a"])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("dry run touches nothing", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "plan",
        hypothesis: serves,
        method: Fault.inject(breakTargets(Selector.all))
      })
      const fiber = yield* Effect.forkChild(Experiment.run(exp, { dryRun: true }))
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, [])
      assert.strictEqual(events(r).filter((e) => e._tag === "FaultPlanned").length, 3)
      assert.strictEqual(events(r).filter((e) => e._tag === "Sample").length, 0)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})

describe("Stopwatch", () => {
  it.effect("RTO of a scripted outage is exact to one probe interval", () =>
    Effect.gen(function*() {
      for (const outageMs of [1234, 77, 5000]) {
        const exp = Experiment.make({
          name: "scripted outage",
          hypothesis: serves,
          method: Effect.gen(function*() {
            const [inj] = yield* Fault.inject(breakTargets(Selector.name("a")))
            yield* Effect.sleep(outageMs)
            yield* Fault.revert(inj!)
            yield* Effect.sleep("1 second")
          }),
          stopwatches: { rto: Stopwatch.rto(serves, { stableFor: 5 }) },
          objectives: { rto: "10 seconds" }
        })
        const r = yield* runWith(exp, "1 minute")
        const rto = Stopwatch.computeRto(r.entries)!
        assert.isNotNull(rto.measuredMs)
        assert.isTrue(rto.outageObserved)
        assert.isTrue(rto.measuredMs! >= outageMs && rto.measuredMs! <= outageMs + rto.resolutionMs, `RTO ${rto.measuredMs} for outage ${outageMs}`)
        assert.isTrue(rto.detectMs! <= rto.resolutionMs)
        assert.strictEqual(rto.resolutionMs, 10)
        assert.strictEqual(r.verdict.status, "passed")
      }
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("RTO objective missed makes the run deviated", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "slow recovery",
        hypothesis: serves,
        method: Effect.gen(function*() {
          const [inj] = yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("3 seconds")
          yield* Fault.revert(inj!)
        }),
        stopwatches: { rto: Stopwatch.rto(serves) },
        objectives: { rto: "2 seconds" }
      })
      const r = yield* runWith(exp, "1 minute")
      assert.strictEqual(r.verdict.status, "deviated")
      assert.include(r.verdict.reason, "> objective 2000 ms")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("RPO counts acknowledged writes that did not survive, and their window", () =>
    Effect.gen(function*() {
      const store = new Set<number>()
      const writer = Stopwatch.heartbeat({
        every: "10 millis",
        write: (seq) => Effect.sync(() => void store.add(seq)),
        // Writes 20..29 were acknowledged but lost in the failover.
        readBack: (acked) => Effect.succeed(acked.filter((s) => store.has(s) && (s < 20 || s >= 30)))
      })
      const exp = Experiment.make({
        name: "rpo",
        hypothesis: serves,
        method: Effect.sleep("1 second"),
        stopwatches: { rpo: writer },
        objectives: { rpo: "50 millis" }
      })
      const r = yield* runWith(exp, "1 minute")
      const rpo = Stopwatch.computeRpo(r.entries)!
      assert.strictEqual(rpo.lostWrites, 10)
      assert.deepStrictEqual(rpo.lostSeqs, [20, 21, 22, 23, 24, 25, 26, 27, 28, 29])
      // From the last surviving write (19) to the last lost one (29): 10 intervals.
      assert.strictEqual(rpo.windowMs, 100)
      assert.strictEqual(r.verdict.status, "deviated")
      assert.include(r.verdict.reason, "RPO 100.0 ms (10 writes lost)")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})

describe("continuous sampling", () => {
  it.effect("a slow probe does not stretch the interval: probes start every 10 ms, in flight together", () =>
    Effect.gen(function*() {
      const slow = Hypothesis.make("slow", {
        probe: Probe.make("takes 50 ms", Effect.as(Effect.sleep("50 millis"), "ok"), { timeout: "1 second" }),
        every: "10 millis",
        samples: 40
      })
      const exp = Experiment.make({ name: "slow probe", hypothesis: slow, method: Effect.sleep("1 second") })
      const r = yield* runWith(exp, "1 minute")
      const during = events(r).flatMap((e) => e._tag === "Sample" && e.phase === "during" ? [e.sample] : [])
      const starts = during.map((s) => s.mono).sort((a, b) => a - b)
      assert.isAtLeast(starts.length, 95)
      for (let i = 1; i < starts.length; i++) assert.strictEqual(starts[i]! - starts[i - 1]!, 10)
      assert.isTrue(during.every((s) => s.ok && s.latencyMs === 50))
    }))

  it.effect("a hung probe is bounded in flight: slots with no room are skipped, not queued", () =>
    Effect.gen(function*() {
      let calls = 0
      let hang = false
      const hung = Hypothesis.make("hung", {
        probe: Probe.make(
          "never answers while hung",
          Effect.suspend(() => {
            if (!hang) return Effect.succeed("ok")
            calls++
            return Effect.never
          }),
          { timeout: "100 millis" }
        ),
        every: "10 millis"
      })
      const exp = Experiment.make({
        name: "hung probe",
        hypothesis: hung,
        method: Effect.gen(function*() {
          hang = true
          yield* Effect.sleep("1 second")
        }).pipe(Effect.ensuring(Effect.sync(() => {
          hang = false
        })))
      })
      const r = yield* runWith(exp, "1 minute")
      const during = events(r).flatMap((e) => e._tag === "Sample" && e.phase === "during" ? [e.sample] : [])
      // At most ceil(100/10)+1 = 11 in flight: each sample times out at 100 ms, so about
      // 11 probes start per 110 ms rather than 100 per second.
      assert.isAtMost(during.length, 115)
      const timedOut = during.filter((s) => !s.ok)
      assert.deepStrictEqual([...new Set(timedOut.map((s) => s.error))], ["timed out after 100ms"])
      assert.isAtLeast(timedOut.length, 80)
      assert.isAtMost(calls, 110)
    }))
})

describe("Guards and selectors in a run", () => {
  it.effect("a guard that refuses means nothing is touched", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "guarded",
        hypothesis: serves,
        method: Fault.inject(breakTargets(Selector.all)),
        guards: [{ _tag: "AllowLabel", key: "faultline.allow", value: "true" }]
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, [])
      assert.strictEqual(r.verdict.status, "refused")
      assert.include(r.verdict.reason, "lacks label faultline.allow=true")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a", labels: { "faultline.allow": "true" } }, { name: "b" }] }))))

  it.effect("selector cap is a hard limit", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "capped",
        hypothesis: serves,
        method: Fault.inject(breakTargets(Selector.cap(Selector.all, 2)))
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, [])
      assert.include(r.verdict.reason, "above its cap of 2")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})
