/**
 * SLOs and error budgets: the arithmetic. An SLI is a count of good and total events; the
 * error budget over a window is the share of bad events the objective allows; its burn rate
 * is how fast it is being spent. Pure functions over a series of event counts, so every
 * figure can be checked by hand (and under `TestClock`).
 *
 * @since 0.2.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as SloSpec from "../core/SloSpec.ts"

export {
  /** @since 0.2.0 */
  Slo,
  /** @since 0.2.0 */
  SloSource,
  /** @since 0.2.0 */
  SloUnavailable
} from "../core/SloSpec.ts"

/**
 * Makes an SLO.
 *
 * @example
 * ```ts
 * const availability = Slo.make({
 *   name: "kv availability",
 *   sli: { monitor: "kv serves" },
 *   objective: 0.999,
 *   window: "28 days"
 * })
 * ```
 * @since 0.2.0
 */
export const make = (slo: SloSpec.Slo): SloSpec.Slo => slo

/**
 * Event counts in time order: bucket `i` started at `at[i]` (epoch ms) and saw `good[i]` good
 * and `total[i]` events, `degraded[i]` of which were degraded (neither good nor plainly bad).
 *
 * @since 0.2.0
 */
export interface Series {
  readonly at: ArrayLike<number>
  readonly good: ArrayLike<number>
  readonly total: ArrayLike<number>
  readonly degraded?: ArrayLike<number> | undefined
}

/**
 * The bounds `[from, to)` of the SLO's window at `now`: the last `window` for a rolling one,
 * from the first instant of the current month in its time zone for a calendar one.
 *
 * @since 0.2.0
 */
export const windowAt = (slo: SloSpec.Slo, now: number): { readonly from: number; readonly to: number } => {
  if (typeof slo.window === "string") {
    return { from: now - Duration.toMillis(Duration.fromInputUnsafe(slo.window as Duration.Input)), to: now }
  }
  const zoned = DateTime.makeZonedUnsafe(now, { timeZone: slo.window.timeZone })
  return { from: DateTime.toEpochMillis(DateTime.startOf(zoned, "month")), to: now }
}

/**
 * The length of the whole window the SLO is judged over at `now` (a calendar month is the
 * full month, DST included: March in Berlin is 743 hours).
 *
 * @since 0.2.0
 */
export const windowLength = (slo: SloSpec.Slo, now: number): number => {
  if (typeof slo.window === "string") return Duration.toMillis(Duration.fromInputUnsafe(slo.window as Duration.Input))
  const zoned = DateTime.makeZonedUnsafe(now, { timeZone: slo.window.timeZone })
  return DateTime.toEpochMillis(DateTime.endOf(zoned, "month")) + 1 - DateTime.toEpochMillis(DateTime.startOf(zoned, "month"))
}

// First index whose time is >= t.
const lowerBound = (at: ArrayLike<number>, t: number): number => {
  let lo = 0
  let hi = at.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (at[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * A series prepared for window queries: maintenance removed, degraded events counted bad or
 * left out as the SLO says, and prefix sums so that any window costs two binary searches.
 *
 * @since 0.2.0
 */
export interface Prepared {
  readonly at: ArrayLike<number>
  /** `goodSum[i]` = good events in buckets `[0, i)`. */
  readonly goodSum: Float64Array
  readonly totalSum: Float64Array
}

const maintenanceRanges = (slo: SloSpec.Slo): ReadonlyArray<readonly [number, number]> =>
  (slo.maintenance ?? []).map((m) => [Date.parse(m.from), Date.parse(m.to)] as const).filter(([a, b]) => !Number.isNaN(a) && !Number.isNaN(b))

/**
 * Prepares a series for `count`, `budget` and `burnRate`.
 *
 * @since 0.2.0
 */
export const prepare = (slo: SloSpec.Slo, series: Series): Prepared => {
  const n = series.at.length
  const goodSum = new Float64Array(n + 1)
  const totalSum = new Float64Array(n + 1)
  const excludeDegraded = slo.degraded === "exclude"
  const maint = maintenanceRanges(slo)
  let g = 0
  let t = 0
  for (let i = 0; i < n; i++) {
    const at = series.at[i]!
    let inMaintenance = false
    for (let k = 0; k < maint.length; k++) {
      if (at >= maint[k]![0] && at < maint[k]![1]) {
        inMaintenance = true
        break
      }
    }
    if (!inMaintenance) {
      g += series.good[i]!
      t += series.total[i]! - (excludeDegraded && series.degraded ? series.degraded[i]! : 0)
    }
    goodSum[i + 1] = g
    totalSum[i + 1] = t
  }
  return { at: series.at, goodSum, totalSum }
}

/**
 * Good and total events of the buckets that started in `[from, to)`.
 *
 * @since 0.2.0
 */
export const count = (p: Prepared, from: number, to: number): { readonly good: number; readonly total: number } => {
  const a = lowerBound(p.at, from)
  const b = lowerBound(p.at, to)
  return { good: p.goodSum[b]! - p.goodSum[a]!, total: p.totalSum[b]! - p.totalSum[a]! }
}

/**
 * The share of the error budget left given good and total events: 1 - (bad / total) /
 * (1 - objective). 1 with no events (nothing was spent; the caller says nothing was measured).
 *
 * @since 0.2.0
 */
export const remaining = (objective: number, good: number, total: number): number => total === 0 ? 1 : 1 - ((total - good) / total) / (1 - objective)

/**
 * The burn rate given good and total events: the bad share over the allowed bad share.
 *
 * @since 0.2.0
 */
export const rate = (objective: number, good: number, total: number): number => total === 0 ? 0 : ((total - good) / total) / (1 - objective)

/**
 * The error budget of the SLO at `now` over its window.
 *
 * @since 0.2.0
 */
export const budget = (slo: SloSpec.Slo, p: Prepared, now: number): SloSpec.BudgetReading => {
  const { from, to } = windowAt(slo, now)
  const c = count(p, from, to)
  return { ...c, remaining: remaining(slo.objective, c.good, c.total), from, to }
}

/**
 * The burn rate of the SLO over the last `windowMs` before `now`.
 *
 * @since 0.2.0
 */
export const burnRate = (slo: SloSpec.Slo, p: Prepared, now: number, windowMs: number): SloSpec.BurnReading => {
  const c = count(p, now - windowMs, now)
  return { ...c, rate: rate(slo.objective, c.good, c.total) }
}
