import { assert, describe, it } from "@effect/vitest"
import { Tolerance } from "../../src/index.ts"
import type { Probe } from "../../src/index.ts"

type Sample = Probe.Sample

// The two-sided 95% normal quantile, from tables (not from the library's approximation).
const Z95 = 1.959963984540054
// The two-sided 99% normal quantile.
const Z99 = 2.5758293035489004

// The Wilson score lower bound written out independently of the library.
const wilson = (k: number, n: number, z: number): number => {
  const p = k / n
  const denom = 1 + (z * z) / n
  const centre = p + (z * z) / (2 * n)
  const half = z * Math.sqrt((p * (1 - p) + (z * z) / (4 * n)) / n)
  return (centre - half) / denom
}

let clock = 0
const ok = (value?: unknown, latencyMs = 1): Sample => {
  clock += 10
  return value === undefined
    ? { at: clock, mono: clock, ok: true, latencyMs }
    : { at: clock, mono: clock, ok: true, latencyMs, value }
}
const bad = (latencyMs = 1): Sample => {
  clock += 10
  return { at: clock, mono: clock, ok: false, latencyMs, error: "boom" }
}
const repeat = <A>(n: number, f: (i: number) => A): Array<A> => Array.from({ length: n }, (_, i) => f(i))

describe("Tolerance.wilsonLowerBound", () => {
  it("matches published values", () => {
    // Published / textbook values of the Wilson lower bound at 95%.
    assert.closeTo(Tolerance.wilsonLowerBound(10, 10, 0.95), 0.7225, 1e-4)
    assert.closeTo(Tolerance.wilsonLowerBound(50, 100, 0.95), 0.4038, 1e-4)
    assert.closeTo(Tolerance.wilsonLowerBound(95, 100, 0.95), 0.8883, 1e-4)
    assert.strictEqual(Tolerance.wilsonLowerBound(0, 10, 0.95), 0)
  })

  it("agrees with an independent computation at 95% and 99%", () => {
    for (const [k, n] of [[1, 1], [3, 7], [10, 10], [37, 40], [50, 100], [95, 100], [999, 1000], [0, 5]] as const) {
      assert.closeTo(Tolerance.wilsonLowerBound(k, n, 0.95), Math.max(0, wilson(k, n, Z95)), 1e-7, `${k}/${n} at 0.95`)
      assert.closeTo(Tolerance.wilsonLowerBound(k, n, 0.99), Math.max(0, wilson(k, n, Z99)), 1e-7, `${k}/${n} at 0.99`)
    }
  })

  it("is 0 for an empty window", () => {
    assert.strictEqual(Tolerance.wilsonLowerBound(0, 0, 0.95), 0)
  })

  it("grows with n at a perfect success rate, and stays below the observed ratio", () => {
    let previous = -1
    for (let n = 1; n <= 200; n++) {
      const lb = Tolerance.wilsonLowerBound(n, n, 0.95)
      assert.isTrue(lb > previous, `n=${n}: ${lb} should exceed ${previous}`)
      assert.isTrue(lb < 1)
      previous = lb
    }
    // At a fixed ratio of 90%, more evidence also raises the bound.
    let prev90 = -1
    for (const n of [10, 20, 50, 100, 1000, 10000]) {
      const lb = Tolerance.wilsonLowerBound(0.9 * n, n, 0.95)
      assert.isTrue(lb > prev90 && lb < 0.9, `n=${n}: ${lb}`)
      prev90 = lb
    }
  })

  it("is lower at a higher confidence", () => {
    assert.isTrue(Tolerance.wilsonLowerBound(40, 50, 0.99) < Tolerance.wilsonLowerBound(40, 50, 0.95))
    assert.isTrue(Tolerance.wilsonLowerBound(40, 50, 0.95) < Tolerance.wilsonLowerBound(40, 50, 0.8))
  })
})

describe("Tolerance.percentile (nearest rank)", () => {
  // The worked example for the nearest-rank method: 15, 20, 35, 40, 50.
  const xs = [40, 15, 50, 35, 20]
  it("picks the value at rank ceil(p/100 * n) of the sorted list", () => {
    assert.strictEqual(Tolerance.percentile(xs, 5), 15)
    assert.strictEqual(Tolerance.percentile(xs, 30), 20)
    assert.strictEqual(Tolerance.percentile(xs, 40), 20)
    assert.strictEqual(Tolerance.percentile(xs, 50), 35)
    assert.strictEqual(Tolerance.percentile(xs, 100), 50)
  })
  it("p99 of 1..100 is 99 and of 1..1000 is 990", () => {
    assert.strictEqual(Tolerance.percentile(repeat(100, (i) => 100 - i), 99), 99)
    assert.strictEqual(Tolerance.percentile(repeat(1000, (i) => i + 1), 99), 990)
  })
  it("does not reorder its input, and is NaN for no values", () => {
    const input = [3, 1, 2]
    Tolerance.percentile(input, 50)
    assert.deepStrictEqual(input, [3, 1, 2])
    assert.isNaN(Tolerance.percentile([], 50))
  })
})

describe("Tolerance.judge", () => {
  it("successRatio: met iff the Wilson lower bound reaches atLeast", () => {
    const t = Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 })
    // 40/40: lower bound ~0.912 >= 0.9.
    const all40 = Tolerance.judge(t, repeat(40, () => ok()))
    assert.isTrue(all40.met)
    assert.strictEqual(all40.samples, 40)
    assert.strictEqual(all40.good, 40)
    // 39/40: lower bound ~0.871 < 0.9, even though the raw ratio is 0.975.
    const one = Tolerance.judge(t, [...repeat(39, () => ok()), bad()])
    assert.isFalse(one.met)
    assert.strictEqual(one.good, 39)
    assert.isTrue(one.details.some((d) => d.includes("39/40")), one.details.join("; "))
    // 10/10: lower bound ~0.72 < 0.9: too little evidence.
    assert.isFalse(Tolerance.judge(t, repeat(10, () => ok())).met)
    // A laxer bar accepts 10/10.
    assert.isTrue(Tolerance.judge(Tolerance.successRatio({ atLeast: 0.7 }), repeat(10, () => ok())).met)
  })

  it("latency: the nearest-rank p99 of successful samples must be within maxMs", () => {
    const t = Tolerance.latency({ p99: "100 millis" })
    const fast = repeat(100, (i) => ok(undefined, i + 1)) // 1..100 ms: p99 = 99
    assert.isTrue(Tolerance.judge(t, fast).met)
    const slow = repeat(100, (i) => ok(undefined, i < 98 ? 10 : 500)) // two slow: p99 = 500
    const j = Tolerance.judge(t, slow)
    assert.isFalse(j.met)
    assert.isTrue(j.details.some((d) => d.includes("p99") && d.includes("500")), j.details.join("; "))
    // Only the one slowest of 100 is beyond the limit: p99 is still fine.
    assert.isTrue(Tolerance.judge(t, repeat(100, (i) => ok(undefined, i < 99 ? 10 : 500))).met)
    // Failed samples do not count towards latency.
    assert.isTrue(Tolerance.judge(t, [...repeat(50, () => ok(undefined, 5)), ...repeat(5, () => bad(10_000))]).met)
  })

  it("latency with two percentiles requires both", () => {
    const t = Tolerance.latency({ p50: "10 millis", p99: "100 millis" })
    assert.isTrue(Tolerance.judge(t, repeat(100, (i) => ok(undefined, i < 60 ? 5 : 50))).met)
    assert.isFalse(Tolerance.judge(t, repeat(100, (i) => ok(undefined, i < 40 ? 5 : 50))).met)
  })

  it("exact: every sample's value must equal (by JSON)", () => {
    const t = Tolerance.exact({ status: "up" })
    assert.isTrue(Tolerance.judge(t, [ok({ status: "up" }), ok({ status: "up" })]).met)
    const j = Tolerance.judge(t, [ok({ status: "up" }), ok({ status: "down" })])
    assert.isFalse(j.met)
    assert.strictEqual(j.good, 1)
    assert.isFalse(Tolerance.judge(Tolerance.exact("ok"), [ok("ok"), bad()]).met)
  })

  it("range: numbers in [min, max] only, bounds included", () => {
    const t = Tolerance.range(1, 3)
    assert.isTrue(Tolerance.judge(t, [ok(1), ok(2.5), ok(3)]).met)
    assert.isFalse(Tolerance.judge(t, [ok(1), ok(3.0001)]).met)
    assert.isFalse(Tolerance.judge(t, [ok(0.999)]).met)
    assert.isFalse(Tolerance.judge(t, [ok("2")]).met)
  })

  it("regex: the value's text must match", () => {
    const t = Tolerance.regex(/^ok \d+$/)
    assert.isTrue(Tolerance.judge(t, [ok("ok 1"), ok("ok 22")]).met)
    assert.isFalse(Tolerance.judge(t, [ok("ok 1"), ok("not ok 2")]).met)
    assert.isTrue(Tolerance.judge(Tolerance.regex("200"), [ok(200)]).met)
  })

  it("predicate: the function decides", () => {
    const seen: Array<unknown> = []
    const t = Tolerance.predicate("even", (v) => {
      seen.push(v)
      return typeof v === "number" && v % 2 === 0
    })
    assert.isTrue(Tolerance.judge(t, [ok(2), ok(4)]).met)
    assert.isFalse(Tolerance.judge(t, [ok(2), ok(3)]).met)
    assert.includeMembers(seen, [2, 4, 3])
    // A failed probe is bad whatever the predicate says.
    assert.isFalse(Tolerance.judge(Tolerance.predicate("any", () => true), [ok(1), bad()]).met)
  })

  it("all: every part must hold; sample tolerances feed the success ratio", () => {
    const t = Tolerance.all(Tolerance.exact("ok"), Tolerance.successRatio({ atLeast: 0.8 }))
    // 40 good: lower bound ~0.91.
    assert.isTrue(Tolerance.judge(t, repeat(40, () => ok("ok"))).met)
    // The same samples, but 10 of them carry the wrong value: 30/40 good, lower bound ~0.60.
    const j = Tolerance.judge(t, repeat(40, (i) => ok(i < 10 ? "degraded" : "ok")))
    assert.strictEqual(j.good, 30)
    assert.isFalse(j.met)
    // all of two sample tolerances: both must hold for every sample.
    const both = Tolerance.all(Tolerance.range(0, 10), Tolerance.predicate("even", (v) => (v as number) % 2 === 0))
    assert.isTrue(Tolerance.judge(both, [ok(2), ok(4)]).met)
    assert.isFalse(Tolerance.judge(both, [ok(2), ok(12)]).met)
    assert.isFalse(Tolerance.judge(both, [ok(2), ok(5)]).met)
    // all of a ratio and a latency: each must hold.
    const ratioAndLatency = Tolerance.all(Tolerance.successRatio({ atLeast: 0.5 }), Tolerance.latency({ p99: "50 millis" }))
    assert.isTrue(Tolerance.judge(ratioAndLatency, repeat(20, () => ok(undefined, 10))).met)
    assert.isFalse(Tolerance.judge(ratioAndLatency, repeat(20, () => ok(undefined, 60))).met)
    assert.isFalse(Tolerance.judge(ratioAndLatency, repeat(20, (i) => i < 15 ? bad(10) : ok(undefined, 10))).met)
  })

  it("an empty window never meets any tolerance", () => {
    const tolerances = [
      Tolerance.successRatio({ atLeast: 0.9 }),
      Tolerance.latency({ p99: "1 second" }),
      Tolerance.exact("ok"),
      Tolerance.range(0, 1),
      Tolerance.regex(".*"),
      Tolerance.predicate("always", () => true),
      Tolerance.all(Tolerance.regex(".*"), Tolerance.range(0, 100)),
      Tolerance.all(Tolerance.exact("ok"), Tolerance.successRatio({ atLeast: 0.5 }))
    ]
    for (const t of tolerances) {
      const j = Tolerance.judge(t, [])
      assert.isFalse(j.met, Tolerance.describe(t))
      assert.strictEqual(j.samples, 0)
      assert.strictEqual(j.good, 0)
    }
  })

  it("a window of only failed samples meets no latency tolerance", () => {
    assert.isFalse(Tolerance.judge(Tolerance.latency({ p99: "1 second" }), repeat(10, () => bad(1))).met)
  })
})
