/**
 * `successRatio` at its exact boundary: a Wilson lower bound equal to `atLeast` meets the
 * tolerance (the comparison is >=), with the bound computed independently of the library;
 * and the Wilson bound, not the raw ratio, decides.
 */
import { assert, describe, it } from "@effect/vitest"
import { Tolerance } from "../../src/index.ts"
import type { Probe } from "../../src/index.ts"

type Sample = Probe.Sample

const sample = (i: number, ok: boolean): Sample =>
  ok ? { at: i * 10, mono: i * 10, ok: true, latencyMs: 1 } : { at: i * 10, mono: i * 10, ok: false, latencyMs: 1, error: "boom" }
const window = (good: number, bad: number): Array<Sample> => [
  ...Array.from({ length: good }, (_, i) => sample(i, true)),
  ...Array.from({ length: bad }, (_, i) => sample(good + i, false))
]

// The two-sided 95% normal quantile, from tables (independent of the library's approximation).
const Z95 = 1.959963984540054
// The Wilson lower bound of n successes out of n, written out: (n) / (n + z²).
const wilsonAllGood = (n: number, z: number) => n / (n + z * z)

describe("successRatio: the boundary is inclusive", () => {
  it("a window whose Wilson lower bound equals atLeast exactly meets it", () => {
    for (const n of [5, 10, 40]) {
      const lb = Tolerance.wilsonLowerBound(n, n, 0.95)
      // The library's bound is the textbook one (so the threshold is not just echoed back).
      assert.closeTo(lb, wilsonAllGood(n, Z95), 1e-8)
      const atThreshold = Tolerance.judge(Tolerance.successRatio({ atLeast: lb, confidence: 0.95 }), window(n, 0))
      assert.isTrue(atThreshold.met, `${n}/${n} with atLeast = its own lower bound ${lb}`)
      // A hair above the bound is not met: the boundary is where the test says it is.
      const above = Tolerance.judge(Tolerance.successRatio({ atLeast: lb + 1e-9, confidence: 0.95 }), window(n, 0))
      assert.isFalse(above.met, `${n}/${n} with atLeast just above ${lb}`)
    }
  })

  it("at confidence 0 the bound is the raw ratio, and a raw ratio equal to atLeast meets it", () => {
    // z = 0: the Wilson interval collapses onto the observed ratio.
    assert.strictEqual(Tolerance.wilsonLowerBound(9, 10, 0), 0.9)
    const t = Tolerance.successRatio({ atLeast: 0.9, confidence: 0 })
    assert.isTrue(Tolerance.judge(t, window(9, 1)).met, "9/10 >= 0.9")
    assert.isTrue(Tolerance.judge(Tolerance.successRatio({ atLeast: 0.75, confidence: 0 }), window(3, 1)).met, "3/4 >= 0.75")
    assert.isFalse(Tolerance.judge(t, window(8, 2)).met, "8/10 < 0.9")
  })

  it("nested in `all`, the boundary still holds", () => {
    const lb = Tolerance.wilsonLowerBound(20, 20, 0.9)
    const t = Tolerance.all(Tolerance.successRatio({ atLeast: lb, confidence: 0.9 }))
    assert.isTrue(Tolerance.judge(t, window(20, 0)).met)
  })
})

describe("successRatio: Wilson lower bound, not the raw ratio", () => {
  it("19/20 good has a raw ratio of 0.95 >= 0.9, but its Wilson lower bound is below 0.9: not met", () => {
    const t = Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 })
    const j = Tolerance.judge(t, window(19, 1))
    assert.isAtLeast(19 / 20, 0.9)
    // Independent computation of the bound: about 0.764.
    const p = 19 / 20
    const z2 = Z95 * Z95
    const lb = (p + z2 / 40 - Z95 * Math.sqrt((p * (1 - p)) / 20 + z2 / 1600)) / (1 + z2 / 20)
    assert.isBelow(lb, 0.9)
    assert.isFalse(j.met)
    assert.strictEqual(j.good, 19)
    assert.strictEqual(j.samples, 20)
  })

  it("the same 95% raw ratio with enough evidence (950/1000) meets it", () => {
    const t = Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 })
    assert.isTrue(Tolerance.judge(t, window(950, 50)).met)
  })
})
