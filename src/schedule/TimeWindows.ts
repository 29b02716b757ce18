/**
 * Windows of time in a time zone: a dated one (`from`/`to`, local date-times unless they carry
 * an offset) or a recurring one (a cron expression for its start and a duration). Freeze
 * windows and allowed windows of the scheduler are both.
 *
 * @since 0.2.0
 */
import * as Cron from "effect/Cron"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/**
 * A window as written in a drills file.
 *
 * @since 0.2.0
 */
export const Window = Schema.Union([
  Schema.Struct({ from: Schema.String, to: Schema.String, reason: Schema.optionalKey(Schema.String) }),
  Schema.Struct({ cron: Schema.String, for: Schema.String, reason: Schema.optionalKey(Schema.String) })
])
/** @since 0.2.0 */
export type Window = typeof Window.Type

/**
 * A window ready to be asked whether it contains an instant.
 *
 * @since 0.2.0
 */
export interface Compiled {
  readonly describe: string
  readonly reason: string | undefined
  /** The window's `[start, end)` that contains `t`, or null. */
  readonly at: (t: number) => { readonly start: number; readonly end: number } | null
}

/**
 * Whether `timeZone` is an IANA time zone this runtime knows ("Europe/Berlin", "UTC").
 *
 * @since 0.2.0
 */
export const isTimeZone = (timeZone: string): boolean => Option.isSome(DateTime.zoneMakeNamed(timeZone))

/**
 * An instant from a date-time written in `timeZone` ("2026-12-24", "2026-12-24T18:00"), or
 * from one with an explicit offset ("2026-12-24T18:00:00Z"); null when it is not a date.
 *
 * @since 0.2.0
 */
export const localInstant = (text: string, timeZone: string): number | null => {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/.test(text)) return null
  if (/(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const t = Date.parse(text)
    return Number.isNaN(t) ? null : t
  }
  const asUtc = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`)
  if (Number.isNaN(asUtc)) return null
  return DateTime.toEpochMillis(DateTime.makeZonedUnsafe(asUtc, { timeZone, adjustForTimeZone: true }))
}

/**
 * Parses a duration such as "8 hours"; null when it is not one.
 *
 * @since 0.2.0
 */
export const durationMs = (text: string): number | null =>
  /^\d+(\.\d+)? (millis?|seconds?|minutes?|hours?|days?|weeks?)$/.test(text) ? Duration.toMillis(Duration.fromInputUnsafe(text as Duration.Input)) : null

/**
 * Parses a cron expression in a time zone; the problem as a string when it is not one.
 *
 * @since 0.2.0
 */
export const cron = (expr: string, timeZone: string): Cron.Cron | string => {
  const r = Cron.parse(expr, timeZone)
  return Result.isSuccess(r) ? r.success : `not a cron expression: ${JSON.stringify(expr)} (${r.failure.message})`
}

/**
 * Compiles a window; the problem as a string when it is malformed.
 *
 * @since 0.2.0
 */
export const compile = (w: Window, timeZone: string): Compiled | string => {
  if ("from" in w) {
    const from = localInstant(w.from, timeZone)
    const to = localInstant(w.to, timeZone)
    if (from === null) return `from: not a date: ${JSON.stringify(w.from)}`
    if (to === null) return `to: not a date: ${JSON.stringify(w.to)}`
    if (to <= from) return `to ${w.to} is not after from ${w.from}`
    return { describe: `${w.from}..${w.to} (${timeZone})`, reason: w.reason, at: (t) => t >= from && t < to ? { start: from, end: to } : null }
  }
  const c = cron(w.cron, timeZone)
  if (typeof c === "string") return `cron: ${c}`
  const len = durationMs(w.for)
  if (len === null || len <= 0) return `for: expected a duration such as "8 hours", got ${JSON.stringify(w.for)}`
  return {
    describe: `${w.cron} for ${w.for} (${timeZone})`,
    reason: w.reason,
    at: (t) => {
      // The latest start at or before t has the latest end: if it does not cover t, none does.
      const start = Cron.prev(c, t + 1).getTime()
      return t < start + len ? { start, end: start + len } : null
    }
  }
}
