/**
 * The service catalog (inherited objectives, blast radius, Tier 0), synthetic monitoring
 * under TestClock (buckets of good/total/degraded events), the history's figures computed by
 * hand, and the YAML forms of the error-budget guard and the burn-rate abort.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Hypothesis, Probe, Stopwatch, Tolerance } from "../../src/index.ts"
import * as ExperimentFile from "../../src/ExperimentFile.ts"
import * as Stats from "../../src/schedule/Stats.ts"
import * as Catalog from "../../src/slo/Catalog.ts"
import * as Monitor from "../../src/slo/Monitor.ts"
import { healthy } from "../../src/testing/index.ts"

const catalog: Catalog.Catalog = {
  tiers: { "0": { rto: "1 minute", rpo: "0 millis" }, "1": { rto: "5 minutes", rpo: "1 minute" } },
  services: [
    { name: "db", tier: 0, owners: ["data"] },
    { name: "kv", tier: 1, owners: ["storage"], dependencies: ["db"], objectives: { rto: "2 minutes" } },
    { name: "api", tier: 1, owners: ["web"], dependencies: ["kv"] },
    { name: "shop", tier: 2, owners: ["shop"], dependencies: ["api", "kv"] },
    { name: "docs", tier: 3, owners: ["docs"] }
  ]
}

describe("Catalog", () => {
  const h = Hypothesis.make("serves", { probe: healthy(["a"]), every: "1 second", tolerance: Tolerance.successRatio({ atLeast: 0.5 }) })

  it("an experiment inherits its service's objectives where it measures them; its own win", () => {
    const withRto = Experiment.make({ name: "x", hypothesis: h, method: Effect.void, stopwatches: { rto: Stopwatch.rto(h) }, service: "kv" })
    const kv = Catalog.find(catalog, "kv")!
    const applied = Catalog.apply(withRto, catalog, kv)
    assert.deepStrictEqual(applied.service, { name: "kv", tier: 1 })
    // kv overrides its tier's RTO (2 minutes, not 5); no RPO stopwatch: no RPO objective.
    assert.strictEqual(Duration.toMillis(applied.objectives.rto!), 120_000)
    assert.isUndefined(applied.objectives.rpo)
    const own = Catalog.apply(
      Experiment.make({ name: "y", hypothesis: h, method: Effect.void, stopwatches: { rto: Stopwatch.rto(h) }, objectives: { rto: "10 seconds" } }),
      catalog,
      kv
    )
    assert.strictEqual(Duration.toMillis(own.objectives.rto!), 10_000)
    const noRto = Catalog.apply(Experiment.make({ name: "z", hypothesis: h, method: Effect.void }), catalog, kv)
    assert.isUndefined(noRto.objectives.rto)
  })

  it("the blast radius is every transitive dependent, nearest first, each once", () => {
    assert.deepStrictEqual(Catalog.blastRadius(catalog, "db").map((x) => [x.service.name, x.via.join(">")]), [["kv", "db"], ["api", "db>kv"], [
      "shop",
      "db>kv"
    ]])
    assert.deepStrictEqual(Catalog.blastRadius(catalog, "docs"), [])
  })

  it("Tier 0 needs an explicit approval", () => {
    assert.include(Catalog.tier0Refusal(Catalog.find(catalog, "db")!, false)!, "service db is Tier 0")
    assert.isNull(Catalog.tier0Refusal(Catalog.find(catalog, "db")!, true))
    assert.isNull(Catalog.tier0Refusal(Catalog.find(catalog, "kv")!, false))
  })
})

describe("Monitor", () => {
  it.effect("counts each hypothesis' samples into buckets: good, degraded (answered, outside tolerance), bad", () =>
    Effect.gen(function*() {
      let n = 0
      // Every third sample fails outright; every fourth answers too slowly for the tolerance.
      const probe = Probe.make(
        "counter",
        Effect.suspend(() => {
          n++
          return n % 3 === 0 ? Effect.fail("down") : Effect.succeed(n % 4 === 0 ? 900 : 100)
        })
      )
      const h = Hypothesis.make("kv serves", { probe, every: "1 second", tolerance: Tolerance.range(0, 500) })
      const buckets: Array<Monitor.Bucket> = []
      const fiber = yield* Effect.forkChild(Monitor.run([h], { bucket: "10 seconds", record: (b) => Effect.sync(() => buckets.push(b)) }))
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(buckets.map((b) => b.at), [0, 10_000, 20_000, 30_000])
      // Samples 1..10 in the first bucket: bad 3,6,9; degraded 4,8; good 1,2,5,7,10.
      assert.deepStrictEqual(buckets[0], { name: "kv serves", at: 0, good: 5, total: 10, degraded: 2 })
      assert.strictEqual(buckets.reduce((s, b) => s + b.total, 0), 31)
    }))
})

describe("Stats", () => {
  const H = 3_600_000
  const facts: ReadonlyArray<readonly [number, string, number | null, number | null]> = [
    [0, "passed", 4000, 0],
    [H, "deviated", 6000, 500],
    [2 * H, "refused", null, null],
    [3 * H, "passed", 2000, 0],
    [4 * H, "failed", 1000, 100]
  ]

  it("pass rate, nearest-rank percentiles, trend, MTTR, MTBF and availability by hand", () => {
    const s = Stats.summarise(facts, 0, 10 * H)
    assert.strictEqual(s.runs, 5)
    assert.strictEqual(s.ran, 4) // refused is not a drill that ran
    assert.strictEqual(s.passRate, 0.5)
    // RTOs in order 4000, 6000, 2000, 1000: p50 (rank 2 of 4) 2000, p95 (rank 4) 6000.
    assert.strictEqual(s.rto.p50, 2000)
    assert.strictEqual(s.rto.p95, 6000)
    // Halves: [4000, 6000] median 4000 -> [2000, 1000] median 1000: improving.
    assert.deepStrictEqual(s.rto.trend, { earlierP50: 4000, laterP50: 1000, direction: "improving" })
    assert.strictEqual(s.mttrMs, 3250)
    assert.strictEqual(s.failures, 2)
    assert.strictEqual(s.mtbfMs, 5 * H)
    assert.closeTo(s.availability!, (5 * H) / (5 * H + 3250), 1e-12)
  })

  it("no failure: MTBF and availability are unknown, not perfect", () => {
    const s = Stats.summarise([[0, "passed", 100, 0]], 0, H)
    assert.isNull(s.mtbfMs)
    assert.isNull(s.availability)
    assert.strictEqual(s.rto.trend.direction, "unknown")
  })

  it("windows split the runs by start time; the last window may be shorter", () => {
    const r = Stats.report(facts, 0, 5 * H, 2 * H)
    assert.deepStrictEqual(r.windows.map((w) => [w.from / H, w.to / H, w.runs]), [[0, 2, 2], [2, 4, 2], [4, 5, 1]])
    assert.strictEqual(r.overall.runs, 5)
  })
})

describe("experiment files: errorBudget guard and burnRate abort", () => {
  const base = `
name: gated
hypothesis:
  - name: ok
    probe: { command: { command: "true" } }
    every: 1 second
    tolerance:
      - { _tag: Regex, pattern: "^$" }
method: []
`
  const slo = `{ name: kv, sli: { monitor: kv serves }, objective: 0.999, window: "28 days" }`

  it.effect("both decode and become a guard and an abort condition", () =>
    Effect.gen(function*() {
      const f = yield* ExperimentFile.decode(
        "g.yaml",
        base +
          `guards:\n  - errorBudget: { slo: ${slo}, minRemaining: 0.25 }\nabort:\n  - burnRate: { slo: ${slo}, factor: 14.4, window: 1 hour }\nservice: kv\n`
      )
      const exp = ExperimentFile.toExperiment(f)
      assert.strictEqual(exp.guards[0]!._tag, "ErrorBudget")
      assert.strictEqual(exp.abort[0]!.name, "burnRate(kv >= 14.4x over 1h)")
      assert.deepStrictEqual(exp.service, { name: "kv", tier: null })
    }))

  it.effect("an unknown key inside the SLO, a bad objective or time zone is one line with its path", () =>
    Effect.gen(function*() {
      const typo = yield* Effect.flip(
        ExperimentFile.decode(
          "g.yaml",
          base + `guards:\n  - errorBudget: { slo: { name: kv, sli: { monitor: kv }, objective: 0.99, window: "28 days", windw: x }, minRemaining: 0.25 }\n`
        )
      )
      assert.include(typo.message, "windw")
      const objective = yield* Effect.flip(
        ExperimentFile.decode(
          "g.yaml",
          base + `guards:\n  - errorBudget: { slo: { name: kv, sli: { monitor: kv }, objective: 1.5, window: "28 days" }, minRemaining: 0.25 }\n`
        )
      )
      assert.include(objective.message, "objective")
      const tz = yield* Effect.flip(
        ExperimentFile.decode(
          "g.yaml",
          base +
            `guards:\n  - errorBudget: { slo: { name: kv, sli: { monitor: kv }, objective: 0.99, window: { calendar: month, timeZone: Mars/Base } }, minRemaining: 0.25 }\n`
        )
      )
      assert.include(tz.message, "not a time zone")
    }))
})
