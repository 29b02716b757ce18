/**
 * Synthetic monitoring: hypotheses sampled continuously outside any experiment, their samples
 * counted into good/total buckets — the events of a `monitor` SLI. A sample that answered but
 * fell outside the tolerance (too slow, say) is `degraded`; one that did not answer is bad.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Hypothesis from "../core/Hypothesis.ts"
import * as Probe from "../core/Probe.ts"
import * as Tolerance from "../core/Tolerance.ts"

/**
 * One bucket of a hypothesis' events, starting at `at` (aligned to the bucket length).
 *
 * @since 0.2.0
 */
export interface Bucket {
  readonly name: string
  readonly at: number
  readonly good: number
  readonly total: number
  readonly degraded: number
}

/**
 * Samples each hypothesis every `every` until interrupted, and hands each finished bucket of
 * `bucket` length to `record` (the bucket in progress is handed over when interrupted).
 *
 * @since 0.2.0
 */
export const run = <R, E, R2>(
  hypotheses: ReadonlyArray<Hypothesis.Hypothesis<R>>,
  options: { readonly bucket: Duration.Input; readonly record: (b: Bucket) => Effect.Effect<void, E, R2> }
): Effect.Effect<never, E, R | R2> => {
  const bucketMs = Duration.toMillis(Duration.fromInputUnsafe(options.bucket))
  const one = (h: Hypothesis.Hypothesis<R>) =>
    Effect.gen(function*() {
      let current: { at: number; good: number; total: number; degraded: number } | null = null
      const flush = Effect.suspend(() => {
        const b = current
        current = null
        return b === null ? Effect.void : options.record({ name: h.name, ...b })
      })
      yield* Effect.gen(function*() {
        while (true) {
          const sample = yield* Probe.sample(h.probe)
          const now = yield* Clock.currentTimeMillis
          const at = now - (now % bucketMs)
          if (current !== null && current.at !== at) yield* flush
          current ??= { at, good: 0, total: 0, degraded: 0 }
          current.total++
          if (Tolerance.isGood(h.tolerance, sample)) current.good++
          else if (sample.ok) current.degraded++
          yield* Effect.sleep(h.every)
        }
      }).pipe(Effect.onInterrupt(() => Effect.ignore(flush)))
    })
  return Effect.andThen(Effect.forEach(hypotheses, one, { concurrency: "unbounded", discard: true }), Effect.never)
}
