import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Hypothesis, Probe, Run, Tolerance } from "../../src/index.ts"

// The before/after check takes exactly `samples` samples, the first at once and the others
// one interval apart; the during-judgement looks at its own hypothesis's during samples only.

const counting = () => {
  const at: Array<number> = []
  const probe = Probe.make("counting", Effect.map(Probe.monoMillis, (ms) => void at.push(ms)))
  return { at, probe }
}

describe("Hypothesis.check", () => {
  it.effect("takes `samples` samples, the first at once, then one every interval", () =>
    Effect.gen(function*() {
      const { at, probe } = counting()
      const h = Hypothesis.make("h", { probe, every: "100 millis", samples: 4, tolerance: Tolerance.all() })
      const fiber = yield* Effect.forkChild(Hypothesis.check(h, "before"))
      yield* TestClock.adjust("10 seconds")
      const j = yield* Fiber.join(fiber)
      assert.deepStrictEqual(at, [0, 100, 200, 300])
      assert.strictEqual(j.samples, 4)
      const run = yield* Run.Run
      const checked = run.journal.snapshot().map((e) => e.event).filter((e) => e._tag === "HypothesisChecked")
      assert.deepStrictEqual(checked, [{ _tag: "HypothesisChecked", hypothesis: "h", phase: "before", met: true, samples: 4, good: 4, details: [] }])
    }).pipe(Effect.provide(Run.layerTest())))

  it.effect("journals the tolerance's details with the check", () =>
    Effect.gen(function*() {
      const h = Hypothesis.make("h", { probe: counting().probe, every: "10 millis", samples: 2, tolerance: Tolerance.latency({ p99: "1 second" }) })
      const fiber = yield* Effect.forkChild(Hypothesis.check(h, "after"))
      yield* TestClock.adjust("1 second")
      const j = yield* Fiber.join(fiber)
      const run = yield* Run.Run
      const checked = run.journal.snapshot().map((e) => e.event).find((e) => e._tag === "HypothesisChecked")
      assert.deepStrictEqual(checked?._tag === "HypothesisChecked" ? checked.details : [], [...j.details])
      assert.strictEqual(j.details.length, 1)
    }).pipe(Effect.provide(Run.layerTest())))
})

describe("Hypothesis.judgeDuring", () => {
  it.effect("judges the during samples of its own hypothesis only, and journals the details", () =>
    Effect.gen(function*() {
      const run = yield* Run.Run
      const sample = (ok: boolean) => ({ at: 0, mono: 0, ok, latencyMs: 1 })
      yield* run.journal.append({ _tag: "Sample", hypothesis: "h", phase: "during", sample: sample(true) })
      yield* run.journal.append({ _tag: "Sample", hypothesis: "h", phase: "during", sample: sample(true) })
      yield* run.journal.append({ _tag: "Sample", hypothesis: "h", phase: "before", sample: sample(false) })
      yield* run.journal.append({ _tag: "Sample", hypothesis: "other", phase: "during", sample: sample(false) })
      const h = Hypothesis.make("h", { probe: counting().probe, tolerance: Tolerance.successRatio({ atLeast: 0.1 }) })
      const j = yield* Hypothesis.judgeDuring(h)
      assert.strictEqual(j.samples, 2)
      assert.strictEqual(j.good, 2)
      const checked = run.journal.snapshot().at(-1)!.event
      assert.strictEqual(checked._tag, "HypothesisChecked")
      assert.deepStrictEqual(checked._tag === "HypothesisChecked" ? [checked.phase, checked.details] : [], ["during", [...j.details]])
      assert.strictEqual(j.details.length, 1)
    }).pipe(Effect.provide(Run.layerTest())))
})
