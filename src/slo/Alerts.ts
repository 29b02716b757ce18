/**
 * Multi-window, multi-burn-rate alerts (the SRE workbook, chapter 5): an alert fires when the
 * burn rate is at or above its factor over both a long window (it matters) and a short one
 * (it is still happening), so it fires fast on a heavy burn and resets soon after it stops.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import type * as SloSpec from "../core/SloSpec.ts"
import * as Slo from "./Slo.ts"

/**
 * One alerting rule.
 *
 * @since 0.2.0
 */
export interface Rule {
  readonly severity: "page" | "ticket"
  readonly factor: number
  readonly long: Duration.Input
  readonly short: Duration.Input
}

/**
 * The workbook's rules for a 30-day budget: 2% spent in 1 hour (14.4x) or 5% in 6 hours (6x)
 * pages; 10% in 3 days (1x) opens a ticket.
 *
 * @since 0.2.0
 */
export const workbook: ReadonlyArray<Rule> = [
  { severity: "page", factor: 14.4, long: "1 hour", short: "5 minutes" },
  { severity: "page", factor: 6, long: "6 hours", short: "30 minutes" },
  { severity: "ticket", factor: 1, long: "3 days", short: "6 hours" }
]

/**
 * A rule firing at `at`, with the burn rates it saw over both windows.
 *
 * @since 0.2.0
 */
export interface Alert {
  readonly rule: Rule
  readonly at: number
  readonly longRate: number
  readonly shortRate: number
}

const ms = (d: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(d))

/**
 * The rules that fire at `now`.
 *
 * @since 0.2.0
 */
export const firing = (slo: SloSpec.Slo, p: Slo.Prepared, now: number, rules: ReadonlyArray<Rule> = workbook): ReadonlyArray<Alert> =>
  rules.flatMap((rule) => {
    const longRate = Slo.burnRate(slo, p, now, ms(rule.long)).rate
    const shortRate = Slo.burnRate(slo, p, now, ms(rule.short)).rate
    return longRate >= rule.factor && shortRate >= rule.factor ? [{ rule, at: now, longRate, shortRate }] : []
  })

/**
 * Evaluates the rules every `step` from `from` to `to` (inclusive) and returns each rule's
 * transitions to firing: the instants an alerting system evaluating that often would page.
 *
 * @since 0.2.0
 */
export const scan = (
  slo: SloSpec.Slo,
  p: Slo.Prepared,
  options: { readonly from: number; readonly to: number; readonly step?: Duration.Input; readonly rules?: ReadonlyArray<Rule> }
): ReadonlyArray<Alert> => {
  const step = ms(options.step ?? "1 minute")
  const rules = options.rules ?? workbook
  const on = new Set<Rule>()
  const out: Array<Alert> = []
  for (let t = options.from; t <= options.to; t += step) {
    const now = new Set(
      firing(slo, p, t, rules).map((a) => {
        if (!on.has(a.rule)) out.push(a)
        return a.rule
      })
    )
    on.clear()
    for (const r of now) on.add(r)
  }
  return out
}
