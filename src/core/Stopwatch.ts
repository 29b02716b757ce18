/**
 * Stopwatches: RTO measured from samples, RPO measured from heartbeat write markers. Both
 * are pure functions of the journal, so a report recomputed from `journal.jsonl` gives the
 * same figures as the live run.
 *
 * @since 0.1.0
 */
import { Duration, Effect } from "effect"
import type { Hypothesis } from "./Hypothesis.ts"
import type { Entry } from "./Journal.ts"
import * as Probe from "./Probe.ts"
import { Run } from "./Run.ts"
import * as Tolerance from "./Tolerance.ts"

/**
 * RTO: from the injection instant of the first fault (or of the first fault named `from`)
 * to the answer of the first of `stableFor` consecutive good samples after the outage was
 * seen (samples ordered by the instant they were sent).
 *
 * @since 0.1.0
 */
export interface Rto {
  readonly _tag: "Rto"
  readonly hypothesis: Hypothesis<any>
  readonly stableFor: number
  readonly from: string | null
}

/** @since 0.1.0 */
export const rto = <R>(hypothesis: Hypothesis<R>, options?: { readonly stableFor?: number; readonly from?: string }): Rto => ({
  _tag: "Rto",
  hypothesis,
  stableFor: options?.stableFor ?? 5,
  from: options?.from ?? null
})

/**
 * A heartbeat writer: writes sequence numbers every `every`, journals each acknowledged
 * one, and after recovery asks `readBack` which acknowledged sequence numbers survived.
 *
 * @since 0.1.0
 */
export interface Heartbeat<R = never> {
  readonly _tag: "Heartbeat"
  readonly every: Duration.Duration
  readonly timeout: Duration.Duration
  readonly write: (seq: number) => Effect.Effect<unknown, unknown, R>
  readonly readBack: (acked: ReadonlyArray<number>) => Effect.Effect<ReadonlyArray<number>, unknown, R>
}

/** @since 0.1.0 */
export const heartbeat = <R>(options: {
  readonly every?: Duration.Input
  readonly timeout?: Duration.Input
  readonly write: (seq: number) => Effect.Effect<unknown, unknown, R>
  readonly readBack: (acked: ReadonlyArray<number>) => Effect.Effect<ReadonlyArray<number>, unknown, R>
}): Heartbeat<R> => ({
  _tag: "Heartbeat",
  every: Duration.fromInputUnsafe(options.every ?? "20 millis"),
  timeout: Duration.fromInputUnsafe(options.timeout ?? "1 second"),
  write: options.write,
  readBack: options.readBack
})

/**
 * Runs the heartbeat writer until interrupted.
 *
 * @since 0.1.0
 */
export const runWriter = <R>(hb: Heartbeat<R>): Effect.Effect<never, never, R | Run> =>
  Effect.gen(function*() {
    const run = yield* Run
    let seq = 0
    while (true) {
      seq++
      const ok = yield* hb.write(seq).pipe(
        Effect.timeoutOption(hb.timeout),
        Effect.map((o) => o._tag === "Some"),
        Effect.catchCause(() => Effect.succeed(false))
      )
      if (ok) {
        const mono = yield* Probe.monoMillis
        yield* run.journal.append({ _tag: "HeartbeatAck", seq, mono })
      }
      yield* Effect.sleep(hb.every)
    }
  })

/**
 * Reads back which acknowledged writes survived and journals the answer.
 *
 * @since 0.1.0
 */
export const readBack = <R>(hb: Heartbeat<R>): Effect.Effect<void, unknown, R | Run> =>
  Effect.gen(function*() {
    const run = yield* Run
    const acked = run.journal.snapshot().flatMap((e) => e.event._tag === "HeartbeatAck" ? [e.event.seq] : [])
    const surviving = yield* hb.readBack(acked)
    yield* run.journal.append({ _tag: "HeartbeatReadBack", checked: acked.length, surviving: [...surviving] })
  })

/** @since 0.1.0 */
export interface RtoResult {
  /** Injection instant to recovery, ms; null if the system never recovered. */
  readonly measuredMs: number | null
  /** Injection instant to the first bad sample, ms; null if no outage was seen. */
  readonly detectMs: number | null
  /** First bad sample to recovery, ms. */
  readonly recoverMs: number | null
  /** The probe interval: every figure is exact to within it. */
  readonly resolutionMs: number
  readonly outageObserved: boolean
}

/**
 * Computes the RTO from journal entries.
 *
 * @since 0.1.0
 */
export const computeRto = (entries: ReadonlyArray<Entry>): RtoResult | null => {
  const started = entries.find((e) => e.event._tag === "RunStarted")?.event
  if (started?._tag !== "RunStarted" || started.rto === null) return null
  const spec = started.rto
  const hyp = started.hypotheses.find((h) => h.name === spec.hypothesis)
  const resolutionMs = hyp?.everyMs ?? 0
  const injected = entries.find((e) =>
    e.event._tag === "FaultInjected" && (spec.from === null || e.event.fault === spec.from)
  )?.event
  if (injected?._tag !== "FaultInjected") {
    return { measuredMs: null, detectMs: null, recoverMs: null, resolutionMs, outageObserved: false }
  }
  const t0 = injected.startedMono
  const tol = toleranceOf(hyp?.tolerance)
  const samples = entries.flatMap((e) =>
    e.event._tag === "Sample" && e.event.hypothesis === spec.hypothesis && e.event.phase !== "before" &&
      e.event.sample.mono >= t0
      ? [e.event.sample]
      : []
  ).sort((a, b) => a.mono - b.mono)
  const firstBad = samples.findIndex((s) => !Tolerance.isGood(tol, s))
  if (firstBad < 0) return { measuredMs: 0, detectMs: null, recoverMs: 0, resolutionMs, outageObserved: false }
  const detect = samples[firstBad]!.mono
  let run = 0
  for (let i = firstBad + 1; i < samples.length; i++) {
    run = Tolerance.isGood(tol, samples[i]!) ? run + 1 : 0
    if (run === spec.stableFor) {
      // A good sample proves service at the moment its answer arrived, not when it was sent.
      const first = samples[i - spec.stableFor + 1]!
      const rec = first.mono + first.latencyMs
      return { measuredMs: rec - t0, detectMs: detect - t0, recoverMs: rec - detect, resolutionMs, outageObserved: true }
    }
  }
  return { measuredMs: null, detectMs: detect - t0, recoverMs: null, resolutionMs, outageObserved: true }
}

// Tolerances round-trip through the journal as data; a predicate's function does not, so
// from the journal alone a sample is judged on the probe's own success.
const toleranceOf = (t: unknown): Tolerance.Tolerance => {
  const strip = (x: any): Tolerance.Tolerance =>
    x?._tag === "Predicate"
      ? Tolerance.all()
      : x?._tag === "All"
      ? Tolerance.all(...x.of.map(strip))
      : (x as Tolerance.Tolerance) ?? Tolerance.all()
  return strip(t)
}

/** @since 0.1.0 */
export interface RpoResult {
  readonly ackedWrites: number
  readonly lostWrites: number
  /** Time between the last surviving acknowledged write and the last lost one, ms. */
  readonly windowMs: number
  readonly lostSeqs: ReadonlyArray<number>
}

/**
 * Computes the RPO from journal entries: acknowledged writes absent after recovery.
 *
 * @since 0.1.0
 */
export const computeRpo = (entries: ReadonlyArray<Entry>): RpoResult | null => {
  const back = entries.find((e) => e.event._tag === "HeartbeatReadBack")?.event
  if (back?._tag !== "HeartbeatReadBack") return null
  const acks = entries.flatMap((e) => e.event._tag === "HeartbeatAck" ? [e.event] : [])
  const surviving = new Set(back.surviving)
  const lost = acks.filter((a) => !surviving.has(a.seq))
  if (lost.length === 0) return { ackedWrites: acks.length, lostWrites: 0, windowMs: 0, lostSeqs: [] }
  const firstLost = lost[0]!
  const before = acks.filter((a) => a.seq < firstLost.seq && surviving.has(a.seq)).at(-1)
  const windowMs = lost.at(-1)!.mono - (before?.mono ?? firstLost.mono)
  return { ackedWrites: acks.length, lostWrites: lost.length, windowMs, lostSeqs: lost.map((l) => l.seq) }
}
