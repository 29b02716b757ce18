/**
 * Sampler windows: what a run keeps in memory of its own journal while it runs. A game day
 * lasts hours (a million samples an hour is ordinary), so the run streams its journal to
 * disk and keeps only what it reads back before it ends: the recent samples abort
 * conditions watch, a running judgement of each hypothesis during the method, the live RTO
 * and the heartbeat acknowledgements the RPO read-back needs.
 *
 * @since 0.1.0
 */
import type { Hypothesis } from "./Hypothesis.ts"
import type { Entry } from "./Journal.ts"
import type { Sample } from "./Probe.ts"
import * as Stopwatch from "./Stopwatch.ts"
import * as Tolerance from "./Tolerance.ts"

/**
 * A run's sampler windows, fed every journal entry by the run's journal.
 *
 * @since 0.1.0
 */
export interface Windows {
  /** Sees one journal entry (the run's journal calls this for each, in order). */
  readonly observe: (entry: Entry) => void
  /** Keep at least the last `overMs` of `hypothesis`' samples during the method, from now on. */
  readonly retain: (hypothesis: string, overMs: number) => void
  /** The kept samples of `hypothesis` during the method, in journal order (see `retain`). */
  readonly recent: (hypothesis: string) => ReadonlyArray<Sample>
  /** The judgement of every sample of `hypothesis` during the method so far. */
  readonly during: (hypothesis: Hypothesis<any>) => Tolerance.Judgement
  /** Every acknowledged heartbeat sequence number, in order. */
  readonly acked: () => ReadonlyArray<number>
  /** The RTO as measured so far. */
  readonly rto: () => Stopwatch.RtoResult | null
  /** The RPO once read back. */
  readonly rpo: () => Stopwatch.RpoResult | null
}

// Samples in journal order with a moving start: old ones are dropped from the front.
interface Recent {
  horizonMs: number
  samples: Array<Sample>
  head: number
}

/**
 * When a sample completed (or its probe timed out), on the monotonic clock: windows are
 * built from this, so a probe slower than the window still lands in one.
 *
 * @since 0.1.0
 */
export const completedAt = (sample: Sample): number => sample.mono + sample.latencyMs

/**
 * Makes the windows of a run of `hypotheses`.
 *
 * @since 0.1.0
 */
export const make = (hypotheses: ReadonlyArray<Hypothesis<any>>): Windows => {
  // During the method a hypothesis is judged by its `during` tolerance (an observed one by
  // its own tolerance, for the report; it does not count).
  const judges = new Map(hypotheses.map((h) => [h.name, Tolerance.accumulate(h.during === "observe" ? h.tolerance : h.during)] as const))
  const recent = new Map<string, Recent>()
  const unregistered = new Map<string, ReadonlyArray<Sample>>()
  const rto = Stopwatch.rtoFold()
  const rpo = Stopwatch.rpoFold()
  const keep = (r: Recent, sample: Sample, nowMono: number) => {
    r.samples.push(sample)
    // A sample older than the longest window anyone watches can never be counted again:
    // a watcher scanning back from the newest sample stops at the first one that old.
    const cutoff = nowMono - r.horizonMs
    while (r.head < r.samples.length && completedAt(r.samples[r.head]!) < cutoff) r.head++
    if (r.head > 1024 && r.head * 2 > r.samples.length) {
      r.samples = r.samples.slice(r.head)
      r.head = 0
    }
  }
  return {
    observe: (entry) => {
      const ev = entry.event
      if (ev._tag === "Sample" && ev.phase === "during") {
        const judge = judges.get(ev.hypothesis)
        if (judge !== undefined) judge.add(ev.sample)
        // A hypothesis the run was not made with (a test context): kept to judge on demand.
        else unregistered.set(ev.hypothesis, [...(unregistered.get(ev.hypothesis) ?? []), ev.sample])
        const r = recent.get(ev.hypothesis)
        if (r !== undefined) keep(r, ev.sample, entry.mono)
      }
      rto.step(entry)
      rpo.step(entry)
    },
    retain: (hypothesis, overMs) => {
      const r = recent.get(hypothesis)
      if (r === undefined) recent.set(hypothesis, { horizonMs: overMs, samples: [], head: 0 })
      else r.horizonMs = Math.max(r.horizonMs, overMs)
    },
    recent: (hypothesis) => {
      const r = recent.get(hypothesis)
      return r === undefined ? [] : r.head === 0 ? r.samples : r.samples.slice(r.head)
    },
    during: (h) => judges.get(h.name)?.judge() ?? Tolerance.judge(h.during === "observe" ? h.tolerance : h.during, unregistered.get(h.name) ?? []),
    acked: rpo.acked,
    rto: rto.result,
    rpo: rpo.result
  }
}
