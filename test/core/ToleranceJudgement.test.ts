import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Tolerance } from "../../src/index.ts"
import type { Probe } from "../../src/index.ts"

// What a judgement says (met, and the details the report prints) at the edges the main
// Tolerance tests do not reach: empty conjunctions, exact limits, nesting, descriptions.

let clock = 0
const ok = (value?: unknown, latencyMs = 1): Probe.Sample => {
  clock += 10
  return value === undefined
    ? { at: clock, mono: clock, ok: true, latencyMs }
    : { at: clock, mono: clock, ok: true, latencyMs, value }
}
const bad = (latencyMs = 1): Probe.Sample => {
  clock += 10
  return { at: clock, mono: clock, ok: false, latencyMs, error: "boom" }
}
const repeat = <A>(n: number, f: (i: number) => A): Array<A> => Array.from({ length: n }, (_, i) => f(i))

describe("Tolerance.judge edges", () => {
  it("an empty conjunction holds only for a window whose samples all succeeded", () => {
    const none = Tolerance.all()
    assert.isFalse(Tolerance.judge(none, []).met)
    assert.isTrue(Tolerance.judge(none, [ok(), ok()]).met)
    assert.isFalse(Tolerance.judge(none, [ok(), bad()]).met)
    assert.deepStrictEqual(Tolerance.judge(none, [ok()]).details, [])
  })

  it("a success ratio of 0 is still not met by an empty window", () => {
    assert.isFalse(Tolerance.judge(Tolerance.successRatio({ atLeast: 0 }), []).met)
    assert.isTrue(Tolerance.judge(Tolerance.successRatio({ atLeast: 0 }), [bad()]).met)
  })

  it("the success-ratio detail says which side of the bound the window fell", () => {
    const t = Tolerance.successRatio({ atLeast: 0.5, confidence: 0.95 })
    const met = Tolerance.judge(t, repeat(20, () => ok()))
    assert.deepStrictEqual(met.details, [`success 20/20, Wilson lower bound ${Tolerance.wilsonLowerBound(20, 20, 0.95).toFixed(4)} at 0.95 >= 0.5`])
    const missed = Tolerance.judge(t, repeat(20, (i) => i < 15 ? bad() : ok()))
    assert.match(missed.details[0]!, /^success 5\/20, Wilson lower bound 0\.\d{4} at 0\.95 < 0\.5$/)
  })

  it("a latency exactly at the limit is within it; the detail gives the figure or n/a", () => {
    const t = Tolerance.latency({ p99: "5 millis" })
    const atLimit = Tolerance.judge(t, repeat(10, () => ok(undefined, 5)))
    assert.isTrue(atLimit.met)
    assert.deepStrictEqual(atLimit.details, ["p99 latency 5.00 ms <= 5 ms"])
    assert.deepStrictEqual(Tolerance.judge(t, repeat(10, () => ok(undefined, 6))).details, ["p99 latency 6.00 ms > 5 ms"])
    assert.deepStrictEqual(Tolerance.judge(t, [bad()]).details, ["p99 latency n/a ms > 5 ms"])
  })

  it("a sample tolerance alone says how many samples held", () => {
    const j = Tolerance.judge(Tolerance.exact("up"), [ok("up"), ok("down"), ok("up")])
    assert.isFalse(j.met)
    assert.deepStrictEqual(j.details, ["exact(up): 2/3 samples hold"])
  })

  it("with a success ratio anywhere in the tolerance, a wrong value is a bad sample, not a failed check", () => {
    const window = repeat(40, (i) => ok(i === 0 ? "degraded" : "up"))
    // Without a ratio every sample must hold.
    assert.isFalse(Tolerance.judge(Tolerance.all(Tolerance.exact("up"), Tolerance.latency({ p99: "1 second" })), window).met)
    // With one, at top level or nested, 39/40 good is enough for a ratio of 0.8.
    const flat = Tolerance.all(Tolerance.exact("up"), Tolerance.successRatio({ atLeast: 0.8 }))
    const nested = Tolerance.all(Tolerance.exact("up"), Tolerance.all(Tolerance.successRatio({ atLeast: 0.8 })))
    for (const t of [flat, nested]) {
      const j = Tolerance.judge(t, window)
      assert.strictEqual(j.good, 39)
      assert.isTrue(j.met, Tolerance.describe(t))
    }
    // Only a ratio among several parts counts: a latency next to it is still checked.
    const withLatency = Tolerance.all(Tolerance.all(Tolerance.exact("up"), Tolerance.latency({ p99: "1 millis" })), Tolerance.successRatio({ atLeast: 0.8 }))
    assert.isFalse(Tolerance.judge(withLatency, repeat(40, () => ok("up", 2))).met)
  })
})

describe("Tolerance descriptions and data", () => {
  it("describes every kind the way reports print it", () => {
    const t = Tolerance.all(
      Tolerance.exact({ state: "up" }),
      Tolerance.range(1, 2),
      Tolerance.regex(/^ok/),
      Tolerance.predicate("even", () => true),
      Tolerance.latency({ p99: "200 millis" }),
      Tolerance.successRatio({ atLeast: 0.9, confidence: 0.99 })
    )
    assert.strictEqual(
      Tolerance.describe(t),
      `exact({"state":"up"}) and range(1..2) and regex(/^ok/) and predicate(even) and p99 <= 200 ms and success ratio >= 0.9 at 0.99 confidence`
    )
  })

  it("latency with one percentile is one tolerance; unset percentiles are left out", () => {
    assert.deepStrictEqual(Tolerance.latency({ p99: "200 millis" }), { _tag: "Latency", percentile: 99, maxMs: 200 })
    assert.deepStrictEqual(Tolerance.latency({ p50: undefined, p95: "1 second" }), { _tag: "Latency", percentile: 95, maxMs: 1000 })
    assert.deepStrictEqual(Tolerance.latency({ p50: "10 millis", p99: "1 second" }), {
      _tag: "All",
      of: [{ _tag: "Latency", percentile: 50, maxMs: 10 }, { _tag: "Latency", percentile: 99, maxMs: 1000 }]
    })
  })

  it("as data, a predicate keeps its name only, also inside a conjunction", () => {
    const t = Tolerance.all(Tolerance.predicate("even", () => true), Tolerance.range(0, 1))
    assert.deepStrictEqual(JSON.parse(JSON.stringify(Tolerance.toJSON(t))), {
      _tag: "All",
      of: [{ _tag: "Predicate", name: "even" }, { _tag: "Range", min: 0, max: 1 }]
    })
  })

  it("an invalid regular expression in a file is refused with the reason", () => {
    const exit = Schema.decodeUnknownExit(Tolerance.ToleranceSpec)({ _tag: "Regex", pattern: "(" })
    assert.strictEqual(exit._tag, "Failure")
    assert.include(String(exit._tag === "Failure" ? exit.cause : ""), "not a valid regular expression: ")
  })
})
