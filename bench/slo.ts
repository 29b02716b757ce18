/**
 * (j) SLOs, history and the scheduler:
 *   - error budget over 28 days of 10 s buckets (241,920 points): `Slo.prepare` + `Slo.budget`
 *     (maintenance window and degraded events included), goal <= 50 ms; baseline: a bare loop
 *     summing the same arrays (the least any implementation must do);
 *   - history query over 100,000 indexed runs in SQLite: `store.facts` + `Stats.report` (pass
 *     rate, RTO/RPO p50/p95 and trend, MTTR, MTBF, availability, weekly windows), goal <= 100 ms;
 *     baseline: `SELECT count(*)` over the same table;
 *   - scheduler firing time error: the real clock, a drill due every 50 ms, |start - planned|,
 *     goal p99 <= 50 ms; baseline: plain `setTimeout` timers aimed at the same instants.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Fiber } from "effect"
import { Slo } from "../src/index.ts"
import type * as Drills from "../src/schedule/Drills.ts"
import type * as History from "../src/schedule/History.ts"
import * as Scheduler from "../src/schedule/Scheduler.ts"
import * as Stats from "../src/schedule/Stats.ts"
import * as Stores from "../src/schedule/Stores.ts"
import { percentile, type Row, row, summary } from "./stats.ts"

const POINTS = 241_920
const RUNS = 100_000
const T0 = Date.parse("2026-02-01T00:00:00Z")

const budgetRows = (trials: number, log: (l: string) => void): Row => {
  const at = new Float64Array(POINTS)
  const good = new Float64Array(POINTS)
  const total = new Float64Array(POINTS)
  const degraded = new Float64Array(POINTS)
  for (let i = 0; i < POINTS; i++) {
    at[i] = T0 + i * 10_000
    total[i] = 10
    degraded[i] = i % 997 === 0 ? 1 : 0
    good[i] = 10 - (i % 241 === 0 ? 1 : 0) - degraded[i]!
  }
  const slo = Slo.make({
    name: "bench",
    sli: { monitor: "bench" },
    objective: 0.999,
    window: "28 days",
    maintenance: [{ from: new Date(T0 + 86_400_000).toISOString(), to: new Date(T0 + 90_000_000).toISOString() }]
  })
  const measured: Array<number> = []
  const baseline: Array<number> = []
  let sink = 0
  for (let i = 0; i < trials + 2; i++) {
    let t = performance.now()
    const b = Slo.budget(slo, Slo.prepare(slo, { at, good, total, degraded }), T0 + 28 * 86_400_000)
    const m = performance.now() - t
    t = performance.now()
    let g = 0
    let n = 0
    for (let k = 0; k < POINTS; k++) {
      g += good[k]!
      n += total[k]!
    }
    const base = performance.now() - t
    sink += b.remaining + g / n
    if (i < 2) continue
    measured.push(m)
    baseline.push(base)
  }
  log(`  error budget (${POINTS} points): ${summary(measured)}; bare sum loop: ${summary(baseline)} (${sink > 0 ? "ok" : "?"})`)
  return row({
    name: `error budget over 28 days of 10 s buckets (${POINTS.toLocaleString("en")} points, maintenance and degraded included)`,
    unit: "ms",
    baseline: percentile(baseline, 50),
    measured: percentile(measured, 50),
    p50: percentile(measured, 50),
    p95: percentile(measured, 95),
    p99: percentile(measured, 99),
    goal: "p95 <= 50 ms",
    met: percentile(measured, 95) <= 50
  })
}

const historyRows = async (trials: number, log: (l: string) => void): Promise<Row> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-history-"))
  try {
    const store = await Effect.runPromise(Stores.open(path.join(dir, "history.db")))
    const rows: Array<History.RunRow> = Array.from({ length: RUNS }, (_, i) => ({
      runId: `run-${i}`,
      experiment: `experiment-${i % 20}`,
      service: `service-${i % 10}`,
      tier: i % 4,
      status: i % 9 === 0 ? "deviated" : i % 31 === 0 ? "refused" : "passed",
      cleanup: "ok",
      startedAt: T0 + i * 60_000,
      endedAt: T0 + i * 60_000 + 30_000,
      rtoMs: 800 + (i % 400),
      rpoMs: i % 7 === 0 ? 250 : 0,
      rtoObjectiveMs: 2000,
      rpoObjectiveMs: 500,
      reportPath: `/runs/run-${i}`
    }))
    await Effect.runPromise(store.index(rows))
    const { DatabaseSync } = await import("node:sqlite")
    const raw = new DatabaseSync(path.join(dir, "history.db"))
    const to = T0 + RUNS * 60_000
    const measured: Array<number> = []
    const baseline: Array<number> = []
    for (let i = 0; i < trials + 2; i++) {
      let t = performance.now()
      const facts = await Effect.runPromise(store.facts({}))
      const r = Stats.report(facts, T0, to, 7 * 86_400_000)
      const m = performance.now() - t
      if (r.overall.runs !== RUNS) throw new Error(`expected ${RUNS} runs, read ${r.overall.runs}`)
      t = performance.now()
      raw.prepare("SELECT count(*) AS n FROM runs").get()
      const base = performance.now() - t
      if (i < 2) continue
      measured.push(m)
      baseline.push(base)
    }
    raw.close()
    await Effect.runPromise(store.close)
    log(`  history (${RUNS} runs): ${summary(measured)}; SELECT count(*): ${summary(baseline)}`)
    return row({
      name: `history query over ${RUNS.toLocaleString("en")} runs (SQLite): pass rate, RTO/RPO p50/p95 + trend, MTTR, MTBF, availability, weekly windows`,
      unit: "ms",
      baseline: percentile(baseline, 50),
      measured: percentile(measured, 50),
      p50: percentile(measured, 50),
      p95: percentile(measured, 95),
      p99: percentile(measured, 99),
      goal: "p95 <= 100 ms",
      met: percentile(measured, 95) <= 100
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const schedulerRows = async (firings: number, everyMs: number, log: (l: string) => void): Promise<Row> => {
  const start = Date.now() + 500
  const trigger: Drills.Trigger = {
    describe: `every ${everyMs} ms`,
    unannounced: false,
    next: (after) => {
      const k = Math.max(0, Math.floor((after - start) / everyMs) + 1)
      return k >= firings ? null : start + k * everyMs
    }
  }
  const plan: Drills.Plan = {
    file: { drills: [{ name: "bench", experiment: "none" }] },
    timeZone: "UTC",
    maxConcurrency: 1000,
    freeze: [],
    allowed: [],
    drills: [{ drill: { name: "bench", experiment: "none" }, trigger }]
  }
  const errors: Array<number> = []
  let done = 0
  let resolveFinished: () => void = () => {}
  const finished = {
    promise: new Promise<void>((r) => {
      resolveFinished = r
    })
  }
  const host: Scheduler.Host<never> = {
    run: () => Effect.succeed({ runId: "bench", status: "passed" }),
    budget: () => Effect.succeed(null),
    leaseHolder: () => Effect.succeed(null),
    journal: (d) =>
      Effect.sync(() => {
        if (d.decision !== "started") return
        errors.push(Math.abs(performance.timeOrigin + performance.now() - d.plannedAt))
        if (++done === firings) resolveFinished()
      })
  }
  const fiber = Effect.runFork(Scheduler.run(plan, host))
  await finished.promise
  await Effect.runPromise(Fiber.interrupt(fiber))
  // Baseline: the same instants with bare timers.
  const base: Array<number> = []
  const b0 = Date.now() + 500
  await Promise.all(Array.from({ length: firings }, (_, k) =>
    new Promise<void>((resolve) =>
      setTimeout(() => {
        base.push(Math.abs(performance.timeOrigin + performance.now() - (b0 + k * everyMs)))
        resolve()
      }, b0 + k * everyMs - Date.now())
    )))
  log(`  scheduler firing error (${firings} firings every ${everyMs} ms): ${summary(errors)}; setTimeout: ${summary(base)}`)
  return row({
    name: `scheduler firing time error: |start - planned| over ${firings} firings, one every ${everyMs} ms (real clock)`,
    unit: "ms",
    baseline: percentile(base, 50),
    measured: percentile(errors, 50),
    p50: percentile(errors, 50),
    p95: percentile(errors, 95),
    p99: percentile(errors, 99),
    goal: "p99 <= 50 ms",
    met: percentile(errors, 99) <= 50
  })
}

/** Runs the SLO, history and scheduler rows. */
export const run = async (options: { readonly log: (line: string) => void; readonly trials?: number }): Promise<ReadonlyArray<Row>> => {
  const trials = options.trials ?? 20
  return [
    budgetRows(trials, options.log),
    await historyRows(trials, options.log),
    await schedulerRows(200, 50, options.log)
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run({ log: (l) => process.stdout.write(`${l}\n`) }).then((rows) => {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`)
  })
}
