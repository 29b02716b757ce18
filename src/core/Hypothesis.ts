/**
 * Hypotheses: a named probe with a tolerance describing steady state, evaluated before,
 * continuously during, and after the method.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Phase } from "./Journal.ts"
import * as Probe from "./Probe.ts"
import { Run } from "./Run.ts"
import * as Tolerance from "./Tolerance.ts"

/** @since 0.1.0 */
export interface Hypothesis<R = never> {
  readonly name: string
  readonly probe: Probe.Probe<R>
  /** The probe interval; it is also the resolution of any RTO measured from this hypothesis. */
  readonly every: Duration.Duration
  readonly tolerance: Tolerance.Tolerance
  /** How many samples the before and after checks take. */
  readonly samples: number
  /**
   * How steady state is judged during the method: by `tolerance` (the default), by a relaxed
   * tolerance of its own, or `"observe"`: sampled and reported, never judged.
   */
  readonly during: Tolerance.Tolerance | "observe"
}

/**
 * Makes a hypothesis. `every` may be as short as 10 ms.
 *
 * @example
 * ```ts
 * const serves = Hypothesis.make("api serves", {
 *   probe: Probe.http("http://127.0.0.1:8080/health"),
 *   every: "10 millis",
 *   tolerance: Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 })
 * })
 * ```
 * @since 0.1.0
 */
export const make = <R>(name: string, options: {
  readonly probe: Probe.Probe<R>
  readonly every?: Duration.Input
  readonly tolerance?: Tolerance.Tolerance
  readonly samples?: number
  /**
   * During the method: a relaxed tolerance (e.g. a lower success ratio while a fault is
   * on), or `"observe"` to sample without judging; default: `tolerance`.
   */
  readonly during?: Tolerance.Tolerance | "observe"
}): Hypothesis<R> => {
  const tolerance = options.tolerance ?? Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 })
  return {
    name,
    probe: options.probe,
    every: Duration.fromInputUnsafe(options.every ?? "100 millis"),
    tolerance,
    samples: options.samples ?? 40,
    during: options.during ?? tolerance
  }
}

/** The requirements of a list of hypotheses. @since 0.1.0 */
export type Services<H> = H extends Hypothesis<infer R> ? R : never

const record = <R>(h: Hypothesis<R>, phase: Phase) =>
  Effect.gen(function*() {
    const sample = yield* Probe.sample(h.probe)
    const run = yield* Run
    yield* run.journal.append({ _tag: "Sample", hypothesis: h.name, phase, sample })
    return sample
  })

/**
 * Takes `samples` samples at the hypothesis interval, journals them and the judgement.
 *
 * @since 0.1.0
 */
export const check = <R>(h: Hypothesis<R>, phase: "before" | "after"): Effect.Effect<Tolerance.Judgement, never, R | Run> =>
  Effect.gen(function*() {
    const run = yield* Run
    const samples: Array<Probe.Sample> = []
    for (let i = 0; i < h.samples; i++) {
      if (i > 0) yield* Effect.sleep(h.every)
      samples.push(yield* record(h, phase))
    }
    const j = Tolerance.judge(h.tolerance, samples)
    yield* run.journal.append({
      _tag: "HypothesisChecked",
      hypothesis: h.name,
      phase,
      met: j.met,
      samples: j.samples,
      good: j.good,
      details: [...j.details]
    })
    return j
  })

/**
 * Samples the hypothesis at a fixed rate until interrupted, journaling every sample.
 *
 * @since 0.1.0
 */
export const continuously = <R>(h: Hypothesis<R>): Effect.Effect<never, never, R | Run> => continuouslyAll([h])

/**
 * Samples several hypotheses until interrupted, with one ticker per distinct interval
 * (ten hypotheses at 10 ms cost 100 timer wake-ups a second, not 1,000).
 *
 * @since 0.1.0
 */
export const continuouslyAll = <R>(hs: ReadonlyArray<Hypothesis<R>>): Effect.Effect<never, never, R | Run> =>
  Effect.gen(function*() {
    const byInterval = new Map<number, Array<Hypothesis<R>>>()
    for (const h of hs) {
      const ms = Duration.toMillis(h.every)
      byInterval.set(ms, [...(byInterval.get(ms) ?? []), h])
    }
    yield* Effect.forEach([...byInterval], ([everyMs, group]) => Effect.forkChild(ticker(everyMs, group)))
    return yield* Effect.never
  })

const ticker = <R>(everyMs: number, hs: ReadonlyArray<Hypothesis<R>>) =>
  Effect.gen(function*() {
    // A probe is started every interval whether or not the previous one has answered, so a
    // hung service (a paused process, a timeout toxic) does not stretch the resolution to
    // the probe timeout. In-flight probes are bounded per hypothesis (a slot with no room
    // is skipped, not queued: a late probe would misdate its sample); their fibers die
    // with this one.
    const run = yield* Run
    const limits = hs.map((h) => Math.min(MAX_IN_FLIGHT, Math.max(1, Math.ceil(Duration.toMillis(h.probe.timeout) / Math.max(everyMs, 1)) + 1)))
    const inFlight = hs.map(() => 0)
    // One description per hypothesis, built once: a thousand samples a second rebuild nothing.
    const ones = hs.map((h, i) =>
      Effect.ensuring(
        Effect.flatMap(Probe.sample(h.probe), (sample) => run.journal.append({ _tag: "Sample", hypothesis: h.name, phase: "during", sample })),
        Effect.sync(() => {
          inFlight[i]!--
        })
      )
    )
    const start = yield* Probe.monoMillis
    for (let k = 1;; k++) {
      for (let i = 0; i < hs.length; i++) {
        if (inFlight[i]! >= limits[i]!) continue
        inFlight[i]!++
        yield* Effect.forkChild(ones[i]!)
      }
      const wait = start + k * everyMs - (yield* Probe.monoMillis)
      if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
      else yield* Effect.yieldNow
    }
  })

/** The most probes of one hypothesis in flight at once. @since 0.1.0 */
export const MAX_IN_FLIGHT = 64

/**
 * Judges the samples journaled for a hypothesis during the method (from the run's
 * windows, which judged each sample as it was journaled).
 *
 * @since 0.1.0
 */
export const judgeDuring = <R>(
  h: Hypothesis<R>,
  judgedBy: "tolerance" | "rto-objective" | "observe" = h.during === "observe" ? "observe" : "tolerance"
): Effect.Effect<Tolerance.Judgement, never, Run> =>
  Effect.gen(function*() {
    const run = yield* Run
    const j = run.windows.during(h)
    yield* run.journal.append({
      _tag: "HypothesisChecked",
      hypothesis: h.name,
      phase: "during",
      met: j.met,
      samples: j.samples,
      good: j.good,
      details: [...j.details],
      judgedBy
    })
    return j
  })

/**
 * The hypothesis as JSON data for the journal.
 *
 * @since 0.1.0
 */
export const toJSON = <R>(h: Hypothesis<R>) => ({
  name: h.name,
  probe: h.probe.name,
  spec: h.probe.spec,
  everyMs: Duration.toMillis(h.every),
  samples: h.samples,
  tolerance: Tolerance.toJSON(h.tolerance),
  during: h.during === "observe" ? "observe" : h.during === h.tolerance ? "tolerance" : Tolerance.toJSON(h.during)
})
