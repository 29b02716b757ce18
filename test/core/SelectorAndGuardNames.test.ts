import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Guard, Selector, Target } from "../../src/index.ts"

// Selectors and guards are journaled and reported by name (TargetsResolved.selector,
// GuardChecked.guard, the NoTargets and CapExceeded messages): each name must say what it is.

const t = (id: number, name: string, labels: Record<string, string> = {}) => Target.make({ kind: "process", id: String(id), name, labels })

describe("Selector.describe", () => {
  it("names the match and the pick", () => {
    assert.strictEqual(Selector.describe(Selector.all), "all")
    assert.strictEqual(Selector.describe(Selector.id("i-1", "i-2")), "id(i-1,i-2)")
    assert.strictEqual(Selector.describe(Selector.name("a", "b")), "name(a,b)")
    assert.strictEqual(Selector.describe(Selector.label("tier", "web")), "label(tier=web)")
    assert.strictEqual(Selector.describe(Selector.regex(/^db/)), "regex(/^db/)")
    assert.strictEqual(Selector.describe(Selector.count(Selector.all, 2)), "all count(2)")
    assert.strictEqual(Selector.describe(Selector.percent(Selector.name("a"), 50)), "name(a) percent(50)")
    assert.strictEqual(Selector.describe(Selector.random(Selector.label("tier", "web"), 3, 7)), "label(tier=web) random(3, seed 7)")
  })

  it("a selector picks every match until told otherwise", () => {
    assert.deepStrictEqual(Selector.name("a").pick, { _tag: "Every" })
  })

  it.effect("the errors carry the selector's name", () =>
    Effect.gen(function*() {
      const none = yield* Effect.flip(Selector.select(Selector.id("nope"), [t(1, "a")]))
      assert.strictEqual(none.message, "no target matches id(nope) (among 1 candidates)")
      const over = yield* Effect.flip(Selector.select(Selector.cap(Selector.all, 1), [t(1, "a"), t(2, "b")]))
      assert.strictEqual(over.message, "all selects 2 targets, above its cap of 1")
    }))
})

describe("Selector.random", () => {
  it.effect("over many seeds, every candidate is picked about as often as the others", () =>
    Effect.gen(function*() {
      const candidates = [t(1, "a"), t(2, "b"), t(3, "c"), t(4, "d")]
      const seeds = 2000
      const counts = new Map<string, number>()
      for (let seed = 0; seed < seeds; seed++) {
        const [chosen] = yield* Selector.select(Selector.random(Selector.all, 1, seed), candidates)
        counts.set(chosen!.name, (counts.get(chosen!.name) ?? 0) + 1)
      }
      // 500 expected each; a fair shuffle stays within +-100 (about 5 standard deviations).
      for (const c of candidates) {
        const n = counts.get(c.name) ?? 0
        assert.isTrue(n > 400 && n < 600, `${c.name} picked ${n} times of ${seeds}`)
      }
    }))
})

describe("Guard.describe", () => {
  it("names every guard with its parameters", () => {
    assert.strictEqual(Guard.describe(Guard.allowLabel("chaos", "yes")), "allowLabel(chaos=yes)")
    assert.strictEqual(Guard.describe(Guard.maxTargets(3)), "maxTargets(3)")
    assert.strictEqual(Guard.describe(Guard.environment("ENV", ["staging", "dev"])), "environment(ENV in staging|dev)")
    assert.strictEqual(
      Guard.describe(Guard.changeFreeze([{ from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" }])),
      "changeFreeze(1 windows)"
    )
  })

  it.effect("the reasons list every offending target and allowed value", () =>
    Effect.gen(function*() {
      const lacking = yield* Effect.flip(Guard.check(Guard.allowLabel("chaos"), [t(1, "a"), t(2, "b"), t(3, "c", { chaos: "true" })]))
      assert.strictEqual(lacking.reason, "process a (1), process b (2) lacks label chaos=true")
      assert.strictEqual(yield* Guard.check(Guard.maxTargets(2), [t(1, "a"), t(2, "b")]), "2 <= 2 targets")
      const env = yield* Effect.flip(Guard.check(Guard.environment("FAULTLINE_TEST_UNSET_VARIABLE", ["staging", "dev"]), []))
      assert.strictEqual(env.reason, "FAULTLINE_TEST_UNSET_VARIABLE=(unset) is not one of staging, dev")
    }))
})
