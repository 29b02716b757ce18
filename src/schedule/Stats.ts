/**
 * What the run history says, as pure functions of its rows: pass rate, RTO and RPO p50/p95
 * and their trend, MTTR, MTBF and availability, overall and per window. Nothing is reported
 * that the rows do not hold: a figure with no measurement behind it is null, not zero.
 *
 * @since 0.2.0
 */
import type * as History from "./History.ts"

/** Statuses of runs that did not run a drill: they are not events. @since 0.2.0 */
export const notRun: ReadonlySet<string> = new Set(["refused", "planned", "running"])
/** Statuses in which the drill found the system failing its hypothesis or objectives. @since 0.2.0 */
export const failing: ReadonlySet<string> = new Set(["deviated", "aborted", "failed"])

/**
 * The `q` quantile (nearest rank) of sorted values; null for none.
 *
 * @since 0.2.0
 */
export const quantile = (sorted: ArrayLike<number>, q: number): number | null => sorted.length === 0 ? null : sorted[rank(sorted.length, q)]!

const rank = (n: number, q: number) => Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))

// The k-th smallest value, found in place in linear expected time (Hoare's selection):
// a history of 100,000 runs needs three medians and a p95, not three sorts.
const select = (a: Float64Array, k: number): number => {
  let lo = 0
  let hi = a.length - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i]! < pivot) i++
      while (a[j]! > pivot) j--
      if (i <= j) {
        const t = a[i]!
        a[i++] = a[j]!
        a[j--] = t
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return a[k]!
  }
  return a[k]!
}

/**
 * The `q` quantile (nearest rank) of unsorted values, without sorting them; null for none.
 *
 * @since 0.2.0
 */
export const quantileOf = (values: ArrayLike<number>, q: number): number | null =>
  values.length === 0 ? null : select(Float64Array.from(values), rank(values.length, q))

/** @since 0.2.0 */
export interface Percentiles {
  readonly n: number
  readonly p50: number | null
  readonly p95: number | null
  /** p50 of the earlier and the later half of the measurements (by time), and which way it went. */
  readonly trend: {
    readonly earlierP50: number | null
    readonly laterP50: number | null
    readonly direction: "improving" | "worsening" | "steady" | "unknown"
  }
}

/**
 * Percentiles of measurements in time order, with their trend (a change of more than 10%
 * between the halves' medians; lower is better).
 *
 * @since 0.2.0
 */
export const percentiles = (inOrder: ReadonlyArray<number>): Percentiles => {
  const n = inOrder.length
  const half = Math.floor(n / 2)
  // One copy for the whole and one per half; each quantile is a selection, not a sort.
  const all = Float64Array.from(inOrder)
  const earlier = all.slice(0, half)
  const later = all.slice(half)
  const earlierP50 = half === 0 ? null : select(earlier, rank(half, 0.5))
  const laterP50 = half === 0 ? null : select(later, rank(n - half, 0.5))
  const p50 = n === 0 ? null : select(all, rank(n, 0.5))
  const p95 = n === 0 ? null : select(all, rank(n, 0.95))
  const direction = earlierP50 === null || laterP50 === null
    ? "unknown" as const
    : laterP50 < earlierP50 * 0.9
    ? "improving" as const
    : laterP50 > earlierP50 * 1.1
    ? "worsening" as const
    : "steady" as const
  return { n, p50, p95, trend: { earlierP50, laterP50, direction } }
}

/** @since 0.2.0 */
export interface Summary {
  readonly from: number
  readonly to: number
  /** Every indexed run, and those that ran a drill (not refused, planned or unfinished). */
  readonly runs: number
  readonly ran: number
  readonly passed: number
  readonly passRate: number | null
  readonly rto: Percentiles
  readonly rpo: Percentiles
  /** Mean measured RTO: the mean time to recover from the faults the drills injected. */
  readonly mttrMs: number | null
  /** The span observed over the number of failing drills; null when none failed. */
  readonly mtbfMs: number | null
  /** MTBF / (MTBF + MTTR); null when either is unknown. */
  readonly availability: number | null
  readonly failures: number
}

// Running totals of one span of time; `add` is called once per run, in start order.
class Acc {
  runs = 0
  ran = 0
  passed = 0
  failures = 0
  readonly rto: Array<number> = []
  readonly rpo: Array<number> = []
  add(status: string, rtoMs: number | null, rpoMs: number | null) {
    this.runs++
    if (notRun.has(status)) return
    this.ran++
    if (status === "passed") this.passed++
    else if (failing.has(status)) this.failures++
    if (rtoMs !== null) this.rto.push(rtoMs)
    if (rpoMs !== null) this.rpo.push(rpoMs)
  }
  result(from: number, to: number): Summary {
    const mttrMs = this.rto.length === 0 ? null : this.rto.reduce((a, b) => a + b, 0) / this.rto.length
    const mtbfMs = this.failures === 0 ? null : (to - from) / this.failures
    return {
      from,
      to,
      runs: this.runs,
      ran: this.ran,
      passed: this.passed,
      passRate: this.ran === 0 ? null : this.passed / this.ran,
      rto: percentiles(this.rto),
      rpo: percentiles(this.rpo),
      mttrMs,
      mtbfMs,
      availability: mttrMs === null || mtbfMs === null ? null : mtbfMs / (mtbfMs + mttrMs),
      failures: this.failures
    }
  }
}

/**
 * Summarises the runs (in start order) that started in `[from, to)`.
 *
 * @since 0.2.0
 */
export const summarise = (rows: ReadonlyArray<History.Fact>, from: number, to: number): Summary => {
  const acc = new Acc()
  for (const [startedAt, status, rtoMs, rpoMs] of rows) {
    if (startedAt >= from && startedAt < to) acc.add(status, rtoMs, rpoMs)
  }
  return acc.result(from, to)
}

/**
 * The summary over `[from, to)` and one per window of `windowMs` in it (the last may be
 * shorter), in one pass over the runs.
 *
 * @since 0.2.0
 */
export const report = (rows: ReadonlyArray<History.Fact>, from: number, to: number, windowMs: number) => {
  const overall = new Acc()
  const count = Math.max(1, Math.ceil((to - from) / windowMs))
  const accs = Array.from({ length: count }, () => new Acc())
  for (const [startedAt, status, rtoMs, rpoMs] of rows) {
    if (startedAt < from || startedAt >= to) continue
    overall.add(status, rtoMs, rpoMs)
    accs[Math.floor((startedAt - from) / windowMs)]!.add(status, rtoMs, rpoMs)
  }
  return {
    overall: overall.result(from, to),
    windows: accs.map((a, i) => a.result(from + i * windowMs, Math.min(to, from + (i + 1) * windowMs)))
  }
}
