/**
 * The breach abort condition: silent on a healthy run however long it lasts, and on an
 * unhealthy run it fires one window after the outage began (to within one probe interval).
 */
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Abort, Experiment, Fault, Hypothesis, Selector, Tolerance } from "../../src/index.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const EVERY_MS = 10
const WINDOW_MS = 1000

const serves = Hypothesis.make("serves", {
  probe: healthy(["a"]),
  every: `${EVERY_MS} millis`,
  samples: 10,
  tolerance: Tolerance.successRatio({ atLeast: 0.5, confidence: 0.95 })
})

const runWith = <R>(exp: Experiment.Experiment<R>, advance: Duration.Input) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Experiment.run(exp))
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

describe("Abort.breach", () => {
  it.effect("a healthy run whose method lasts many windows ends passed, not aborted", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "healthy and long",
        hypothesis: serves,
        // The fault is on "b"; the hypothesis watches "a", which stays healthy throughout.
        method: Effect.andThen(Fault.inject(breakTargets(Selector.name("b"))), Effect.sleep(`${8 * WINDOW_MS} millis`)),
        abort: [Abort.breach(serves, { below: 0.9, over: `${WINDOW_MS} millis` })]
      })
      const r = yield* runWith(exp, "1 minute")
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
      assert.isFalse(r.entries.some((e) => e.event._tag === "AbortFired"))
      // The method really did outlast the window several times over while being sampled.
      const during = r.entries.filter((e) => e.event._tag === "Sample" && e.event.phase === "during")
      assert.isAtLeast(during.at(-1)!.mono - during[0]!.mono, 7 * WINDOW_MS)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "b" }] }))))

  it.effect("an outage that starts after several healthy windows is caught one window after its first bad sample", () =>
    Effect.gen(function*() {
      const exp = Experiment.make({
        name: "late outage",
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Effect.sleep(`${3 * WINDOW_MS + 5} millis`)
          yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("10 minutes")
        }),
        // `below` so small that only a window with no good sample at all breaches: the
        // earliest it can fire is one whole window after the last good sample.
        abort: [Abort.breach(serves, { below: 0.001, over: `${WINDOW_MS} millis` }), Abort.maxDuration("5 minutes")]
      })
      const r = yield* runWith(exp, "20 minutes")
      assert.strictEqual(r.verdict.status, "aborted")
      assert.include(r.verdict.reason, "breach(serves")
      const firstBad = r.entries.find((e) => e.event._tag === "Sample" && e.event.phase === "during" && !e.event.sample.ok)
      assert.isDefined(firstBad)
      const badMono = firstBad!.event._tag === "Sample" ? firstBad!.event.sample.mono : -1
      const fired = r.entries.find((e) => e.event._tag === "AbortFired")!
      const after = fired.mono - badMono
      assert.isAtLeast(after, WINDOW_MS - EVERY_MS, `fired ${after} ms after the first bad sample`)
      assert.isAtMost(after, WINDOW_MS + EVERY_MS, `fired ${after} ms after the first bad sample`)
      // Nothing fired during the healthy windows before the outage.
      const injected = r.entries.find((e) => e.event._tag === "FaultInjected")!
      assert.isAbove(fired.mono, injected.mono)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }] }))))
})
