/**
 * (a) RTO accuracy on a real process: the outage fixture's /health is down for exactly D ms
 * (recorded by the fixture on its own monotonic clock); faultline measures the RTO from its
 * journal. Error per trial = |RTO - D_true|.
 */
import { Duration, Effect } from "effect"
import { Experiment, Fault, Hypothesis, Probe, Stopwatch, Tolerance } from "../src/index.ts"
import { FixtureDriver, outage } from "./fixtureDriver.ts"
import { mean, percentile, row, type Row, summary } from "./stats.ts"

export interface RtoOptions {
  readonly url: string
  readonly pid: number
  readonly trials: number
  readonly warmup: number
  readonly log: (line: string) => void
}

interface Interval {
  readonly startMs: number
  readonly endMs: number
  readonly durationMs: number
}

const outages = (url: string) =>
  Effect.flatMap(
    Probe.request(`${url}/outages`, { timeout: "2 seconds" }),
    (res) => res.status === 200 ? Effect.succeed(JSON.parse(res.body) as ReadonlyArray<Interval>) : Effect.fail(new Error(`GET /outages: HTTP ${res.status}`))
  )

// Outage durations spread over 200..600 ms by a golden-ratio sequence (deterministic, even).
const durationFor = (i: number): number => Math.round(200 + 400 * ((0.5 + i * 0.6180339887) % 1))

const PROBE_EVERY_MS = 10

export const run = (options: RtoOptions): Effect.Effect<ReadonlyArray<Row>, unknown> =>
  Effect.gen(function*() {
    const serves = Hypothesis.make("fixture serves", {
      probe: Probe.http(`${options.url}/health`, { timeout: "500 millis" }),
      every: Duration.millis(PROBE_EVERY_MS),
      samples: 10,
      // 10/10 good gives a Wilson lower bound of 0.72 at 95%: 0.6 lets a healthy before-check pass.
      tolerance: Tolerance.successRatio({ atLeast: 0.6, confidence: 0.95 })
    })
    const errors: Array<number> = []
    const signed: Array<number> = []
    const truths: Array<number> = []
    const rtos: Array<number> = []
    let resolution = Number.NaN
    let failures = 0
    for (let i = 0; i < options.warmup + options.trials; i++) {
      const warm = i < options.warmup
      const d = durationFor(i)
      const before = (yield* outages(options.url)).length
      const exp = Experiment.make({
        name: `bench: fixture outage ${d} ms`,
        hypothesis: serves,
        method: Effect.gen(function*() {
          yield* Fault.inject(outage({ ms: d }))
          yield* Effect.sleep(Duration.millis(d + 300))
        }),
        stopwatches: { rto: Stopwatch.rto(serves, { stableFor: 3 }) }
      })
      const result = yield* Experiment.run(exp)
      const rto = Stopwatch.computeRto(result.entries)
      const after = yield* outages(options.url)
      const truth = after.length === before + 1 ? after.at(-1)!.durationMs : Number.NaN
      const measured = rto?.measuredMs ?? Number.NaN
      if (rto) resolution = rto.resolutionMs
      const ok = Number.isFinite(truth) && Number.isFinite(measured) && rto?.outageObserved === true
      const line = `  rto trial ${warm ? "warmup" : String(i - options.warmup + 1).padStart(2)}: D=${d} ms ` +
        `D_true=${truth.toFixed(3)} RTO=${measured.toFixed(3)} detect=${rto?.detectMs?.toFixed(3) ?? "-"} ` +
        `err=${(measured - truth).toFixed(3)} verdict=${result.verdict.status}${ok ? "" : "  <-- NOT MEASURED"}`
      options.log(line)
      if (warm) continue
      if (!ok) {
        failures++
        continue
      }
      truths.push(truth)
      rtos.push(measured)
      signed.push(measured - truth)
      errors.push(Math.abs(measured - truth))
    }
    options.log(`  |RTO - D_true|: ${summary(errors)}`)
    options.log(`  RTO - D_true (signed): ${summary(signed)}`)
    if (failures > 0) options.log(`  ${failures} trial(s) without a measurement: counted as goal failure`)
    const p95 = percentile(errors, 95)
    return [
      row({
        name: "rto.abs_error",
        unit: "ms",
        baseline: mean(truths),
        measured: mean(rtos),
        p50: percentile(errors, 50),
        p95,
        p99: percentile(errors, 99),
        goal: "p95 <= 15 ms",
        met: failures === 0 && errors.length > 0 && p95 <= 15
      }),
      row({
        name: "rto.resolution",
        unit: "ms",
        baseline: null,
        measured: resolution,
        p50: null,
        p95: null,
        p99: null,
        goal: null,
        met: null
      })
    ]
  }).pipe(Effect.provide(FixtureDriver.layer({ url: options.url, pid: options.pid })))
