/**
 * Tolerances: predicates over samples or windows of samples.
 *
 * Sample tolerances (exact, range, regex, predicate) judge each sample's value; a sample
 * is good when its probe succeeded and every sample tolerance holds. Window tolerances
 * (success ratio, latency percentile) judge the whole window.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import type { Sample } from "./Probe.ts"

/** @since 0.1.0 */
export type Tolerance =
  | { readonly _tag: "Exact"; readonly value: unknown }
  | { readonly _tag: "Range"; readonly min: number; readonly max: number }
  | { readonly _tag: "Regex"; readonly pattern: string }
  | { readonly _tag: "Predicate"; readonly name: string; readonly test: (value: unknown) => boolean }
  | { readonly _tag: "Latency"; readonly percentile: number; readonly maxMs: number }
  | { readonly _tag: "SuccessRatio"; readonly atLeast: number; readonly confidence: number }
  | { readonly _tag: "All"; readonly of: ReadonlyArray<Tolerance> }

/**
 * A string that compiles as a JavaScript regular expression.
 *
 * @since 0.1.0
 */
export const ValidRegex = Schema.String.check(Schema.makeFilter((s: string) => {
  try {
    new RegExp(s)
    return true
  } catch (e) {
    return `not a valid regular expression: ${(e as Error).message}`
  }
}))

/**
 * The serialisable tolerances (all but `predicate`), as they appear in experiment files.
 *
 * @since 0.1.0
 */
export const ToleranceSpec: Schema.Codec<Exclude<Tolerance, { _tag: "Predicate" }>> = Schema.Union([
  Schema.TaggedStruct("Exact", { value: Schema.Unknown }),
  Schema.TaggedStruct("Range", { min: Schema.Finite, max: Schema.Finite }),
  Schema.TaggedStruct("Regex", { pattern: ValidRegex }),
  Schema.TaggedStruct("Latency", {
    percentile: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100, exclusiveMinimum: true })),
    maxMs: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
  }),
  Schema.TaggedStruct("SuccessRatio", {
    atLeast: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    confidence: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true }))
  }),
  Schema.TaggedStruct("All", { of: Schema.Array(Schema.suspend((): Schema.Codec<any> => ToleranceSpec)) })
]) as any

/** The probe value equals `value` (deep, by JSON). @since 0.1.0 */
export const exact = (value: unknown): Tolerance => ({ _tag: "Exact", value })
/** The probe value is a number in `[min, max]`. @since 0.1.0 */
export const range = (min: number, max: number): Tolerance => ({ _tag: "Range", min, max })
/** The probe value, as text, matches `pattern`. @since 0.1.0 */
export const regex = (pattern: string | RegExp): Tolerance => ({
  _tag: "Regex",
  pattern: typeof pattern === "string" ? pattern : pattern.source
})
/** The probe value satisfies `test` (TypeScript experiments only: a function is not data). @since 0.1.0 */
export const predicate = (name: string, test: (value: unknown) => boolean): Tolerance => ({
  _tag: "Predicate",
  name,
  test
})
/**
 * The given latency percentile of the window is at most `max`, e.g. `latency({ p99: "200 millis" })`.
 *
 * @since 0.1.0
 */
export const latency = (options: { readonly [K in `p${number}`]?: Duration.Input }): Tolerance => {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined)
  const one = ([k, v]: [string, Duration.Input | undefined]): Tolerance => ({
    _tag: "Latency",
    percentile: Number(k.slice(1)),
    maxMs: Duration.toMillis(Duration.fromInputUnsafe(v!))
  })
  return entries.length === 1 ? one(entries[0]!) : { _tag: "All", of: entries.map(one) }
}
/**
 * The Wilson lower bound of the window's success ratio, at `confidence`, is at least `atLeast`.
 *
 * @since 0.1.0
 */
export const successRatio = (options: { readonly atLeast: number; readonly confidence?: number }): Tolerance => ({
  _tag: "SuccessRatio",
  atLeast: options.atLeast,
  confidence: options.confidence ?? 0.95
})
/** Every tolerance holds. @since 0.1.0 */
export const all = (...of: ReadonlyArray<Tolerance>): Tolerance => ({ _tag: "All", of })

// Acklam's rational approximation of the normal quantile; error < 1.2e-9, ample here.
const normalQuantile = (p: number): number => {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const lo = 0.02425
  // Stryker disable next-line EqualityOperator: at p = lo both branches of the approximation agree to 1e-9
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  }
  // Stryker disable next-line EqualityOperator: at p = 1 - lo both branches of the approximation agree to 1e-9
  if (p > 1 - lo) return -normalQuantile(1 - p)
  const q = p - 0.5
  const r = q * q
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
}

/**
 * The Wilson score interval's lower bound for `successes` out of `n`, two-sided at `confidence`.
 *
 * @since 0.1.0
 */
export const wilsonLowerBound = (successes: number, n: number, confidence: number): number => {
  if (n === 0) return 0
  const z = normalQuantile(1 - (1 - confidence) / 2)
  const phat = successes / n
  const z2 = z * z
  const centre = phat + z2 / (2 * n)
  const margin = z * Math.sqrt((phat * (1 - phat)) / n + z2 / (4 * n * n))
  return Math.max(0, (centre - margin) / (1 + z2 / n))
}

/** Nearest-rank percentile of a list of numbers. @since 0.1.0 */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((x, y) => x - y)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

const textOf = (v: unknown): string => typeof v === "string" ? v : JSON.stringify(v)

const holdsFor = (t: Tolerance, value: unknown): boolean => {
  switch (t._tag) {
    case "Exact":
      return textOf(value) === textOf(t.value)
    case "Range":
      return typeof value === "number" && value >= t.min && value <= t.max
    case "Regex":
      return new RegExp(t.pattern).test(textOf(value))
    case "Predicate":
      return t.test(value)
    case "All":
      return t.of.every((x) => holdsFor(x, value))
    default:
      return true
  }
}

/**
 * Whether one sample is good: its probe succeeded and every sample tolerance holds.
 *
 * @since 0.1.0
 */
export const isGood = (t: Tolerance, sample: Sample): boolean => sample.ok && holdsFor(t, sample.value)

/**
 * The outcome of judging a window of samples.
 *
 * @since 0.1.0
 */
export interface Judgement {
  readonly met: boolean
  readonly samples: number
  readonly good: number
  readonly details: ReadonlyArray<string>
}

/**
 * A window being judged, one sample at a time: `add` each sample, `judge` at any point.
 * Memory stays small however long the window: counts, plus the latencies of successful
 * samples — exact up to `EXACT_LATENCIES` of them, then in buckets 0.1 % wide (a latency
 * percentile is then reported as its bucket's upper bound, never below the true value).
 *
 * @since 0.1.0
 */
export interface Accumulator {
  readonly add: (sample: Sample) => void
  readonly judge: () => Judgement
}

/** How many latencies a window keeps exactly before it switches to buckets. @since 0.1.0 */
export const EXACT_LATENCIES = 65_536

const BUCKET = 1.001
const LOG_BUCKET = Math.log(BUCKET)

// Latencies of successful samples: an exact list while it is small, buckets beyond.
const latencyWindow = () => {
  let exact: Array<number> | null = []
  const buckets = new Map<number, number>()
  let n = 0
  const bucketOf = (v: number) => v <= 0 ? -Infinity : Math.ceil(Math.log(v) / LOG_BUCKET)
  const toBucket = (v: number) => {
    const b = bucketOf(v)
    buckets.set(b, (buckets.get(b) ?? 0) + 1)
  }
  return {
    add: (v: number) => {
      n++
      if (exact !== null) {
        exact.push(v)
        if (exact.length > EXACT_LATENCIES) {
          exact.forEach(toBucket)
          exact = null
        }
      } else toBucket(v)
    },
    count: () => n,
    // Nearest rank, as `percentile` computes it on the exact list.
    percentile: (p: number): { readonly value: number; readonly exact: boolean } => {
      if (exact !== null) return { value: percentile(exact, p), exact: true }
      const rank = Math.max(1, Math.ceil((p / 100) * n))
      let seen = 0
      for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
        seen += buckets.get(b)!
        if (seen >= rank) return { value: b === -Infinity ? 0 : Math.pow(BUCKET, b), exact: false }
      }
      return { value: Number.NaN, exact: false }
    }
  }
}

/**
 * Starts judging a window against a tolerance; `judge(t, samples)` is this fold over an array.
 *
 * @since 0.1.0
 */
export const accumulate = (t: Tolerance): Accumulator => {
  let n = 0
  let good = 0
  const latencies = hasLatency(t) ? latencyWindow() : null
  return {
    add: (s) => {
      n++
      if (isGood(t, s)) good++
      if (s.ok) latencies?.add(s.latencyMs)
    },
    judge: () => judgeCounts(t, n, good, latencies)
  }
}

const hasLatency = (x: Tolerance): boolean => x._tag === "Latency" || (x._tag === "All" && x.of.some(hasLatency))

/**
 * Judges a window of samples against a tolerance.
 *
 * @since 0.1.0
 */
export const judge = (t: Tolerance, samples: ReadonlyArray<Sample>): Judgement => {
  const acc = accumulate(t)
  for (const s of samples) acc.add(s)
  return acc.judge()
}

const judgeCounts = (
  t: Tolerance,
  n: number,
  good: number,
  latencies: ReturnType<typeof latencyWindow> | null
): Judgement => {
  const details: Array<string> = []
  const check = (x: Tolerance): boolean => {
    switch (x._tag) {
      case "All":
        // An empty conjunction judges nothing: it holds only for a window with samples.
        return x.of.length === 0 ? n > 0 && good === n : x.of.map(check).every(Boolean)
      case "SuccessRatio": {
        const lb = wilsonLowerBound(good, n, x.confidence)
        const ok = n > 0 && lb >= x.atLeast
        details.push(
          `success ${good}/${n}, Wilson lower bound ${lb.toFixed(4)} at ${x.confidence} ${ok ? ">=" : "<"} ${x.atLeast}`
        )
        return ok
      }
      case "Latency": {
        const count = latencies?.count() ?? 0
        const { value: v, exact } = count === 0 ? { value: Number.NaN, exact: true } : latencies!.percentile(x.percentile)
        const ok = count > 0 && v <= x.maxMs
        const shown = Number.isNaN(v) ? "n/a" : exact ? v.toFixed(2) : `<= ${v.toFixed(2)} (0.1 % buckets)`
        details.push(`p${x.percentile} latency ${shown} ms ${ok ? "<=" : ">"} ${x.maxMs} ms`)
        return ok
      }
      default: {
        // A sample tolerance alone requires every sample to be good.
        const ok = n > 0 && good === n
        details.push(`${describe(x)}: ${good}/${n} samples hold`)
        return ok
      }
    }
  }
  const hasRatio = (x: Tolerance): boolean => x._tag === "SuccessRatio" || (x._tag === "All" && x.of.some(hasRatio))
  // With a success ratio present, sample tolerances feed its notion of "good" instead of
  // demanding perfection on their own; without one, every sample must be good.
  const met = hasRatio(t) ? checkWindowOnly(t, check) : check(t)
  return { met, samples: n, good, details }
}

const checkWindowOnly = (t: Tolerance, check: (x: Tolerance) => boolean): boolean => {
  if (t._tag === "All") return t.of.map((x) => checkWindowOnly(x, check)).every(Boolean)
  if (t._tag === "SuccessRatio" || t._tag === "Latency") return check(t)
  return true
}

/** A readable description of a tolerance. @since 0.1.0 */
export const describe = (t: Tolerance): string => {
  switch (t._tag) {
    case "Exact":
      return `exact(${textOf(t.value)})`
    case "Range":
      return `range(${t.min}..${t.max})`
    case "Regex":
      return `regex(/${t.pattern}/)`
    case "Predicate":
      return `predicate(${t.name})`
    case "Latency":
      return `p${t.percentile} <= ${t.maxMs} ms`
    case "SuccessRatio":
      return `success ratio >= ${t.atLeast} at ${t.confidence} confidence`
    case "All":
      return t.of.map(describe).join(" and ")
  }
}

/**
 * A tolerance as JSON-safe data (a predicate is kept by name only).
 *
 * @since 0.1.0
 */
export const toJSON = (t: Tolerance): unknown =>
  t._tag === "Predicate" ? { _tag: "Predicate", name: t.name } : t._tag === "All" ? { _tag: "All", of: t.of.map(toJSON) } : t
