/**
 * An SLO as data, and the service that reads its error budget. The shape lives here, in the
 * core, because guards and abort conditions carry it (`Guard.errorBudget`, `Abort.burnRate`)
 * and are data themselves; the arithmetic and the sources (faultline's own monitor,
 * Prometheus, the run history) live in `src/slo/`.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

const DurationText = Schema.String.check(Schema.makeFilter((s: string) =>
  /^\d+(\.\d+)? (millis?|seconds?|minutes?|hours?|days?|weeks?)$/.test(s) ||
  `expected a duration such as "28 days" or "1 hour", got ${JSON.stringify(s)}`
))

/**
 * The window an SLO is judged over: a rolling duration (`"28 days"`), or the current
 * calendar month in a time zone (`{ calendar: "month", timeZone: "Europe/Berlin" }`).
 *
 * @since 0.2.0
 */
export const SloWindow = Schema.Union([
  DurationText,
  Schema.Struct({
    calendar: Schema.Literal("month"),
    timeZone: Schema.String.check(Schema.makeFilter((tz: string) => Option.isSome(DateTime.zoneMakeNamed(tz)) || `not a time zone: ${JSON.stringify(tz)}`))
  })
])
/** @since 0.2.0 */
export type SloWindow = typeof SloWindow.Type

/**
 * Where an SLI's good and total events come from: faultline's own synthetic monitoring
 * (`faultline monitor`, recorded under the hypothesis' name), a Prometheus ratio (two PromQL
 * expressions in which `$window` stands for the range, e.g. `sum(increase(http_requests_total{code!~"5.."}[$window]))`),
 * or the run history (a passed run is good; refused and planned runs are not events).
 *
 * @since 0.2.0
 */
export const Sli = Schema.Union([
  Schema.Struct({ monitor: Schema.String }),
  Schema.Struct({ prometheus: Schema.Struct({ url: Schema.String, good: Schema.String, total: Schema.String }) }),
  Schema.Struct({
    history: Schema.Struct({ experiment: Schema.optionalKey(Schema.String), service: Schema.optionalKey(Schema.String) })
  })
])
/** @since 0.2.0 */
export type Sli = typeof Sli.Type

/**
 * A maintenance window (ISO-8601 instants): events inside it count neither good nor bad.
 *
 * @since 0.2.0
 */
export const Maintenance = Schema.Struct({ from: Schema.String, to: Schema.String, reason: Schema.optionalKey(Schema.String) })

/**
 * An SLO: an SLI against an objective (the share of good events, e.g. 0.999) over a window.
 * `degraded` says whether a degraded event (a slow but correct answer) counts as bad
 * (default) or is left out of the ratio.
 *
 * @since 0.2.0
 */
export const Slo = Schema.Struct({
  name: Schema.String,
  sli: Sli,
  objective: Schema.Number.check(Schema.isGreaterThan(0), Schema.isLessThan(1)),
  window: SloWindow,
  degraded: Schema.optionalKey(Schema.Literals(["bad", "exclude"])),
  maintenance: Schema.optionalKey(Schema.Array(Maintenance))
})
/** @since 0.2.0 */
export type Slo = typeof Slo.Type

/**
 * What a source measured of an SLO over its window: events, the share of the error budget
 * left (1 = untouched, 0 = spent, below 0 = overspent) and the window's bounds.
 *
 * @since 0.2.0
 */
export interface BudgetReading {
  readonly good: number
  readonly total: number
  readonly remaining: number
  readonly from: number
  readonly to: number
}

/**
 * The burn rate over a window: how fast the budget is being spent (1 = exactly as fast as
 * the objective allows).
 *
 * @since 0.2.0
 */
export interface BurnReading {
  readonly rate: number
  readonly good: number
  readonly total: number
}

/**
 * An SLO could not be read (its source did not answer, or answered nonsense).
 *
 * @since 0.2.0
 */
export class SloUnavailable extends Schema.TaggedError<SloUnavailable>()("SloUnavailable", {
  slo: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `SLO ${this.slo} unavailable: ${this.detail}`
  }
}

/**
 * Reads SLOs. Provided by `src/slo/` (`SloSources.layer`); a run without it refuses an
 * error-budget guard and aborts on a burn-rate condition, since neither can be judged.
 *
 * @since 0.2.0
 */
export class SloSource extends Context.Service<SloSource, {
  readonly budget: (slo: Slo) => Effect.Effect<BudgetReading, SloUnavailable>
  readonly burnRate: (slo: Slo, windowMs: number) => Effect.Effect<BurnReading, SloUnavailable>
}>()("faultline/SloSource") {}

/**
 * The SLO source if one is provided; a guard or abort condition never requires it in its
 * type, it says what it could not judge instead.
 *
 * @since 0.2.0
 */
export const source: Effect.Effect<Option.Option<Context.Service.Shape<typeof SloSource>>> = Effect.serviceOption(SloSource)
