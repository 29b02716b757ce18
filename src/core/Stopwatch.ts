/**
 * Stopwatches: RTO measured from samples, RPO measured from heartbeat write markers. Both
 * are pure functions of the journal, so a report recomputed from `journal.jsonl` gives the
 * same figures as the live run.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Hypothesis } from "./Hypothesis.ts"
import { type Entry, type Fold, foldAll } from "./Journal.ts"
import * as Probe from "./Probe.ts"
import type { Run } from "./Run.ts"
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
 * Runs the heartbeat writer until interrupted, journaling each acknowledged write in `run`.
 *
 * @since 0.1.0
 */
export const runWriter = <R>(hb: Heartbeat<R>, run: Run["Service"]): Effect.Effect<never, never, R> =>
  Effect.gen(function*() {
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
export const readBack = <R>(hb: Heartbeat<R>, run: Run["Service"]): Effect.Effect<void, unknown, R> =>
  Effect.gen(function*() {
    const acked = run.windows.acked()
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

// A growable column of numbers: a long run's samples cost 8 bytes a figure, not an object each.
const column = () => {
  let data = new Float64Array(1024)
  let length = 0
  return {
    push: (x: number) => {
      if (length === data.length) {
        const bigger = new Float64Array(Math.ceil(data.length * 1.5))
        bigger.set(data)
        data = bigger
      }
      data[length++] = x
    },
    get: (i: number) => data[i]!,
    length: () => length,
    // Keeps the listed positions (ascending), in order, and gives memory back.
    keep: (positions: ReadonlyArray<number>) => {
      const next = new Float64Array(Math.max(1024, Math.ceil(positions.length * 1.5)))
      positions.forEach((p, i) => next[i] = data[p]!)
      data = next
      length = positions.length
    }
  }
}

/**
 * How late a sample may be journaled after it was sent and still count for the RTO. Probes
 * time out long before (5 s by default); the bound lets the RTO fold forget samples that
 * can no longer change its answer, so a four-hour run keeps minutes of samples, not hours.
 *
 * @since 0.1.0
 */
export const RTO_LATENESS_MS = 10 * 60_000

type RtoSpec = { readonly hypothesis: string; readonly stableFor: number; readonly from: string | null }

// The RTO over samples (positions into the columns), sorted by the instant each was sent.
const rtoOf = (
  spec: RtoSpec,
  t0: number,
  resolutionMs: number,
  cols: Columns
): RtoResult & { readonly settledAt: number | null } => {
  const { mono, latency, good } = cols
  const order: Array<number> = []
  for (let i = 0; i < mono.length(); i++) if (mono.get(i) >= t0) order.push(i)
  // Ties keep journal order.
  order.sort((a, b) => mono.get(a) - mono.get(b) || a - b)
  const firstBad = order.findIndex((i) => good.get(i) === 0)
  if (firstBad < 0) return { measuredMs: 0, detectMs: null, recoverMs: 0, resolutionMs, outageObserved: false, settledAt: null }
  const detect = mono.get(order[firstBad]!)
  let run = 0
  for (let k = firstBad + 1; k < order.length; k++) {
    run = good.get(order[k]!) === 1 ? run + 1 : 0
    if (run === spec.stableFor) {
      // A good sample proves service at the moment its answer arrived, not when it was sent.
      const first = order[k - spec.stableFor + 1]!
      const rec = mono.get(first) + latency.get(first)
      return {
        measuredMs: rec - t0,
        detectMs: detect - t0,
        recoverMs: rec - detect,
        resolutionMs,
        outageObserved: true,
        settledAt: mono.get(order[k]!)
      }
    }
  }
  return { measuredMs: null, detectMs: detect - t0, recoverMs: null, resolutionMs, outageObserved: true, settledAt: null }
}

type Columns = { readonly mono: ReturnType<typeof column>; readonly latency: ReturnType<typeof column>; readonly good: ReturnType<typeof column> }

// What the RTO fold carries from one journal entry to the next.
interface RtoState {
  spec: RtoSpec | null
  tol: Tolerance.Tolerance
  resolutionMs: number
  // Samples sent once the injection started are journaled after its FaultInjecting entry.
  collecting: boolean
  t0: number | null
  final: RtoResult | null
  firstBadMono: number
  compactAt: number
  readonly cols: Columns
}

const keepRows = (cols: Columns, positions: ReadonlyArray<number>) => {
  cols.mono.keep(positions)
  cols.latency.keep(positions)
  cols.good.keep(positions)
}

const compactRto = (s: RtoState, nowMono: number) => {
  const horizon = nowMono - RTO_LATENESS_MS
  if (s.t0 !== null) {
    const r = rtoOf(s.spec!, s.t0, s.resolutionMs, s.cols)
    if (r.settledAt !== null && r.settledAt < horizon) {
      const { settledAt: _, ...answer } = r
      s.final = answer
      keepRows(s.cols, [])
      return
    }
  }
  // A sample that can still arrive is sent after `horizon`: good samples before both it
  // and the first outage seen so far can never start or end a recovery.
  const cut = Math.min(horizon, s.firstBadMono)
  const kept: Array<number> = []
  for (let i = 0; i < s.cols.mono.length(); i++) {
    if (s.cols.good.get(i) === 0 || s.cols.mono.get(i) >= cut) kept.push(i)
  }
  keepRows(s.cols, kept)
  s.compactAt = Math.max(4096, kept.length * 2)
}

const sampleRto = (s: RtoState, e: Entry, ev: Extract<Entry["event"], { readonly _tag: "Sample" }>) => {
  if (!s.collecting || s.final !== null || s.spec === null || ev.hypothesis !== s.spec.hypothesis || ev.phase === "before") return
  if (s.t0 !== null && ev.sample.mono < s.t0) return
  // Later than the bound: never counted, so the answer does not depend on when it is read.
  if (e.mono - ev.sample.mono > RTO_LATENESS_MS) return
  const isGood = Tolerance.isGood(s.tol, ev.sample)
  s.cols.mono.push(ev.sample.mono)
  s.cols.latency.push(ev.sample.latencyMs)
  s.cols.good.push(isGood ? 1 : 0)
  if (!isGood && (s.t0 === null || ev.sample.mono >= s.t0)) s.firstBadMono = Math.min(s.firstBadMono, ev.sample.mono)
  if (s.cols.mono.length() >= s.compactAt) compactRto(s, e.mono)
}

const stepRto = (s: RtoState, e: Entry) => {
  const ev = e.event
  switch (ev._tag) {
    case "RunStarted":
      if (s.spec === null && ev.rto !== null) {
        s.spec = ev.rto
        const hyp = ev.hypotheses.find((h) => h.name === ev.rto!.hypothesis)
        s.resolutionMs = hyp?.everyMs ?? 0
        s.tol = toleranceOf(hyp?.tolerance)
      }
      return
    case "FaultInjecting":
      if (s.spec !== null && s.t0 === null && (s.spec.from === null || ev.fault === s.spec.from)) s.collecting = true
      return
    case "FaultInjected":
      if (s.spec !== null && s.t0 === null && (s.spec.from === null || ev.fault === s.spec.from)) {
        s.t0 = ev.startedMono
        s.collecting = true
      }
      return
    case "Sample":
      return sampleRto(s, e, ev)
  }
}

const resultRto = (s: RtoState): RtoResult | null => {
  if (s.spec === null) return null
  if (s.t0 === null) return { measuredMs: null, detectMs: null, recoverMs: null, resolutionMs: s.resolutionMs, outageObserved: false }
  if (s.final !== null) return s.final
  const { settledAt: _, ...r } = rtoOf(s.spec, s.t0, s.resolutionMs, s.cols)
  return r
}

/**
 * The RTO as a fold over the journal. It keeps the samples of the RTO hypothesis from the
 * first injection of the timed fault on (three numbers each), and of those only what can
 * still change the answer: good samples older than `RTO_LATENESS_MS` before any outage are
 * dropped, and once recovery is older than that, the answer is final and nothing is kept.
 *
 * @since 0.1.0
 */
export const rtoFold = (): Fold<RtoResult | null> => {
  const s: RtoState = {
    spec: null,
    tol: Tolerance.all(),
    resolutionMs: 0,
    collecting: false,
    t0: null,
    final: null,
    firstBadMono: Infinity,
    compactAt: 4096,
    cols: { mono: column(), latency: column(), good: column() }
  }
  return { step: (e) => stepRto(s, e), result: () => resultRto(s) }
}

/**
 * Computes the RTO from journal entries.
 *
 * @since 0.1.0
 */
export const computeRto = (entries: ReadonlyArray<Entry>): RtoResult | null => foldAll(entries, rtoFold())

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
 * The RPO as a fold over the journal: every acknowledged heartbeat (two numbers each) and
 * the first read-back.
 *
 * @since 0.1.0
 */
export const rpoFold = (): Fold<RpoResult | null> & { readonly acked: () => ReadonlyArray<number> } => {
  const seqs = column()
  const monos = column()
  let surviving: ReadonlySet<number> | null = null
  const step = (e: Entry) => {
    const ev = e.event
    if (ev._tag === "HeartbeatAck") {
      seqs.push(ev.seq)
      monos.push(ev.mono)
    } else if (ev._tag === "HeartbeatReadBack" && surviving === null) surviving = new Set(ev.surviving)
  }
  const acked = () => Array.from({ length: seqs.length() }, (_, i) => seqs.get(i))
  const result = (): RpoResult | null => {
    if (surviving === null) return null
    const back = surviving
    const lost: Array<number> = []
    for (let i = 0; i < seqs.length(); i++) if (!back.has(seqs.get(i))) lost.push(i)
    if (lost.length === 0) return { ackedWrites: seqs.length(), lostWrites: 0, windowMs: 0, lostSeqs: [] }
    const firstLost = lost[0]!
    let before: number | undefined
    for (let i = 0; i < seqs.length(); i++) {
      if (seqs.get(i) < seqs.get(firstLost) && back.has(seqs.get(i))) before = i
    }
    const windowMs = monos.get(lost.at(-1)!) - (before === undefined ? monos.get(firstLost) : monos.get(before))
    return { ackedWrites: seqs.length(), lostWrites: lost.length, windowMs, lostSeqs: lost.map((i) => seqs.get(i)) }
  }
  return { step, result, acked }
}

/**
 * Computes the RPO from journal entries: acknowledged writes absent after recovery.
 *
 * @since 0.1.0
 */
export const computeRpo = (entries: ReadonlyArray<Entry>): RpoResult | null => foldAll(entries, rpoFold())
