/**
 * Small statistics and reporting helpers for the benchmarks.
 */

/** One figure in bench/results.json. */
export interface Row {
  readonly name: string
  readonly unit: string
  readonly baseline: number | null
  readonly measured: number | null
  readonly p50: number | null
  readonly p95: number | null
  readonly p99: number | null
  readonly goal: string | null
  readonly met: boolean | null
}

/** Nearest-rank percentile (the definition faultline's Tolerance uses); NaN for no values. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((x, y) => x - y)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

export const mean = (values: ReadonlyArray<number>): number => values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length

export const min = (values: ReadonlyArray<number>): number => Math.min(...values)
export const max = (values: ReadonlyArray<number>): number => Math.max(...values)

/** Rounds for JSON output; non-finite numbers become null. */
export const round = (x: number | null, digits = 3): number | null => {
  if (x === null || !Number.isFinite(x)) return null
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export const row = (r: Row): Row => ({
  name: r.name,
  unit: r.unit,
  baseline: round(r.baseline),
  measured: round(r.measured),
  p50: round(r.p50),
  p95: round(r.p95),
  p99: round(r.p99),
  goal: r.goal,
  met: r.met
})

const cell = (v: number | string | boolean | null): string => {
  if (v === null) return "-"
  if (typeof v === "number") {
    const a = Math.abs(v)
    return a !== 0 && a < 0.01 ? v.toExponential(2) : v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3)
  }
  if (typeof v === "boolean") return v ? "yes" : "NO"
  return v
}

/** Renders rows as a fixed-width text table. */
export const table = (rows: ReadonlyArray<Row>): string => {
  const head = ["name", "unit", "baseline", "measured", "p50", "p95", "p99", "goal", "met"]
  const body = rows.map((r) => [r.name, r.unit, r.baseline, r.measured, r.p50, r.p95, r.p99, r.goal, r.met].map(cell))
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const numeric = new Set([2, 3, 4, 5, 6])
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n")
}

/** A one-line summary of a sample distribution, for diagnostics. */
export const summary = (values: ReadonlyArray<number>, unit = "ms"): string =>
  values.length === 0
    ? "(no values)"
    : `n=${values.length} min=${min(values).toFixed(3)} p50=${percentile(values, 50).toFixed(3)} ` +
      `p95=${percentile(values, 95).toFixed(3)} p99=${percentile(values, 99).toFixed(3)} max=${max(values).toFixed(3)} ` +
      `mean=${mean(values).toFixed(3)} ${unit}`
