/**
 * Guards: checks that must pass before any target is touched.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SloSpec from "./SloSpec.ts"
import type { Target } from "./Target.ts"

/** @since 0.1.0 */
export const Guard = Schema.Union([
  Schema.TaggedStruct("AllowLabel", { key: Schema.String, value: Schema.String }),
  Schema.TaggedStruct("MaxTargets", { n: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)) }),
  Schema.TaggedStruct("Environment", { variable: Schema.String, allowed: Schema.Array(Schema.String) }),
  Schema.TaggedStruct("ChangeFreeze", {
    windows: Schema.Array(Schema.Struct({ from: Schema.String, to: Schema.String, reason: Schema.optionalKey(Schema.String) }))
  }),
  Schema.TaggedStruct("ErrorBudget", {
    slo: SloSpec.Slo,
    minRemaining: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1))
  })
])
/** @since 0.1.0 */
export type Guard = typeof Guard.Type

/** Every target must carry label `key=value`. @since 0.1.0 */
export const allowLabel = (key: string, value = "true"): Guard => ({ _tag: "AllowLabel", key, value })
/** At most `n` targets per fault (blast-radius cap). @since 0.1.0 */
export const maxTargets = (n: number): Guard => ({ _tag: "MaxTargets", n })
/** The environment variable `variable` must hold one of `allowed`. @since 0.1.0 */
export const environment = (variable: string, allowed: ReadonlyArray<string>): Guard => ({
  _tag: "Environment",
  variable,
  allowed
})
/** Refuse to run inside any of these ISO-8601 windows. @since 0.1.0 */
export const changeFreeze = (windows: ReadonlyArray<{ from: string; to: string; reason?: string }>): Guard => ({
  _tag: "ChangeFreeze",
  windows
})

/**
 * Refuse to run unless at least `minRemaining` (a share, 0..1) of the SLO's error budget is
 * left. Judged at plan time, before any probe runs, from the run's `SloSource`; without one
 * (or when the source does not answer) the guard refuses: a gate that cannot see the budget
 * does not open.
 *
 * @example
 * ```ts
 * Guard.errorBudget({ slo: checkoutAvailability, minRemaining: 0.25 })
 * ```
 * @since 0.2.0
 */
export const errorBudget = (options: { readonly slo: SloSpec.Slo; readonly minRemaining: number }): Guard => ({
  _tag: "ErrorBudget",
  slo: options.slo,
  minRemaining: options.minRemaining
})

/**
 * A guard refused the run; nothing was touched.
 *
 * @since 0.1.0
 */
export class GuardRejected extends Schema.TaggedError<GuardRejected>()("GuardRejected", {
  guard: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `guard ${this.guard} refused: ${this.reason}`
  }
}

/**
 * Whether a guard judges the targets (allow label, cap) or only the run's circumstances
 * (environment, change freeze): the latter are checked before anything starts.
 *
 * @since 0.1.0
 */
export const needsTargets = (g: Guard): boolean => g._tag === "AllowLabel" || g._tag === "MaxTargets"

/** A readable name for a guard. @since 0.1.0 */
export const describe = (g: Guard): string => {
  switch (g._tag) {
    case "AllowLabel":
      return `allowLabel(${g.key}=${g.value})`
    case "MaxTargets":
      return `maxTargets(${g.n})`
    case "Environment":
      return `environment(${g.variable} in ${g.allowed.join("|")})`
    case "ChangeFreeze":
      return `changeFreeze(${g.windows.length} windows)`
    case "ErrorBudget":
      return `errorBudget(${g.slo.name} >= ${g.minRemaining})`
  }
}

/**
 * Checks one guard against the targets a fault would touch.
 *
 * @since 0.1.0
 */
export const check = (g: Guard, targets: ReadonlyArray<Target>): Effect.Effect<string, GuardRejected> =>
  Effect.gen(function*() {
    const reject = (reason: string) => Effect.fail(new GuardRejected({ guard: describe(g), reason }))
    switch (g._tag) {
      case "AllowLabel": {
        const missing = targets.filter((t) => t.labels[g.key] !== g.value)
        if (missing.length > 0) {
          return yield* reject(`${missing.map((t) => `${t.kind} ${t.name} (${t.id})`).join(", ")} lacks label ${g.key}=${g.value}`)
        }
        return `${targets.length} targets carry ${g.key}=${g.value}`
      }
      case "MaxTargets":
        if (targets.length > g.n) return yield* reject(`${targets.length} targets selected, cap is ${g.n}`)
        return `${targets.length} <= ${g.n} targets`
      case "Environment": {
        const v = process.env[g.variable]
        if (v === undefined || !g.allowed.includes(v)) {
          return yield* reject(`${g.variable}=${v ?? "(unset)"} is not one of ${g.allowed.join(", ")}`)
        }
        return `${g.variable}=${v}`
      }
      case "ChangeFreeze": {
        const nowMs = yield* Clock.currentTimeMillis
        for (const w of g.windows) {
          const from = Date.parse(w.from)
          const to = Date.parse(w.to)
          if (Number.isNaN(from) || Number.isNaN(to)) return yield* reject(`window ${w.from}..${w.to} is not ISO-8601`)
          if (nowMs >= from && nowMs < to) {
            return yield* reject(`inside change freeze ${w.from}..${w.to}${w.reason ? ` (${w.reason})` : ""}`)
          }
        }
        return "outside every change-freeze window"
      }
      case "ErrorBudget":
        return yield* checkBudget(g, reject)
    }
  })

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

const checkBudget = (
  g: Extract<Guard, { _tag: "ErrorBudget" }>,
  reject: (reason: string) => Effect.Effect<never, GuardRejected>
): Effect.Effect<string, GuardRejected> =>
  Effect.gen(function*() {
    const source = yield* SloSpec.source
    if (Option.isNone(source)) return yield* reject(`no SLO source is configured: the budget of ${g.slo.name} cannot be read`)
    const read = yield* Effect.result(source.value.budget(g.slo))
    if (read._tag === "Failure") return yield* reject(read.failure.message)
    const b = read.success
    // No events in the window: nothing was measured, so nothing was spent; said so.
    if (b.total === 0) return `${g.slo.name}: no events in the window, budget unspent (nothing measured)`
    const seen = `${b.total - b.good} bad of ${b.total} events`
    if (b.remaining < g.minRemaining) {
      return yield* reject(`${g.slo.name}: ${pct(b.remaining)} of the error budget left (${seen}), needs ${pct(g.minRemaining)}`)
    }
    return `${g.slo.name}: ${pct(b.remaining)} of the error budget left (${seen}) >= ${pct(g.minRemaining)}`
  })
