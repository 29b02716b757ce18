/**
 * The service catalog (`services.yaml`): each service's tier (0 most critical .. 3), owners,
 * dependencies and SLOs, and RTO/RPO objectives per tier. An experiment that names a service
 * inherits its tier's objectives (its own objectives win) and its SLOs' error-budget gates
 * stay the experiment's choice; a Tier 0 service needs an explicit approval.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Experiment from "../core/Experiment.ts"
import * as SloSpec from "../core/SloSpec.ts"
import * as DataFile from "./DataFile.ts"

const DurationText = Schema.String.check(
  Schema.makeFilter((s: string) =>
    /^\d+(\.\d+)? (millis?|seconds?|minutes?|hours?|days?)$/.test(s) || `expected a duration such as "15 minutes", got ${JSON.stringify(s)}`
  )
)
const Objectives = Schema.Struct({ rto: Schema.optionalKey(DurationText), rpo: Schema.optionalKey(DurationText) })

/** @since 0.2.0 */
export const Service = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1)),
  tier: Schema.Literals([0, 1, 2, 3]),
  owners: Schema.Array(Schema.String).check(Schema.isMinLength(1)),
  dependencies: Schema.optionalKey(Schema.Array(Schema.String)),
  slos: Schema.optionalKey(Schema.Array(SloSpec.Slo)),
  /** Objectives of this service that override its tier's. */
  objectives: Schema.optionalKey(Objectives)
})
/** @since 0.2.0 */
export type Service = typeof Service.Type

/**
 * The shape of `services.yaml`.
 *
 * @since 0.2.0
 */
export const Catalog = Schema.Struct({
  tiers: Schema.optionalKey(Schema.Struct({
    "0": Schema.optionalKey(Objectives),
    "1": Schema.optionalKey(Objectives),
    "2": Schema.optionalKey(Objectives),
    "3": Schema.optionalKey(Objectives)
  })),
  services: Schema.Array(Service)
})
/** @since 0.2.0 */
export type Catalog = typeof Catalog.Type

/**
 * Loads and checks a catalog: names are unique and every dependency is a service of the
 * catalog (a typo would hide a dependent from the blast radius).
 *
 * @since 0.2.0
 */
export const load = (file: string): Effect.Effect<Catalog, DataFile.DataFileInvalid> =>
  Effect.flatMap(DataFile.load(Catalog, file), (c) => {
    const names = new Set<string>()
    for (const [i, s] of c.services.entries()) {
      if (names.has(s.name)) {
        return Effect.fail(new DataFile.DataFileInvalid({ file, problem: `service ${JSON.stringify(s.name)} is listed twice at services[${i}].name` }))
      }
      names.add(s.name)
    }
    for (const [i, s] of c.services.entries()) {
      for (const [j, d] of (s.dependencies ?? []).entries()) {
        if (!names.has(d)) {
          return Effect.fail(new DataFile.DataFileInvalid({ file, problem: `no service named ${JSON.stringify(d)} at services[${i}].dependencies[${j}]` }))
        }
      }
    }
    return Effect.succeed(c)
  })

/** The service named `name`, or undefined. @since 0.2.0 */
export const find = (c: Catalog, name: string): Service | undefined => c.services.find((s) => s.name === name)

/**
 * The RTO/RPO objectives a service inherits: its tier's, overridden by its own.
 *
 * @since 0.2.0
 */
export const objectivesOf = (c: Catalog, s: Service): { readonly rto?: string; readonly rpo?: string } => ({
  ...c.tiers?.[String(s.tier) as "0" | "1" | "2" | "3"],
  ...s.objectives
})

/**
 * Every service that depends on `name`, directly or through others, nearest first (breadth
 * first): what an outage of `name` may take down.
 *
 * @since 0.2.0
 */
export const blastRadius = (c: Catalog, name: string): ReadonlyArray<{ readonly service: Service; readonly via: ReadonlyArray<string> }> => {
  const out: Array<{ service: Service; via: ReadonlyArray<string> }> = []
  const seen = new Set([name])
  let frontier: Array<{ name: string; via: ReadonlyArray<string> }> = [{ name, via: [] }]
  while (frontier.length > 0) {
    const next: typeof frontier = []
    for (const f of frontier) {
      for (const s of c.services) {
        if (seen.has(s.name) || !(s.dependencies ?? []).includes(f.name)) continue
        seen.add(s.name)
        const via = [...f.via, f.name]
        out.push({ service: s, via })
        next.push({ name: s.name, via })
      }
    }
    frontier = next
  }
  return out
}

/**
 * Tier 0 needs an explicit approval; the refusal, or null.
 *
 * @since 0.2.0
 */
export const tier0Refusal = (s: Service, approved: boolean): string | null =>
  s.tier === 0 && !approved
    ? `service ${s.name} is Tier 0: an experiment on it needs an explicit approval (--allow-tier-0, or \`approvedBy\` on its scheduled drill)`
    : null

/**
 * The experiment with its service's tier recorded and the objectives it inherits (its own
 * objectives win).
 *
 * @since 0.2.0
 */
export const apply = <R>(exp: Experiment.Experiment<R>, c: Catalog, s: Service): Experiment.Experiment<R> => {
  const inherited = objectivesOf(c, s)
  const d = (x: string | undefined) => x === undefined ? undefined : Duration.fromInputUnsafe(x as Duration.Input)
  return {
    ...exp,
    service: { name: s.name, tier: s.tier },
    // An objective is inherited only where the experiment measures it: an RTO objective with
    // no RTO stopwatch could only ever be reported missed.
    objectives: {
      rto: exp.objectives.rto ?? (exp.stopwatches.rto === undefined ? undefined : d(inherited.rto)),
      rpo: exp.objectives.rpo ?? (exp.stopwatches.rpo === undefined ? undefined : d(inherited.rpo))
    }
  }
}
