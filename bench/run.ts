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

interface Section {
  readonly key: string
  readonly title: string
  readonly run: (ctx: { readonly fixtureUrl: () => Promise<{ url: string; pid: number }>; readonly started: Array<number> }) => Promise<ReadonlyArray<Row>>
}

const sections: ReadonlyArray<Section> = [
  {
    key: "a",
    title: "(a) RTO accuracy: fixture outage of D ms, HTTP probe every 10 ms, stableFor 3",
    run: async (c) => {
      const f = await c.fixtureUrl()
      return Effect.runPromise(Rto.run({ url: f.url, pid: f.pid, trials: 24, warmup: 1, log }))
    }
  },
  {
    key: "b",
    title: "(b) abort latency: process.pause on 3 idle processes, manual halt after 50 ms",
    run: (c) => Effect.runPromise(Abort.run({ trials: 40, warmup: 2, log, started: (pid) => c.started.push(pid) }))
  },
  {
    key: "c",
    title: "(c) hypothesis overhead: 10 hypotheses every 10 ms, file journal, 1 s warm-up, median of 5 x 3 s windows",
    run: async (c) => Effect.runPromise(Overhead.run({ windowMs: 3000, warmupMs: 1000, repeats: 5, url: (await c.fixtureUrl()).url, log }))
  },
  {
    key: "d",
    title: "(d) runner death: runner SIGKILLed between injection and revert; the watchdog alone reverts everything (process, network, Docker)",
    run: () => Watchdog.run({ trials: 60, log })
  },
  { key: "f", title: "(f) network proxy on loopback: direct vs embedded (faultline proxy) vs real Toxiproxy 2.12", run: () => Proxy.run({ log }) },
  {
    key: "e",
    title: "(e) Docker fan-out: docker.pause inject+revert across N = 1, 10, 50 containers, concurrency 10",
    run: () => DockerBench.run({ sizes: [1, 10, 50], trials: (n) => (n === 1 ? 10 : n === 10 ? 5 : 3), concurrency: 10, log })
  },
  {
    key: "h",
    title: "(h) start-up: faultline --version and faultline run to its first probe, each beside a bare node",
    run: () => Startup.run({ trials: 10, log })
  },
  {
    key: "i",
    title: "(i) breach detection: 500 ms window, probe every 10 ms; first failing sample -> every fault reverted",
    run: () => Breach.run({ trials: 20, log })
  },
  {
    key: "j",
    title: "(j) SLOs and history: error budget over 241,920 points; history query over 100,000 runs; scheduler firing error",
    run: () => SloBench.run({ log })
  },
  {
    key: "k",
    title: "(k) drills: step -> next step (200 automated steps, file journal); entry -> Chromium DOM; a 2-hour drill's live page",
    run: () => DrillBench.run({ log })
  },
  {
    key: "l",
    title: "(l) durable drills: runner loss -> resumed (10 SIGKILLs, 3 runners); 100 scheduled drills, 3 runners vs one",
    run: () => DurableBench.run({ log })
  },
  {
    key: "p",
    title: "(p) PostgreSQL: promotion RTO (10 ms probe vs server log), heartbeat writer overhead (pgbench), failover drill wall time",
    run: () => Pg.run({ trials: 12, windowMs: 1000, windows: 16, log })
  },
  {
    key: "r",
    title: "(r) reports of a 1-hour run (10 ms probe): report.html size, fold time, render in headless Chromium",
    run: () => ReportBench.run({ trials: 10, log })
  },
  { key: "g", title: "(g) long runs: 10 hypotheses at 10 ms, journal streamed to disk; heap after GC, 5 min vs 4 h simulated", run: () => LongRun.run({ log }) }
]

// `npm run bench -- --only h,c`: only those sections run; their rows replace the rows of the
// same sections in bench/results.json and the other rows are kept (each row names its section).
const only = (() => {
  const i = process.argv.indexOf("--only")
  if (i < 0) return null
  const keys = (process.argv[i + 1] ?? "").split(",").filter((k) => k !== "")
  const unknown = keys.filter((k) => !sections.some((s) => s.key === k))
  if (keys.length === 0 || unknown.length > 0) {
    process.stderr.write(`bench: --only takes section letters (${sections.map((s) => s.key).join(",")}); got ${process.argv[i + 1] ?? "nothing"}\n`)
    process.exit(2)
  }
  return new Set(keys)
})()

const previous = (): Array<Row & { section?: string }> => {
  try {
    return JSON.parse(fs.readFileSync(RESULTS, "utf8"))
  } catch {
    return []
  }
}

const main = async () => {
  const t0 = performance.now()
  const rows: Array<Row & { section: string }> = []
  const started: Array<number> = []
  let fixture: Awaited<ReturnType<typeof startOutageFixture>> | null = null
  const fixtureUrl = async () => {
    fixture ??= await startOutageFixture({ host: "127.0.0.1" })
    if (!started.includes(fixture.pid)) {
      started.push(fixture.pid)
      log(`outage fixture: ${fixture.url} (pid ${fixture.pid})`)
    }
    return { url: fixture.url, pid: fixture.pid }
  }
  try {
    for (const section of sections) {
      if (only !== null && !only.has(section.key)) continue
      log(`\n${section.title}`)
      rows.push(...(await section.run({ fixtureUrl, started })).map((r) => ({ ...r, section: section.key })))
      log(`  [${elapsed(t0)}]`)
    }
  } finally {
    await (fixture as Awaited<ReturnType<typeof startOutageFixture>> | null)?.stop()
  }

  const left = started.filter((pid) => Process.isAlive(pid))
  if (left.length > 0) log(`\nWARNING: processes still running: ${left.join(", ")}`)

  const mutation = Mutation.lastRows()
  log(
    mutation.length > 0
      ? `\n(m) mutation score: ${mutation.length} row(s) from the last npm run mutate (${Mutation.MUTATION_ROWS})`
      : "\n(m) mutation score: npm run mutate has not been run here; no row"
  )
  rows.push(...mutation.map((r) => ({ ...r, section: "m" })))

  const kept = only === null ? [] : previous().filter((r) => r.section !== undefined && !only.has(r.section) && r.section !== "m")
  const all = [...kept, ...rows]
  fs.writeFileSync(RESULTS, JSON.stringify(all, null, 2) + "\n")
  log(`\n${table(all)}\n`)
  const goals = all.filter((r) => r.met !== null)
  log(
    `${goals.filter((r) => r.met).length}/${goals.length} goals met; total ${elapsed(t0)}; wrote ${RESULTS}${
      only ? ` (sections ${[...only].join(",")} rerun, others kept)` : ""
    }`
  )
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  process.exitCode = 1
})
