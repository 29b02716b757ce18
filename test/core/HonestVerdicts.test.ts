/**
 * A run never claims more than it measured: dry runs end `planned`, a refusal is `refused`,
 * the steady state during the method counts, no outage seen is said so, abort windows are
 * built from when samples completed, and failures keep their cause. All on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { exitCodeOf } from "../../src/cli/ExitCode.ts"
import { Abort, Experiment, Fault, Guard, Hypothesis, Probe, Report, Selector, Stopwatch, Tolerance } from "../../src/index.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const targets = [{ name: "a" }, { name: "b" }]

const runWith = <R>(exp: Experiment.Experiment<R>, options: Experiment.RunOptions = {}, advance: Duration.Input = "1 minute") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Experiment.run(exp, options))
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

// A probe that counts how often it ran.
const counted = () => {
  const calls = { n: 0 }
  return { calls, probe: Probe.make("counted", Effect.sync(() => ++calls.n), { timeout: "1 second" }) }
}

const events = (r: Experiment.RunResult) => r.entries.map((e) => e.event)

describe("a dry run is never passed", () => {
  it.effect("ends planned (exit 0), probes nothing, runs no sleep, and its report claims no measure", () =>
    Effect.gen(function*() {
      const { calls, probe } = counted()
      const h = Hypothesis.make("counted", { probe, every: "10 millis" })
      const exp = Experiment.make({
        name: "dry",
        hypothesis: h,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("1 hour")
        }),
        stopwatches: { rto: Stopwatch.rto(h) },
        objectives: { rto: "1 second" }
      })
      // No TestClock adjustment: a sleep of an hour would never return.
      const r = yield* Experiment.run(exp, { dryRun: true })
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "planned")
      assert.strictEqual(exitCodeOf(r.verdict.status), 0)
      assert.strictEqual(calls.n, 0, "a dry run ran a probe")
      assert.deepStrictEqual(d.state.calls, [])
      assert.isTrue(events(r).some((e) => e._tag === "FaultPlanned"))
      const report = Report.fromJournal(r.entries)
      assert.isNull(report.rto!.met)
      const md = Report.toMarkdown(report)
      assert.match(md.split("\n")[0]!, /^# DRY RUN/)
      assert.include(md, "| RTO | not measured (dry run) | 1000 ms | — |")
      for (const row of md.split("\n").filter((l) => /^\| (RTO|RPO|time to)/.test(l))) assert.notMatch(row, /\bmet\b|MISSED/, row)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})

describe("guards first, and a refusal is not a failure", () => {
  it.effect("a change freeze refuses before any probe runs: refused, exit 3, nothing touched", () =>
    Effect.gen(function*() {
      const { calls, probe } = counted()
      const exp = Experiment.make({
        name: "frozen",
        hypothesis: Hypothesis.make("counted", { probe }),
        method: Fault.inject(breakTargets(Selector.name("a"))),
        // TestClock starts at the epoch.
        guards: [Guard.changeFreeze([{ from: "1969-12-31T00:00:00Z", to: "1970-01-02T00:00:00Z", reason: "release week" }])]
      })
      const r = yield* runWith(exp)
      const d = yield* MemoryDriver
      assert.strictEqual(r.verdict.status, "refused")
      assert.strictEqual(exitCodeOf(r.verdict.status), 3)
      assert.include(r.verdict.reason, "release week")
      assert.strictEqual(calls.n, 0, "a refused run ran a probe")
      assert.deepStrictEqual(d.state.calls, [])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("a refusal found by the caller's planning (preflight) is refused before any probe", () =>
    Effect.gen(function*() {
      const { calls, probe } = counted()
      const fault = breakTargets(Selector.name("a"))
      const exp = Experiment.make({
        name: "unlabelled",
        hypothesis: Hypothesis.make("counted", { probe }),
        method: Fault.inject(fault),
        guards: [Guard.allowLabel("team", "x")]
      })
      const r = yield* runWith(exp, { preflight: Fault.plan(fault) })
      assert.strictEqual(r.verdict.status, "refused")
      assert.strictEqual(calls.n, 0)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})

describe("the steady state during the method counts", () => {
  const method = Effect.gen(function*() {
    yield* Fault.inject(breakTargets(Selector.name("a")))
    yield* Effect.sleep("2 seconds")
  })

  it.effect("a hypothesis that failed during the method, with no abort condition, is deviated", () =>
    Effect.gen(function*() {
      const h = Hypothesis.make("healthy", { probe: healthy(), every: "10 millis" })
      const r = yield* runWith(Experiment.make({ name: "broken during", hypothesis: h, method }))
      assert.strictEqual(r.verdict.status, "deviated")
      assert.match(r.verdict.reason, /not met during the method: healthy \(0\/\d+ good\)/)
      const during = events(r).find((e) => e._tag === "HypothesisChecked" && e.phase === "during")
      assert.strictEqual(during?._tag === "HypothesisChecked" ? during.judgedBy : undefined, "tolerance")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("`during: observe` opts out, and the journal says so", () =>
    Effect.gen(function*() {
      const h = Hypothesis.make("healthy", { probe: healthy(), every: "10 millis", during: "observe" })
      const r = yield* runWith(Experiment.make({ name: "observed", hypothesis: h, method }))
      assert.strictEqual(r.verdict.status, "passed")
      const during = events(r).find((e) => e._tag === "HypothesisChecked" && e.phase === "during")
      assert.strictEqual(during?._tag === "HypothesisChecked" ? during.judgedBy : undefined, "observe")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("a relaxed during tolerance judges the method instead of the hypothesis' own", () =>
    Effect.gen(function*() {
      // Only `b` is watched by the relaxed check's probe: half the watched targets broken is fine during.
      const strict = Tolerance.successRatio({ atLeast: 0.99, confidence: 0 })
      const relaxed = Tolerance.successRatio({ atLeast: 0, confidence: 0 })
      const h = Hypothesis.make("healthy", { probe: healthy(), every: "10 millis", tolerance: strict, during: relaxed })
      const r = yield* runWith(Experiment.make({ name: "relaxed", hypothesis: h, method }))
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("where an RTO stopwatch times the hypothesis, its objective judges the outage", () =>
    Effect.gen(function*() {
      const h = Hypothesis.make("healthy", { probe: healthy(), every: "10 millis" })
      const exp = Experiment.make({
        name: "timed",
        hypothesis: h,
        method: Effect.gen(function*() {
          const [inj] = yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("500 millis")
          yield* Fault.revert(inj!)
          yield* Effect.sleep("2 seconds")
        }),
        stopwatches: { rto: Stopwatch.rto(h, { stableFor: 3 }) },
        objectives: { rto: "5 seconds" }
      })
      const r = yield* runWith(exp)
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
      const during = events(r).find((e) => e._tag === "HypothesisChecked" && e.phase === "during")
      assert.strictEqual(during?._tag === "HypothesisChecked" ? during.judgedBy : undefined, "rto-objective")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})

describe("no outage seen is said so", () => {
  it.effect("the report gives no measured RTO, the bound of one probe interval, and the words", () =>
    Effect.gen(function*() {
      const h = Hypothesis.make("always", { probe: Probe.make("always", Effect.succeed(1)), every: "10 millis" })
      const exp = Experiment.make({
        name: "unseen",
        hypothesis: h,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("1 second")
        }),
        stopwatches: { rto: Stopwatch.rto(h) },
        objectives: { rto: "2 seconds" }
      })
      const r = yield* runWith(exp)
      const report = Report.fromJournal(r.entries)
      assert.isFalse(report.rto!.outageObserved)
      assert.isNull(report.rto!.measuredMs)
      assert.strictEqual(report.rto!.upperBoundMs, 10)
      const md = Report.toMarkdown(report)
      assert.include(md, "no outage observed by a probe every 10 ms")
      assert.notMatch(md, /\| RTO \| 0 ms/)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})

describe("abort conditions fire whatever the probe timeout", () => {
  it.effect("a 1 s window with a 1.5 s probe timeout and a 3 s hang aborts (samples count when they complete)", () =>
    Effect.gen(function*() {
      const slow = { on: false }
      // Hangs for 3 s once the fault is on; the probe times out at 1.5 s, after the window:
      // judged by when it was sent, no sample would ever fall inside a 1 s window.
      const probe = Probe.make("slow", Effect.suspend(() => (slow.on ? Effect.sleep("3 seconds") : Effect.void)), { timeout: "1500 millis" })
      const h = Hypothesis.make("slow", {
        probe,
        every: "100 millis",
        samples: 5,
        tolerance: Tolerance.successRatio({ atLeast: 0.9, confidence: 0 }),
        during: "observe"
      })
      const exp = Experiment.make({
        name: "hang",
        hypothesis: h,
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("a")))
          slow.on = true
          yield* Effect.sleep("20 seconds")
        }),
        abort: [Abort.breach(h, { below: 0.5, over: "1 second" })]
      })
      const fiber = yield* Effect.forkChild(Experiment.run(exp))
      // Let the gate pass with a fast probe, then the hang starts inside the method.
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r.verdict.status, "aborted", r.verdict.reason)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it("a window that cannot be honoured says why (it holds fewer than two samples)", () => {
    const h = Hypothesis.make("h", { probe: Probe.make("x", Effect.void), every: "1 second" })
    assert.match(Abort.breach(h, { below: 0.5, over: "1500 millis" }).problem ?? "", /cannot be judged with a probe every 1000 ms/)
    assert.isUndefined(Abort.breach(h, { below: 0.5, over: "2 seconds" }).problem)
  })
})

describe("causes are kept", () => {
  it.effect("a failed promise keeps the error's message, not `An error occurred in Effect.tryPromise`", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "disk",
        hypothesis: Hypothesis.make("h", { probe: Probe.make("ok", Effect.void), every: "10 millis" }),
        method: Effect.tryPromise(() => Promise.reject(new Error("disk full on /var")))
      })
      const r = yield* runWith(exp)
      assert.strictEqual(r.verdict.status, "failed")
      assert.include(r.verdict.reason, "disk full on /var")
      assert.notInclude(r.verdict.reason, "An error occurred")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it("a process error keeps its exit code and the tail of its stderr", () => {
    const e = Object.assign(new Error("command failed"), { exitCode: 3, stderr: "line 1\nline 2\nFATAL: no space left\n" })
    const text = Experiment.describeError(e)
    assert.include(text, "exit code 3")
    assert.include(text, "FATAL: no space left")
  })
})
