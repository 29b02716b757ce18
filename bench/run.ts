/**
 * faultline benchmarks: `npm run bench` (Node 24, TypeScript run directly).
 *
 *   (a) RTO accuracy against a real process with a precisely recorded outage
 *   (b) abort latency: manual halt -> three SIGSTOPped real processes resumed
 *   (c) CPU overhead and achieved rate of 10 continuous hypotheses at 10 ms
 *   (d) runner death: SIGKILL of the runner to everything reverted by its watchdog alone, per
 *       target family (process, network, Docker), with the count that needed `recover`
 *   (e) Docker fan-out: docker.pause injected and reverted across N = 1, 10, 50 containers
 *       with bounded concurrency (a row saying why when no Docker Engine answers)
 *   (f) network proxy: direct vs embedded proxy vs real Toxiproxy (added latency, throughput,
 *       CPU per GB, latency and bandwidth toxic accuracy)
 *   (g) long runs: heap growth of 10 hypotheses at 10 ms over 4 simulated hours, beside a
 *       5-minute run (child processes with --expose-gc; TestClock drives the time)
 *   (h) start-up: `faultline --version` and `faultline run` to its first probe, beside a bare node
 *   (i) breach detection: first failing sample -> every fault reverted, against a manual halt
 *   (j) SLOs and history: an error budget over 241,920 points, a history query over 100,000
 *       runs, the scheduler's firing time error (bench/slo.ts)
 *   (k) drills: automated step -> next step; journal entry -> browser DOM of the web live view;
 *       a 2-hour drill's live page (frame time, DOM size) in headless Chromium
 *   (l) durable drills: runner loss -> drill resumed on another runner (3 runners, PostgreSQL 15);
 *       100 scheduled drills across 3 runners vs one plain runner (bench/durable.ts)
 *   (p) PostgreSQL: promotion RTO by a 10 ms probe against the server's own log, heartbeat
 *       writer overhead on an application's write throughput, failover drill wall time
 *   (r) reports of a 1-hour run: report.html size, folding the journal file into every report,
 *       and render time in headless Chromium, each beside a short run's or the JSON-only fold
 *   (m) mutation score: not measured here (minutes of CPU); the rows of the last `npm run mutate`
 *       (bench/mutation.json) are carried over when present
 *
 * Prints a table and writes bench/results.json: one object per figure,
 * { name, unit, baseline, measured, p50, p95, p99, goal, met }.
 */
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { startOutageFixture } from "../examples/kv-failover/system.mjs"
import { Process } from "../src/index.ts"
import * as Abort from "./abort.ts"
import * as DockerBench from "./docker.ts"
import * as LongRun from "./longrun.ts"
import * as Mutation from "./mutation.ts"
import * as Overhead from "./overhead.ts"
import * as Pg from "./postgres.ts"
import * as Proxy from "./proxy.ts"
import * as Rto from "./rto.ts"
import * as Breach from "./breach.ts"
import * as SloBench from "./slo.ts"
import * as DrillBench from "./drill.ts"
import * as DurableBench from "./durable.ts"
import * as ReportBench from "./report.ts"
import * as Startup from "./startup.ts"
import * as Watchdog from "./watchdog.ts"
import { type Row, table } from "./stats.ts"

const RESULTS = fileURLToPath(new URL("./results.json", import.meta.url))
const log = (line: string) => process.stdout.write(`${line}\n`)
const elapsed = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`

const main = async () => {
  const t0 = performance.now()
  const rows: Array<Row> = []
  const started: Array<number> = []
  const fixture = await startOutageFixture({ host: "127.0.0.1" })
  started.push(fixture.pid)
  log(`outage fixture: ${fixture.url} (pid ${fixture.pid})`)
  try {
    log("\n(a) RTO accuracy: fixture outage of D ms, HTTP probe every 10 ms, stableFor 3")
    rows.push(...await Effect.runPromise(Rto.run({ url: fixture.url, pid: fixture.pid, trials: 24, warmup: 1, log })))
    log(`  [${elapsed(t0)}]`)

    log("\n(b) abort latency: process.pause on 3 idle processes, manual halt after 50 ms")
    rows.push(...await Effect.runPromise(Abort.run({ trials: 40, warmup: 2, log, started: (pid) => started.push(pid) })))
    log(`  [${elapsed(t0)}]`)

    log("\n(c) hypothesis overhead: 10 hypotheses every 10 ms, file journal, 1 s warm-up, median of 3 x 3 s windows")
    rows.push(...await Effect.runPromise(Overhead.run({ windowMs: 3000, warmupMs: 1000, repeats: 3, url: fixture.url, log })))
    log(`  [${elapsed(t0)}]`)

    log("\n(d) runner death: runner SIGKILLed between injection and revert; the watchdog alone reverts everything (process, network, Docker)")
    rows.push(...await Watchdog.run({ trials: 60, log }))
    log(`  [${elapsed(t0)}]`)

    log("\n(f) network proxy on loopback: direct vs embedded (faultline proxy) vs real Toxiproxy 2.12")
    rows.push(...await Proxy.run({ log }))
    log(`  [${elapsed(t0)}]`)
  } finally {
    await fixture.stop()
  }

  log("\n(e) Docker fan-out: docker.pause inject+revert across N = 1, 10, 50 containers, concurrency 10")
  rows.push(...await DockerBench.run({ sizes: [1, 10, 50], trials: (n) => (n === 1 ? 10 : n === 10 ? 5 : 3), concurrency: 10, log }))
  log(`  [${elapsed(t0)}]`)

  log("\n(h) start-up: faultline --version and faultline run to its first probe, each beside a bare node")
  rows.push(...await Startup.run({ trials: 10, log }))
  log(`  [${elapsed(t0)}]`)

  log("\n(i) breach detection: 500 ms window, probe every 10 ms; first failing sample -> every fault reverted")
  rows.push(...await Breach.run({ trials: 20, log }))
  log(`  [${elapsed(t0)}]`)

  log("\n(j) SLOs and history: error budget over 241,920 points; history query over 100,000 runs; scheduler firing error")
  rows.push(...await SloBench.run({ log }))
  log("\n(k) drills: step -> next step (200 automated steps, file journal); entry -> Chromium DOM; a 2-hour drill's live page")
  rows.push(...await DrillBench.run({ log }))
  log(`  [${elapsed(t0)}]`)

  log("\n(l) durable drills: runner loss -> resumed (10 SIGKILLs, 3 runners); 100 scheduled drills, 3 runners vs one")
  rows.push(...await DurableBench.run({ log }))

  log(`  [${elapsed(t0)}]`)

  log("\n(p) PostgreSQL: promotion RTO (10 ms probe vs server log), heartbeat writer overhead (pgbench), failover drill wall time")
  rows.push(...await Pg.run({ trials: 12, windowMs: 1000, windows: 16, log }))
  log(`  [${elapsed(t0)}]`)

  log("\n(r) reports of a 1-hour run (10 ms probe): report.html size, fold time, render in headless Chromium")
  rows.push(...await ReportBench.run({ trials: 10, log }))
  log(`  [${elapsed(t0)}]`)

  log("\n(g) long runs: 10 hypotheses at 10 ms, journal streamed to disk; heap after GC, 5 min vs 4 h simulated")
  rows.push(...await LongRun.run({ log }))
  log(`  [${elapsed(t0)}]`)

  const left = started.filter((pid) => Process.isAlive(pid))
  if (left.length > 0) log(`\nWARNING: processes still running: ${left.join(", ")}`)

  const mutation = Mutation.lastRows()
  log(
    mutation.length > 0
      ? `\n(g) mutation score: ${mutation.length} row(s) from the last npm run mutate (${Mutation.MUTATION_ROWS})`
      : "\n(g) mutation score: npm run mutate has not been run here; no row"
  )
  rows.push(...mutation)

  fs.writeFileSync(RESULTS, JSON.stringify(rows, null, 2) + "\n")
  log(`\n${table(rows)}\n`)
  const goals = rows.filter((r) => r.met !== null)
  log(`${goals.filter((r) => r.met).length}/${goals.length} goals met; total ${elapsed(t0)}; wrote ${RESULTS}`)
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  process.exitCode = 1
})
