/**
 * Selectors: how targets are chosen from what a driver discovered.
 *
 * A selector is data: a match (which candidates qualify), a pick (how many of those are
 * taken) and a hard cap. Resolving a selector is a pure function of the candidate list
 * and the seed, so a dry-run plan and the real run choose the same targets.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Target from "./Target.ts"

/** @since 0.1.0 */
export const Match = Schema.Union([
  Schema.TaggedStruct("All", {}),
  Schema.TaggedStruct("Id", { ids: Schema.Array(Schema.String) }),
  Schema.TaggedStruct("Name", { names: Schema.Array(Schema.String) }),
  Schema.TaggedStruct("Label", { key: Schema.String, value: Schema.String }),
  Schema.TaggedStruct("Regex", { pattern: Schema.String })
])
/** @since 0.1.0 */
export type Match = typeof Match.Type

/** @since 0.1.0 */
export const Pick = Schema.Union([
  Schema.TaggedStruct("Every", {}),
  Schema.TaggedStruct("Count", { n: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)) }),
  Schema.TaggedStruct("Percent", { p: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100 })) }),
  Schema.TaggedStruct("Random", { n: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)), seed: Schema.Int })
])
/** @since 0.1.0 */
export type Pick = typeof Pick.Type

/**
 * How targets are chosen. `cap` is a hard limit: a selection larger than it is refused,
 * never silently truncated.
 *
 * @since 0.1.0
 */
export class Selector extends Schema.Class<Selector>("faultline/Selector")({
  match: Match,
  pick: Pick,
  cap: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
}) {}

/** The default hard cap when none is given. @since 0.1.0 */
export const DEFAULT_CAP = 10

const of = (match: Match): Selector => new Selector({ match, pick: { _tag: "Every" }, cap: DEFAULT_CAP })

/** Every discovered target. @since 0.1.0 */
export const all: Selector = of({ _tag: "All" })
/** Targets by id. @since 0.1.0 */
export const id = (...ids: ReadonlyArray<string>): Selector => of({ _tag: "Id", ids })
/** Targets by name. @since 0.1.0 */
export const name = (...names: ReadonlyArray<string>): Selector => of({ _tag: "Name", names })
/** Targets carrying label `key=value`. @since 0.1.0 */
export const label = (key: string, value: string): Selector => of({ _tag: "Label", key, value })
/** Targets whose name matches a regular expression. @since 0.1.0 */
export const regex = (pattern: string | RegExp): Selector => of({ _tag: "Regex", pattern: typeof pattern === "string" ? pattern : pattern.source })

/** Take the first `n` matches (in discovery order). @since 0.1.0 */
export const count = (self: Selector, n: number): Selector => new Selector({ ...self, pick: { _tag: "Count", n } })
/** Take `p` percent of the matches, rounded up, at least one. @since 0.1.0 */
export const percent = (self: Selector, p: number): Selector => new Selector({ ...self, pick: { _tag: "Percent", p } })
/** Take `n` matches chosen by a seeded pseudo-random shuffle (same seed, same choice). @since 0.1.0 */
export const random = (self: Selector, n: number, seed: number): Selector => new Selector({ ...self, pick: { _tag: "Random", n, seed } })
/** Set the hard cap. @since 0.1.0 */
export const cap = (self: Selector, max: number): Selector => new Selector({ ...self, cap: max })

/**
 * No discovered target matched the selector.
 *
 * @since 0.1.0
 */
export class NoTargets extends Schema.TaggedError<NoTargets>()("NoTargets", {
  selector: Schema.String,
  candidates: Schema.Int
}) {
  override get message() {
    return `no target matches ${this.selector} (among ${this.candidates} candidates)`
  }
}

/**
 * The selection is larger than the selector's hard cap.
 *
 * @since 0.1.0
 */
export class CapExceeded extends Schema.TaggedError<CapExceeded>()("CapExceeded", {
  selector: Schema.String,
  selected: Schema.Int,
  cap: Schema.Int
}) {
  override get message() {
    return `${this.selector} selects ${this.selected} targets, above its cap of ${this.cap}`
  }
}

/**
 * A readable description of a selector, used in errors, plans and reports.
 *
 * @since 0.1.0
 */
export const describe = (self: Selector): string => {
  const m = self.match
  const match = m._tag === "All"
    ? "all"
    : m._tag === "Id"
    ? `id(${m.ids.join(",")})`
    : m._tag === "Name"
    ? `name(${m.names.join(",")})`
    : m._tag === "Label"
    ? `label(${m.key}=${m.value})`
    : `regex(/${m.pattern}/)`
  const p = self.pick
  const pick = p._tag === "Every"
    ? ""
    : p._tag === "Count"
    ? ` count(${p.n})`
    : p._tag === "Percent"
    ? ` percent(${p.p})`
    : ` random(${p.n}, seed ${p.seed})`
  return `${match}${pick}`
}

const matches = (m: Match, t: Target.Target): boolean => {
  switch (m._tag) {
    case "All":
      return true
    case "Id":
      return m.ids.includes(t.id)
    case "Name":
      return m.names.includes(t.name)
    case "Label":
      return t.labels[m.key] === m.value
    case "Regex":
      return new RegExp(m.pattern).test(t.name)
  }
}

// mulberry32: a tiny, well-distributed PRNG; enough for reproducible target choice.
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Chooses targets from candidates; pure and deterministic for a given seed.
 *
 * @since 0.1.0
 */
export const select = (
  self: Selector,
  candidates: ReadonlyArray<Target.Target>
): Effect.Effect<ReadonlyArray<Target.Target>, NoTargets | CapExceeded> =>
  Effect.suspend((): Effect.Effect<ReadonlyArray<Target.Target>, NoTargets | CapExceeded> => {
    const matched = candidates.filter((t) => matches(self.match, t))
    if (matched.length === 0) {
      return Effect.fail(new NoTargets({ selector: describe(self), candidates: candidates.length }))
    }
    const p = self.pick
    let chosen: ReadonlyArray<Target.Target>
    switch (p._tag) {
      case "Every":
        chosen = matched
        break
      case "Count":
        chosen = matched.slice(0, p.n)
        break
      case "Percent":
        chosen = matched.slice(0, Math.max(1, Math.ceil((matched.length * p.p) / 100)))
        break
      case "Random": {
        const next = prng(p.seed)
        const shuffled = [...matched]
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.floor(next() * (i + 1))
          const tmp = shuffled[i]!
          shuffled[i] = shuffled[j]!
          shuffled[j] = tmp
        }
        chosen = shuffled.slice(0, p.n)
        break
      }
    }
    if (chosen.length > self.cap) {
      return Effect.fail(new CapExceeded({ selector: describe(self), selected: chosen.length, cap: self.cap }))
    }
    return Effect.succeed(chosen)
  })
