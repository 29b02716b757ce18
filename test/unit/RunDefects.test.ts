import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Fault, Hypothesis, Selector, Tolerance } from "../../src/index.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const targets = [{ name: "a" }, { name: "b" }]

// A tolerance that throws, as a user's predicate (or an invalid regex from a file) can.
const throwing = Hypothesis.make("throws", {
  probe: healthy(),
  every: "10 millis",
  samples: 5,
  tolerance: Tolerance.predicate("explodes", () => {
    throw new Error("predicate exploded")
  })
})

// Experiment.run documents that it never fails and that `interrupted` means the run was
// interrupted. A defect in the hypothesis check is neither: it must not be journaled as an
// interruption (a regression test: any failed exit used to be treated as interrupted).
describe("Experiment.run with a defect outside the method", () => {
  it.effect("a throwing tolerance is not reported as an interruption", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "defect",
        hypothesis: throwing,
        method: Fault.inject(breakTargets(Selector.name("a")))
      })
      const fiber = yield* Effect.forkChild(Experiment.run(exp))
      yield* TestClock.adjust("1 minute")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isSuccess(exit), "Experiment.run never fails")
      if (Exit.isSuccess(exit)) {
        assert.notStrictEqual(exit.value.verdict.status, "interrupted")
        assert.include(exit.value.verdict.reason, "predicate exploded")
      }
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, [])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("a defect inside the method fails the run and reverts what was injected", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "method defect",
        hypothesis: Hypothesis.make("ok", { probe: healthy(), every: "10 millis", samples: 40 }),
        method: Effect.gen(function*() {
          yield* Fault.inject(breakTargets(Selector.name("b")))
          yield* Effect.sync(() => {
            throw new Error("method exploded")
          })
        })
      })
      const fiber = yield* Effect.forkChild(Experiment.run(exp))
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r.verdict.status, "failed")
      assert.include(r.verdict.reason, "method exploded")
      const d = yield* MemoryDriver
      assert.deepStrictEqual(d.state.calls, ["inject:memory.break:b", "revert:memory.break:b"])
    }).pipe(Effect.provide(MemoryDriver.layer({ targets }))))
})
