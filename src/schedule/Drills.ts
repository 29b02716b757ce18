/**
 * The drills file (`drills.yaml`): which experiments run when — on a cron schedule, or
 * unannounced at a seeded random time inside each occurrence of a window — with freeze and
 * allowed windows in a time zone, error-budget gates, target leases and a concurrency cap.
 *
 * @since 0.2.0
 */
import * as Cron from "effect/Cron"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SloSpec from "../core/SloSpec.ts"
import * as DataFile from "../slo/DataFile.ts"
import * as TimeWindows from "./TimeWindows.ts"

/** @since 0.2.0 */
export const Drill = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1)),
  /** The experiment: a .yaml/.json file or a .ts/.js module, relative to the drills file. */
  experiment: Schema.String,
  cron: Schema.optionalKey(Schema.String),
  /** A random time inside each occurrence of `within`, from `seed` and the occurrence's start. */
  unannounced: Schema.optionalKey(Schema.Struct({
    within: Schema.Struct({ cron: Schema.String, for: Schema.String }),
    seed: Schema.Int
  })),
  /** Targets (`kind:id`, e.g. `process:kv-primary`) the drill needs to itself: skipped while another run holds one. */
  targets: Schema.optionalKey(Schema.Array(Schema.String)),
  errorBudget: Schema.optionalKey(Schema.Struct({
    slo: SloSpec.Slo,
    minRemaining: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1))
  })),
  /** Who approved running this drill unattended (needed for a Tier 0 service). */
  approvedBy: Schema.optionalKey(Schema.String)
})
/** @since 0.2.0 */
export type Drill = typeof Drill.Type

/** @since 0.2.0 */
export const DrillsFile = Schema.Struct({
  timeZone: Schema.optionalKey(Schema.String),
  maxConcurrency: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /** Where run folders go (default faultline-runs, relative to the working directory). */
  out: Schema.optionalKey(Schema.String),
  /** The run history to index into and read SLIs from. */
  history: Schema.optionalKey(Schema.String),
  /** The scheduler's decision journal (default `<out>/schedule.jsonl`). */
  journal: Schema.optionalKey(Schema.String),
  freeze: Schema.optionalKey(Schema.Array(TimeWindows.Window)),
  allowed: Schema.optionalKey(Schema.Array(TimeWindows.Window)),
  drills: Schema.Array(Drill).check(Schema.isMinLength(1))
})
/** @since 0.2.0 */
export type DrillsFile = typeof DrillsFile.Type

/**
 * When a drill fires: the first firing strictly after `after` (epoch ms), or null for never.
 *
 * @since 0.2.0
 */
export interface Trigger {
  readonly describe: string
  readonly unannounced: boolean
  readonly next: (after: number) => number | null
}

/**
 * A drill ready to schedule.
 *
 * @since 0.2.0
 */
export interface Compiled {
  readonly drill: Drill
  readonly trigger: Trigger
}

/** A drills file ready to schedule. @since 0.2.0 */
export interface Plan {
  readonly file: DrillsFile
  readonly timeZone: string
  readonly maxConcurrency: number
  readonly freeze: ReadonlyArray<TimeWindows.Compiled>
  readonly allowed: ReadonlyArray<TimeWindows.Compiled>
  readonly drills: ReadonlyArray<Compiled>
}

// splitmix32: a seeded, well-mixed 32-bit generator; one draw per (seed, window start).
const draw = (seed: number, windowStart: number): number => {
  let z = (seed ^ Math.floor(windowStart / 1000)) >>> 0
  z = (z + 0x9e3779b9) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
  return ((z ^ (z >>> 16)) >>> 0) / 4294967296
}

/**
 * The unannounced firing inside the window that starts at `start` and lasts `lenMs`: seeded,
 * so the same drills file picks the same instant (and a test can check it), yet no one
 * reading the schedule can tell when it will be.
 *
 * @since 0.2.0
 */
export const unannouncedAt = (seed: number, start: number, lenMs: number): number => start + Math.floor(draw(seed, start) * lenMs / 1000) * 1000

const triggerOf = (d: Drill, timeZone: string): Trigger | string => {
  if ((d.cron === undefined) === (d.unannounced === undefined)) return "give exactly one of cron and unannounced"
  if (d.cron !== undefined) {
    const c = TimeWindows.cron(d.cron, timeZone)
    if (typeof c === "string") return `cron: ${c}`
    return { describe: `cron ${d.cron} (${timeZone})`, unannounced: false, next: (after) => Cron.next(c, after).getTime() }
  }
  const u = d.unannounced!
  const c = TimeWindows.cron(u.within.cron, timeZone)
  if (typeof c === "string") return `unannounced.within.cron: ${c}`
  const len = TimeWindows.durationMs(u.within.for)
  if (len === null || len <= 0) return `unannounced.within.for: expected a duration such as "8 hours", got ${JSON.stringify(u.within.for)}`
  return {
    describe: `unannounced within ${u.within.cron} for ${u.within.for} (${timeZone}), seed ${u.seed}`,
    unannounced: true,
    next: (after) => {
      // The window in progress (its firing may still be ahead), then the following ones.
      let start = Cron.prev(c, after + 1).getTime()
      for (let i = 0; i < 1000; i++) {
        const at = unannouncedAt(u.seed, start, len)
        if (at > after) return at
        start = Cron.next(c, start).getTime()
      }
      return null
    }
  }
}

/**
 * Checks a decoded drills file and compiles its windows and triggers; the first problem as
 * one line naming its path.
 *
 * @since 0.2.0
 */
export const compile = (f: DrillsFile, file: string): Effect.Effect<Plan, DataFile.DataFileInvalid> =>
  Effect.gen(function*() {
    const timeZone = f.timeZone ?? "UTC"
    const bad = (problem: string) => Effect.fail(new DataFile.DataFileInvalid({ file, problem }))
    if (!TimeWindows.isTimeZone(timeZone)) {
      return yield* bad(`not a time zone: ${JSON.stringify(timeZone)} at timeZone`)
    }
    const windows = (key: "freeze" | "allowed") => {
      const out: Array<TimeWindows.Compiled> = []
      for (const [i, w] of (f[key] ?? []).entries()) {
        const c = TimeWindows.compile(w, timeZone)
        if (typeof c === "string") return `${c} at ${key}[${i}]`
        out.push(c)
      }
      return out
    }
    const freeze = windows("freeze")
    if (typeof freeze === "string") return yield* bad(freeze)
    const allowed = windows("allowed")
    if (typeof allowed === "string") return yield* bad(allowed)
    const drills: Array<Compiled> = []
    for (const [i, d] of f.drills.entries()) {
      if (drills.some((x) => x.drill.name === d.name)) return yield* bad(`drill ${JSON.stringify(d.name)} is listed twice at drills[${i}].name`)
      const t = triggerOf(d, timeZone)
      if (typeof t === "string") return yield* bad(`${t} at drills[${i}]`)
      drills.push({ drill: d, trigger: t })
    }
    return { file: f, timeZone, maxConcurrency: f.maxConcurrency ?? 1, freeze, allowed, drills }
  })

/**
 * Loads and compiles a drills file.
 *
 * @since 0.2.0
 */
export const load = (file: string): Effect.Effect<Plan, DataFile.DataFileInvalid> => Effect.flatMap(DataFile.load(DrillsFile, file), (f) => compile(f, file))
