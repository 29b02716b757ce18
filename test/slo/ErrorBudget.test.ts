/**
 * Error budgets and burn rates computed by hand: a 28-day series of 10 s buckets, calendar
 * months in a time zone (their boundaries and a DST change), maintenance windows left out,
 * and multi-window burn-rate alerts firing at the minute the arithmetic says.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Abort, Experiment, Guard, Hypothesis, Slo, SloAlerts, SloSources, Tolerance } from "../../src/index.ts"
import { healthy, MemoryDriver } from "../../src/testing/index.ts"

const STEP = 10_000
const DAY = 86_400_000
const T0 = Date.parse("2026-02-01T00:00:00Z")

// `buckets` buckets of 10 events from `start`, every 10 s; `bad(i)` of them bad.
const series = (start: number, buckets: number, bad: (i: number, at: number) => number, degraded?: (i: number) => number) => {
  const at = new Float64Array(buckets)
  const good = new Float64Array(buckets)
  const total = new Float64Array(buckets)
  const deg = new Float64Array(buckets)
  for (let i = 0; i < buckets; i++) {
    at[i] = start + i * STEP
    total[i] = 10
    deg[i] = degraded?.(i) ?? 0
    good[i] = 10 - bad(i, at[i]) - deg[i]
  }
  return { at, good, total, degraded: deg }
}

const availability = Slo.make({ name: "kv availability", sli: { monitor: "kv serves" }, objective: 0.999, window: "28 days" })

describe("error budget over 28 days", () => {
  // 28 days of 10 s buckets = 241,920 buckets, 2,419,200 events; 0.1% of them may be bad:
  // 2,419.2 events. 1,000 bad events spend 1000 / 2419.2 = 41.34% of it.
  const s = series(T0, 241_920, (i) => i % 241 === 0 ? 1 : 0)
  const bad = Math.ceil(241_920 / 241) // 1004 buckets with i % 241 === 0

  it("remaining = 1 - bad / (total x (1 - objective))", () => {
    const b = Slo.budget(availability, Slo.prepare(availability, s), T0 + 28 * DAY)
    assert.strictEqual(b.total, 2_419_200)
    assert.strictEqual(b.total - b.good, bad)
    assert.closeTo(b.remaining, 1 - bad / 2419.2, 1e-9)
    assert.closeTo(b.remaining, 0.584986, 1e-6)
  })

  it("a rolling window forgets what fell out of it", () => {
    // One day later the first day's buckets (8,640 of them, 36 bad) have left the window.
    const p = Slo.prepare(availability, s)
    const b = Slo.budget(availability, p, T0 + 29 * DAY)
    assert.strictEqual(b.total, 27 * 8640 * 10)
    const badFirstDay = Math.ceil(8640 / 241)
    assert.strictEqual(b.total - b.good, bad - badFirstDay)
  })

  it.effect("Guard.errorBudget refuses the run at plan time when too little is left, under TestClock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0 + 28 * DAY)
      const exp = (minRemaining: number) =>
        Experiment.make({
          name: "gated",
          hypothesis: Hypothesis.make("serves", { probe: healthy(["a"]), every: "1 second", tolerance: Tolerance.successRatio({ atLeast: 0.5 }) }),
          method: Effect.void,
          guards: [Guard.errorBudget({ slo: availability, minRemaining })]
        })
      const refused = yield* Experiment.run(exp(0.6))
      assert.strictEqual(refused.verdict.status, "refused")
      assert.include(refused.verdict.reason, "58.5% of the error budget left (1004 bad of 2419200 events), needs 60.0%")
      // Refused before anything: no probe ran.
      assert.isFalse(refused.entries.some((e) => e.event._tag === "Sample"))
      const fiber = yield* Effect.forkChild(Experiment.run(exp(0.5)))
      yield* TestClock.adjust("1 hour")
      const ran = yield* Fiber.join(fiber)
      assert.strictEqual(ran.verdict.status, "passed", ran.verdict.reason)
    }).pipe(
      Effect.provide(Layer.merge(
        MemoryDriver.layer({ targets: [{ name: "a" }] }),
        Layer.succeed(Slo.SloSource, SloSources.fromSeries(() => s))
      ))
    ))

  it.effect("without an SLO source the error-budget guard refuses (a gate that cannot see does not open)", () =>
    Effect.gen(function*() {
      const r = yield* Experiment.run(Experiment.make({
        name: "blind",
        hypothesis: Hypothesis.make("serves", { probe: healthy(["a"]), every: "1 second", tolerance: Tolerance.successRatio({ atLeast: 0.5 }) }),
        method: Effect.void,
        guards: [Guard.errorBudget({ slo: availability, minRemaining: 0.1 })]
      }))
      assert.strictEqual(r.verdict.status, "refused")
      assert.include(r.verdict.reason, "no SLO source is configured")
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }] }))))
})

describe("calendar months in a time zone", () => {
  const monthly = Slo.make({ ...availability, window: { calendar: "month", timeZone: "Europe/Berlin" } })

  it("the month starts at local midnight: 22:30Z on 31 March is already April in Berlin", () => {
    assert.strictEqual(Slo.windowAt(monthly, Date.parse("2026-03-31T22:30:00Z")).from, Date.parse("2026-03-31T22:00:00Z"))
    // An hour earlier it is still March, which began at 23:00Z on 28 February (CET, +01:00).
    assert.strictEqual(Slo.windowAt(monthly, Date.parse("2026-03-31T21:30:00Z")).from, Date.parse("2026-02-28T23:00:00Z"))
  })

  it("a DST change makes March 743 hours and October 745 hours long in Berlin", () => {
    assert.strictEqual(Slo.windowLength(monthly, Date.parse("2026-03-15T12:00:00Z")), 743 * 3_600_000)
    assert.strictEqual(Slo.windowLength(monthly, Date.parse("2026-10-15T12:00:00Z")), 745 * 3_600_000)
    assert.strictEqual(
      Slo.windowLength(Slo.make({ ...monthly, window: { calendar: "month", timeZone: "UTC" } }), Date.parse("2026-03-15T12:00:00Z")),
      744 * 3_600_000
    )
  })

  it("only events since the local start of the month count, across the DST change", () => {
    // From 25 March 00:00Z to 2 April 00:00Z; every bucket before April (local) is bad.
    const start = Date.parse("2026-03-25T00:00:00Z")
    const aprilStart = Date.parse("2026-03-31T22:00:00Z") // CEST, +02:00 after 29 March
    const s = series(start, 8 * 8640, (_, at) => at < aprilStart ? 10 : 0)
    const b = Slo.budget(monthly, Slo.prepare(monthly, s), Date.parse("2026-04-01T22:00:00Z"))
    assert.strictEqual(b.from, aprilStart)
    assert.strictEqual(b.total, 8640 * 10) // exactly one day of April so far
    assert.strictEqual(b.good, b.total)
    assert.strictEqual(b.remaining, 1)
  })
})

describe("maintenance and degraded events", () => {
  it("events inside a maintenance window count neither good nor bad", () => {
    const from = T0 + DAY
    const to = T0 + DAY + 3_600_000
    const s = series(T0, 3 * 8640, (_, at) => at >= from && at < to ? 10 : 0)
    const plain = Slo.budget(availability, Slo.prepare(availability, s), T0 + 3 * DAY)
    assert.strictEqual(plain.total - plain.good, 3600)
    const maintained = Slo.make({ ...availability, maintenance: [{ from: new Date(from).toISOString(), to: new Date(to).toISOString(), reason: "upgrade" }] })
    const b = Slo.budget(maintained, Slo.prepare(maintained, s), T0 + 3 * DAY)
    assert.strictEqual(b.total, (3 * 8640 - 360) * 10)
    assert.strictEqual(b.good, b.total)
  })

  it("a degraded event is bad by default and can be excluded", () => {
    const s = series(T0, 100, () => 0, (i) => i < 10 ? 1 : 0)
    const asBad = Slo.budget(availability, Slo.prepare(availability, s), T0 + DAY)
    assert.deepStrictEqual([asBad.good, asBad.total], [990, 1000])
    const excl = Slo.make({ ...availability, degraded: "exclude" })
    const b = Slo.budget(excl, Slo.prepare(excl, s), T0 + DAY)
    assert.deepStrictEqual([b.good, b.total], [990, 990])
  })
})

describe("multi-window multi-burn-rate alerts", () => {
  // Four healthy days, then from OUT every bucket has 1 bad event of 10 (a 10% error rate:
  // 100x the 0.1% the objective allows). By hand, with evaluations every minute:
  //  14.4x over 1 h and 5 min: needs >= 0.0144 x 3600 = 51.84 bad in the hour: 52 buckets;
  //    at OUT+8 min 48 buckets, at OUT+9 min 54: fires at OUT+9 min.
  //  6x over 6 h and 30 min: >= 0.006 x 21600 = 129.6: 130 buckets; 126 at +21 min, 132 at +22 min.
  //  1x over 3 days and 6 h (ticket): >= 0.001 x 259200 = 259.2: 260 buckets; 258 at +43, 264 at +44.
  const OUT = T0 + 4 * DAY
  const s = series(T0, 5 * 8640, (_, at) => at >= OUT ? 1 : 0)
  const p = Slo.prepare(availability, s)

  it("each rule fires at the minute the arithmetic says", () => {
    const alerts = SloAlerts.scan(availability, p, { from: OUT - 3_600_000, to: OUT + 3_600_000 })
    const at = alerts.map((a) => [a.rule.factor, (a.at - OUT) / 60_000])
    assert.deepStrictEqual(at, [[14.4, 9], [6, 22], [1, 44]])
  })

  it.effect("Abort.burnRate stops a running experiment at that minute, under TestClock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(OUT)
      const exp = Experiment.make({
        name: "burning",
        hypothesis: Hypothesis.make("serves", { probe: healthy(["a"]), every: "10 seconds", tolerance: Tolerance.successRatio({ atLeast: 0.5 }) }),
        method: Effect.sleep("2 hours"),
        abort: [Abort.burnRate({ slo: availability, factor: 14.4, window: "1 hour", every: "1 minute" })]
      })
      const fiber = yield* Effect.forkChild(Experiment.run(exp))
      yield* TestClock.adjust("3 hours")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r.verdict.status, "aborted", r.verdict.reason)
      const fired = r.entries.find((e) => e.event._tag === "AbortFired")!
      const minutes = (fired.at - OUT) / 60_000
      // The method starts after the before-check (one sample): within a minute of OUT+9 min.
      assert.isAtLeast(minutes, 9)
      assert.isBelow(minutes, 10)
      assert.include(r.verdict.reason, "at or above 14.4x")
    }).pipe(Effect.provide(Layer.merge(
      MemoryDriver.layer({ targets: [{ name: "a" }] }),
      Layer.succeed(Slo.SloSource, SloSources.fromSeries(() => s))
    ))))
})
