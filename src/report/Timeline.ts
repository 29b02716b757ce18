/**
 * The timeline of a run: what happened when, as a model folded from the journal and as an
 * SVG picture of that model. The HTML report draws it above its tables; a live view can
 * fold entries as they are journaled and redraw it at any point.
 *
 * The API is three functions and one model:
 * - `fold(options?)`: a streaming `Fold<Model>` over journal entries (one line at a time;
 *   `result()` may be read at any moment, so a live view reads it while the run goes on);
 * - `fromEntries(entries, options?)`: the same over entries held in memory;
 * - `render(model, options?)`: the SVG, a string, self-contained (its own `<style>`, light
 *   and dark), with no script and nothing fetched.
 *
 * Positions are monotonic milliseconds since the journal's first entry (`Model.mono0`):
 * durations come from the monotonic clock, as every stopwatch's do.
 *
 * @example
 * ```ts
 * import * as Timeline from "faultline/report/Timeline" // src/report/Timeline.ts
 * const svg = Timeline.render(Timeline.fromEntries(entries), { width: 1000 })
 * ```
 *
 * @since 0.1.0
 */
import type { Entry, Fold, Phase } from "../core/Journal.ts"
import * as Stopwatch from "../core/Stopwatch.ts"
import { renderSvg } from "./internal/timelineSvg.ts"

/**
 * Samples of one hypothesis aggregated over `[fromMs, fromMs + widthMs)`: a 1-hour run at
 * 10 ms keeps a few hundred buckets per hypothesis, not 360 000 samples.
 *
 * @since 0.1.0
 */
export interface SampleBucket {
  readonly fromMs: number
  readonly widthMs: number
  readonly phase: Phase
  readonly samples: number
  /** Samples whose probe failed (`ok: false`). */
  readonly bad: number
  readonly latencyMaxMs: number
  readonly latencyMeanMs: number
}

/** One hypothesis' lane. @since 0.1.0 */
export interface HypothesisLane {
  readonly name: string
  readonly buckets: ReadonlyArray<SampleBucket>
  readonly samples: number
  readonly bad: number
}

/** A phase's span: its first sample sent to its last answer. @since 0.1.0 */
export interface PhaseSpan {
  readonly phase: Phase
  readonly fromMs: number
  readonly toMs: number
}

/**
 * One fault as a bar: injection to revert. `toMs` is null while it is in place (or if its
 * revert was never journaled); `failed` says the injection or the revert failed.
 *
 * @since 0.1.0
 */
export interface FaultBar {
  readonly faultId: string
  readonly fault: string
  readonly target: string
  readonly fromMs: number
  readonly toMs: number | null
  readonly failed: "inject" | "revert" | null
}

/** An abort condition that fired. @since 0.1.0 */
export interface AbortMark {
  readonly atMs: number
  readonly condition: string
  readonly reason: string
}

/**
 * The RTO bracket: from the timed fault's injection (`fromMs`) to the first bad sample
 * (`detectAtMs`: time to detect) and on to recovery (`recoveredAtMs`: time to recover).
 * Null figures were not observed; `resolutionMs` is the probe interval.
 *
 * @since 0.1.0
 */
export interface RtoBracket {
  readonly fromMs: number
  readonly detectAtMs: number | null
  readonly recoveredAtMs: number | null
  readonly resolutionMs: number
  readonly outageObserved: boolean
}

/** The RPO window: the acknowledged writes that were lost, first to last. @since 0.1.0 */
export interface RpoWindow {
  readonly fromMs: number
  readonly toMs: number
  readonly lostWrites: number
  readonly ackedWrites: number
}

/**
 * A drill step as a bar, with who did it (`actor`) and how it ended.
 *
 * @since 0.1.0
 */
export interface StepBar {
  readonly id: string
  readonly name: string
  readonly kind: string | null
  readonly actor: string | null
  readonly fromMs: number
  readonly toMs: number | null
  readonly outcome: string | null
}

/**
 * A step edge read from a journal entry (see `Options.stepOf`).
 *
 * @since 0.1.0
 */
export type StepMark =
  | { readonly edge: "start"; readonly id: string; readonly name: string; readonly kind?: string | null; readonly actor?: string | null }
  | { readonly edge: "end"; readonly id: string; readonly outcome?: string | null; readonly actor?: string | null }

/**
 * The timeline of a run: everything `render` draws, in ms since the first entry.
 *
 * @since 0.1.0
 */
export interface Model {
  readonly runId: string
  readonly experiment: string
  /** The verdict, or `running` while the journal has no `RunEnded`. */
  readonly status: string
  /** Wall-clock ms (epoch) and monotonic ms of the first entry: the origin of every position. */
  readonly startedAt: number
  readonly mono0: number
  /** The span drawn: the last entry (or the latest sample answer), ms since the origin. */
  readonly endMs: number
  readonly phases: ReadonlyArray<PhaseSpan>
  readonly hypotheses: ReadonlyArray<HypothesisLane>
  readonly faults: ReadonlyArray<FaultBar>
  readonly aborts: ReadonlyArray<AbortMark>
  readonly rto: RtoBracket | null
  readonly rpo: RpoWindow | null
  /**
   * When the heartbeat writes were read back (ms since the origin) and what was found, also
   * when none was lost (then `rpo` is null); null without an RPO stopwatch or a read-back.
   */
  readonly rpoReadBack: { readonly atMs: number; readonly ackedWrites: number; readonly lostWrites: number } | null
  readonly steps: ReadonlyArray<StepBar>
}

/**
 * Options of `fold`.
 *
 * @since 0.1.0
 */
export interface Options {
  /**
   * The most buckets a hypothesis keeps (default 600): when more would be needed, buckets
   * merge in pairs, so memory and the SVG stay bounded whatever the run's length.
   */
  readonly maxBuckets?: number
  /**
   * Reads a drill step's start or end from an entry. The default reads events tagged
   * `StepStarted` (`{ step, name, kind?, actor? }`) and `StepEnded` (`{ step, outcome?,
   * actor? }`); a drill journal with other shapes passes its own reader.
   */
  readonly stepOf?: (entry: Entry) => StepMark | null
}

const str = (v: unknown): string | null => typeof v === "string" ? v : null

/**
 * The default step reader (see `Options.stepOf`). Events are read as data by their tag, so
 * a journal without drill steps simply has none.
 *
 * @since 0.1.0
 */
export const defaultStepOf = (entry: Entry): StepMark | null => {
  const ev = entry.event as unknown as Record<string, unknown>
  const id = str(ev.step) ?? str(ev.stepId)
  if (id === null) return null
  if (ev._tag === "StepStarted") return { edge: "start", id, name: str(ev.name) ?? id, kind: str(ev.kind), actor: str(ev.actor) }
  if (ev._tag === "StepEnded") return { edge: "end", id, outcome: str(ev.outcome), actor: str(ev.actor) }
  return null
}

interface Lane {
  readonly name: string
  // Bucket index -> bucket, in a sparse array: index * width is its start.
  buckets: Array<MutableBucket | undefined>
  samples: number
  bad: number
}
interface MutableBucket {
  phase: Phase
  samples: number
  bad: number
  latencyMax: number
  latencySum: number
}

const merge = (a: MutableBucket | undefined, b: MutableBucket | undefined): MutableBucket | undefined => {
  if (a === undefined) return b
  if (b === undefined) return a
  return {
    // A bucket straddling two phases shows the later: the picture favours what came next.
    phase: b.phase,
    samples: a.samples + b.samples,
    bad: a.bad + b.bad,
    latencyMax: Math.max(a.latencyMax, b.latencyMax),
    latencySum: a.latencySum + b.latencySum
  }
}

// Sample buckets that double their width whenever a lane would need more than `max`.
const sampleLanes = (max: number) => {
  const lanes = new Map<string, Lane>()
  let width = 10
  const coarsen = () => {
    width *= 2
    for (const lane of lanes.values()) {
      const next: Array<MutableBucket | undefined> = []
      for (let i = 0; i < lane.buckets.length; i += 2) next.push(merge(lane.buckets[i], lane.buckets[i + 1]))
      lane.buckets = next
    }
  }
  const add = (name: string, phase: Phase, atMs: number, ok: boolean, latency: number) => {
    const lane = lanes.get(name) ?? { name, buckets: [], samples: 0, bad: 0 }
    lanes.set(name, lane)
    const t = Math.max(0, atMs)
    while (Math.floor(t / width) >= max) coarsen()
    const i = Math.floor(t / width)
    const b = lane.buckets[i] ??= { phase, samples: 0, bad: 0, latencyMax: 0, latencySum: 0 }
    b.phase = phase
    b.samples++
    b.latencySum += latency
    b.latencyMax = Math.max(b.latencyMax, latency)
    lane.samples++
    if (!ok) {
      b.bad++
      lane.bad++
    }
  }
  const result = (): ReadonlyArray<HypothesisLane> =>
    [...lanes.values()].map((l) => ({
      name: l.name,
      samples: l.samples,
      bad: l.bad,
      buckets: l.buckets.flatMap((b, i) =>
        b === undefined ? [] : [{
          fromMs: i * width,
          widthMs: width,
          phase: b.phase,
          samples: b.samples,
          bad: b.bad,
          latencyMaxMs: b.latencyMax,
          latencyMeanMs: b.latencySum / b.samples
        }]
      )
    }))
  return { add, result }
}

// Steps by id, in the order they started.
const stepBars = (stepOf: (entry: Entry) => StepMark | null) => {
  const steps = new Map<string, StepBar>()
  const step = (e: Entry, t: number) => {
    const m = stepOf(e)
    if (m === null) return
    if (m.edge === "start") {
      steps.set(m.id, { id: m.id, name: m.name, kind: m.kind ?? null, actor: m.actor ?? null, fromMs: t, toMs: null, outcome: null })
    } else {
      const s = steps.get(m.id)
      if (s) steps.set(m.id, { ...s, toMs: t, outcome: m.outcome ?? null, actor: m.actor ?? s.actor })
    }
  }
  return { step, result: () => [...steps.values()] }
}

// Fault bars by id, from injection to revert.
const faultBars = () => {
  const faults = new Map<string, FaultBar>()
  const step = (ev: Entry["event"], t: number) => {
    switch (ev._tag) {
      case "FaultInjecting":
        faults.set(ev.faultId, { faultId: ev.faultId, fault: ev.fault, target: `${ev.target.kind} ${ev.target.name}`, fromMs: t, toMs: null, failed: null })
        break
      case "FaultInjected": {
        const f = faults.get(ev.faultId)
        if (f) faults.set(ev.faultId, { ...f, fromMs: t })
        break
      }
      case "FaultInjectFailed":
      case "FaultReverted":
      case "FaultRevertFailed": {
        const f = faults.get(ev.faultId)
        const failed = ev._tag === "FaultInjectFailed" ? "inject" : ev._tag === "FaultRevertFailed" ? "revert" : f?.failed ?? null
        if (f) faults.set(ev.faultId, { ...f, toMs: ev._tag === "FaultRevertFailed" ? f.toMs : t, failed })
        break
      }
    }
  }
  return { step, result: () => [...faults.values()] }
}

// Phase spans: first sample sent to last answer, per phase.
const phaseSpans = () => {
  const phases = new Map<Phase, { from: number; to: number }>()
  const add = (phase: Phase, from: number, to: number) => {
    const p = phases.get(phase) ?? { from, to }
    p.from = Math.min(p.from, from)
    p.to = Math.max(p.to, to)
    phases.set(phase, p)
  }
  const result = (): ReadonlyArray<PhaseSpan> =>
    (["before", "during", "after"] as const).flatMap((p) => {
      const s = phases.get(p)
      return s ? [{ phase: p, fromMs: s.from, toMs: s.to }] : []
    })
  return { add, result }
}

/**
 * The timeline as a streaming fold over journal entries. It keeps aggregated sample
 * buckets, one record per fault, step and abort, and the stopwatches' folds; never the
 * entries. `result()` may be read at any point (a live view), and again later.
 *
 * @since 0.1.0
 */
export const fold = (options: Options = {}): Fold<Model> => {
  let first: Entry | null = null
  let last = 0
  let experiment = ""
  let status = "running"
  let rtoSpec: { readonly from: string | null } | null = null
  let rtoStart: number | null = null
  let readBackAt: number | null = null
  const lanes = sampleLanes(options.maxBuckets ?? 600)
  const phases = phaseSpans()
  const faults = faultBars()
  const aborts: Array<AbortMark> = []
  const acks: Array<{ readonly seq: number; readonly mono: number }> = []
  const steps = stepBars(options.stepOf ?? defaultStepOf)
  const rtoFold = Stopwatch.rtoFold()
  const rpoFold = Stopwatch.rpoFold()
  const step = (e: Entry) => {
    first ??= e
    const t = e.mono - first.mono
    last = Math.max(last, t)
    rtoFold.step(e)
    rpoFold.step(e)
    steps.step(e, t)
    faults.step(e.event, t)
    const ev = e.event
    if (ev._tag === "RunStarted") {
      experiment = ev.experiment
      rtoSpec = ev.rto
    } else if (ev._tag === "RunEnded") status = ev.status
    else if (ev._tag === "Sample") {
      const at = ev.sample.mono - first.mono
      lanes.add(ev.hypothesis, ev.phase, at, ev.sample.ok, ev.sample.latencyMs)
      phases.add(ev.phase, at, at + ev.sample.latencyMs)
      last = Math.max(last, at + ev.sample.latencyMs)
    } else if (ev._tag === "FaultInjected") {
      if (rtoSpec !== null && rtoStart === null && (rtoSpec.from === null || rtoSpec.from === ev.fault)) rtoStart = ev.startedMono - first.mono
    } else if (ev._tag === "AbortFired") aborts.push({ atMs: t, condition: ev.condition, reason: ev.reason })
    else if (ev._tag === "HeartbeatAck") acks.push({ seq: ev.seq, mono: ev.mono - first.mono })
    else if (ev._tag === "HeartbeatReadBack") readBackAt ??= t
  }
  const result = (): Model => ({
    runId: first?.runId ?? "",
    experiment,
    status,
    startedAt: first?.at ?? 0,
    mono0: first?.mono ?? 0,
    endMs: last,
    phases: phases.result(),
    hypotheses: lanes.result(),
    faults: faults.result(),
    aborts: aborts.slice(),
    rto: rtoOf(rtoStart, rtoFold.result()),
    rpo: rpoOf(rpoFold.result(), acks),
    rpoReadBack: readBackOf(readBackAt, rpoFold.result()),
    steps: steps.result()
  })
  return { step, result }
}

const rtoOf = (from: number | null, r: Stopwatch.RtoResult | null): RtoBracket | null =>
  from === null || r === null ? null : {
    fromMs: from,
    detectAtMs: r.outageObserved && r.detectMs !== null ? from + r.detectMs : null,
    recoveredAtMs: r.outageObserved && r.measuredMs !== null ? from + r.measuredMs : null,
    resolutionMs: r.resolutionMs,
    outageObserved: r.outageObserved
  }

// The window the RPO stopwatch measured: the last surviving acknowledged write before the
// first lost one, to the last lost one (see `Stopwatch.rpoFold`).
const rpoOf = (r: Stopwatch.RpoResult | null, acks: ReadonlyArray<{ readonly seq: number; readonly mono: number }>): RpoWindow | null => {
  if (r === null || r.lostWrites === 0) return null
  const lost = new Set(r.lostSeqs)
  const firstLost = acks.findIndex((a) => lost.has(a.seq))
  const lastLost = acks.findLastIndex((a) => lost.has(a.seq))
  if (firstLost < 0) return null
  let before: number | undefined
  for (let i = 0; i < acks.length; i++) if (acks[i]!.seq < acks[firstLost]!.seq && !lost.has(acks[i]!.seq)) before = i
  return { fromMs: acks[before ?? firstLost]!.mono, toMs: acks[lastLost]!.mono, lostWrites: r.lostWrites, ackedWrites: r.ackedWrites }
}

const readBackOf = (atMs: number | null, r: Stopwatch.RpoResult | null): Model["rpoReadBack"] =>
  atMs === null || r === null ? null : { atMs, ackedWrites: r.ackedWrites, lostWrites: r.lostWrites }

/**
 * The timeline of entries held in memory (see `fold`).
 *
 * @since 0.1.0
 */
export const fromEntries = (entries: Iterable<Entry>, options: Options = {}): Model => {
  const f = fold(options)
  for (const e of entries) f.step(e)
  return f.result()
}

/**
 * Options of `render`.
 *
 * @since 0.1.0
 */
export interface RenderOptions {
  /** The width of the drawing in SVG units (default 1000); it scales to its container. */
  readonly width?: number
  /** The `id` of the `<svg>` element (default `timeline`), for labels and tests. */
  readonly id?: string
}

/**
 * Draws the timeline as one `<svg>` element: phases, per-hypothesis sample lanes (good and
 * bad differ in colour and shape) with their latency, fault bars, drill steps with actors,
 * the RTO bracket split into detect and recover, the RPO window and abort markers.
 * Self-contained: its own `<style>` (light and dark through `prefers-color-scheme`), no
 * script, no external reference. Every mark carries a `<title>` (read by screen readers and
 * shown on hover) and `data-from-ms` / `data-to-ms` with the times it stands for; the
 * `<svg>` carries `data-x0`, `data-x1` (the plot's left and right edges in SVG units) and
 * `data-span-ms`, so a test can check that a mark sits where its times put it.
 *
 * @since 0.1.0
 */
export const render = (model: Model, options: RenderOptions = {}): string => renderSvg(model, options)
