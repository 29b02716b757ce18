import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Selector, Target } from "../../src/index.ts"

const t = (id: number, name: string, labels: Record<string, string> = {}) => Target.make({ kind: "process", id: String(id), name, labels })

// Discovery order matters for count and percent.
const candidates = [
  t(101, "api-1", { tier: "web", zone: "a" }),
  t(102, "api-2", { tier: "web", zone: "b" }),
  t(103, "db-primary", { tier: "data", zone: "a" }),
  t(104, "db-replica", { tier: "data", zone: "b" }),
  t(105, "cache", { tier: "data", zone: "a" })
]
const names = (ts: ReadonlyArray<Target.Target>) => ts.map((x) => x.name)

const many = Array.from({ length: 20 }, (_, i) => t(1000 + i, `w-${String(i).padStart(2, "0")}`, { role: "worker" }))

describe("Selector.select: matching", () => {
  it.effect("by id", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(names(yield* Selector.select(Selector.id("103"), candidates)), ["db-primary"])
      assert.deepStrictEqual(names(yield* Selector.select(Selector.id("105", "101"), candidates)), ["api-1", "cache"])
    }))

  it.effect("by name", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(names(yield* Selector.select(Selector.name("cache", "api-2"), candidates)), ["api-2", "cache"])
    }))

  it.effect("by label", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(names(yield* Selector.select(Selector.label("tier", "data"), candidates)), ["db-primary", "db-replica", "cache"])
      assert.deepStrictEqual(names(yield* Selector.select(Selector.label("zone", "b"), candidates)), ["api-2", "db-replica"])
    }))

  it.effect("by regex over names (string or RegExp)", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(names(yield* Selector.select(Selector.regex("^db-"), candidates)), ["db-primary", "db-replica"])
      assert.deepStrictEqual(names(yield* Selector.select(Selector.regex(/api-\d$/), candidates)), ["api-1", "api-2"])
    }))

  it.effect("all", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(names(yield* Selector.select(Selector.all, candidates)), names(candidates))
    }))
})

describe("Selector.select: picking", () => {
  it.effect("count takes the first n matches in discovery order", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(names(yield* Selector.select(Selector.count(Selector.label("tier", "data"), 2), candidates)), ["db-primary", "db-replica"])
      // More than there are: all of them.
      assert.deepStrictEqual(names(yield* Selector.select(Selector.count(Selector.regex("^api"), 5), candidates)), ["api-1", "api-2"])
    }))

  it.effect("percent rounds up and takes at least one", () =>
    Effect.gen(function*() {
      const sel = (p: number) => Selector.cap(Selector.percent(Selector.all, p), 20)
      assert.strictEqual((yield* Selector.select(sel(50), many)).length, 10)
      assert.strictEqual((yield* Selector.select(sel(12), many)).length, 3) // 2.4 -> 3
      assert.strictEqual((yield* Selector.select(sel(26), many)).length, 6) // 5.2 -> 6
      assert.strictEqual((yield* Selector.select(sel(1), many)).length, 1) // 0.2 -> 1
      assert.strictEqual((yield* Selector.select(sel(100), many)).length, 20)
      // 40% of 5 is 2, taken from the front.
      assert.deepStrictEqual(names(yield* Selector.select(Selector.percent(Selector.all, 40), candidates)), ["api-1", "api-2"])
      // 10% of 2 matches is 0.2: still one.
      assert.deepStrictEqual(names(yield* Selector.select(Selector.percent(Selector.regex("^db"), 10), candidates)), ["db-primary"])
    }))

  it.effect("random: size n, a subset of the matches, no duplicates", () =>
    Effect.gen(function*() {
      const workers = Selector.label("role", "worker")
      for (let seed = 0; seed < 50; seed++) {
        const chosen = yield* Selector.select(Selector.random(workers, 4, seed), [...candidates, ...many])
        assert.strictEqual(chosen.length, 4)
        assert.strictEqual(new Set(chosen.map((x) => x.id)).size, 4)
        for (const c of chosen) assert.strictEqual(c.labels.role, "worker", `seed ${seed} chose ${c.name}`)
      }
      // n above the number of matches: every match, once.
      const small = yield* Selector.select(Selector.random(Selector.regex("^db"), 5, 7), candidates)
      assert.deepStrictEqual(names(small).sort(), ["db-primary", "db-replica"])
    }))

  it.effect("random: the same seed gives the same choice; different seeds vary", () =>
    Effect.gen(function*() {
      const pick = (seed: number) => Effect.map(Selector.select(Selector.random(Selector.all, 3, seed), many), (ts) => ts.map((x) => x.id).join(","))
      for (const seed of [0, 1, 42, 123456, -7]) {
        assert.strictEqual(yield* pick(seed), yield* pick(seed), `seed ${seed}`)
      }
      const distinct = new Set<string>()
      for (let seed = 0; seed < 30; seed++) distinct.add(yield* pick(seed))
      assert.isAtLeast(distinct.size, 10, `only ${distinct.size} distinct choices over 30 seeds`)
      // Over many seeds, every worker is chosen at least once: the shuffle is not stuck at the front.
      const seen = new Set<string>()
      for (let seed = 0; seed < 200; seed++) for (const id of (yield* pick(seed)).split(",")) seen.add(id)
      assert.strictEqual(seen.size, many.length)
    }))

  it.effect("random does not depend on candidate order being stable across calls (it is pure)", () =>
    Effect.gen(function*() {
      const copy = many.slice()
      const a = yield* Selector.select(Selector.random(Selector.all, 5, 99), many)
      yield* Selector.select(Selector.random(Selector.all, 5, 3), many)
      const b = yield* Selector.select(Selector.random(Selector.all, 5, 99), many)
      assert.deepStrictEqual(names(a), names(b))
      // The input list is not shuffled in place.
      assert.deepStrictEqual(names(many), names(copy))
    }))
})

describe("Selector.select: failures", () => {
  it.effect("a selection above the cap is refused, not truncated", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Selector.select(Selector.cap(Selector.label("tier", "data"), 2), candidates))
      assert.strictEqual(e._tag, "CapExceeded")
      assert.isTrue(e._tag === "CapExceeded" && e.selected === 3 && e.cap === 2)
      assert.include(e.message, "label(tier=data)")
      assert.include(e.message, "cap of 2")
      // The default cap is 10: 20 workers are too many without an explicit cap.
      const d = yield* Effect.flip(Selector.select(Selector.all, many))
      assert.isTrue(d._tag === "CapExceeded" && d.selected === 20 && d.cap === Selector.DEFAULT_CAP)
      // The cap applies after picking: count(2) under cap 2 is fine.
      const ok = yield* Selector.select(Selector.cap(Selector.count(Selector.label("tier", "data"), 2), 2), candidates)
      assert.strictEqual(ok.length, 2)
    }))

  it.effect("no match fails with NoTargets naming the selector", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Selector.select(Selector.name("payments"), candidates))
      assert.strictEqual(e._tag, "NoTargets")
      assert.isTrue(e._tag === "NoTargets" && e.candidates === candidates.length)
      assert.include(e.message, "name(payments)")
      const r = yield* Effect.flip(Selector.select(Selector.count(Selector.regex("^zz"), 1), candidates))
      assert.include(r.message, "regex(/^zz/)")
      const l = yield* Effect.flip(Selector.select(Selector.label("tier", "edge"), []))
      assert.isTrue(l._tag === "NoTargets" && l.candidates === 0)
      assert.include(l.message, "label(tier=edge)")
    }))
})
