/**
 * (p) PostgreSQL, on real servers (PgCluster: Debian's PostgreSQL 15 on loopback):
 *
 *   - promotion RTO as a probe every 10 ms sees it (pg_promote sent -> first sample on the
 *     standby answering pg_is_in_recovery() = false) against the server's own account of the
 *     same promotion (its log: "received promote request" -> "archive recovery complete",
 *     millisecond timestamps); the error is how far apart the probe's and the server's end of
 *     the promotion are, per trial (the server's log and the probe read the same host clock);
 *   - heartbeat writer overhead: an application — pgbench, 4 clients inserting (autocommit)
 *     as fast as they can, in its own process — with and without the heartbeat writer, in pairs of short windows
 *     (order alternating), the median of the pairs' ratios; at the writer's default interval
 *     (20 ms: the goal) and at 10 ms (reference);
 *   - failover drill wall time: one asynchronous drill of experiments/pg-sync-vs-async.ts end
 *     to end (cluster made, availability phase, experiment, fail back, cluster deleted),
 *     against starting and deleting a bare cluster in the same run.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Fiber } from "effect"
import * as Stopwatch from "../src/core/Stopwatch.ts"
import * as Run from "../src/core/Run.ts"
import { drill } from "../experiments/pg-sync-vs-async.ts"
import * as Postgres from "../src/targets/postgres/index.ts"
import * as Server from "../src/targets/postgres/internal/Server.ts"
import { mean, percentile, row, type Row } from "./stats.ts"

export interface PgBenchOptions {
  readonly trials: number
  readonly windowMs: number
  readonly windows: number
  readonly log: (line: string) => void
}

const skipped = (reason: string): ReadonlyArray<Row> => [
  row({ name: `postgres (skipped: ${reason})`, unit: "ms", baseline: null, measured: null, p50: null, p95: null, p99: null, goal: null, met: null })
]

// Millisecond timestamps of the server log's lines after `from` (byte offset).
const logInstants = (file: string, from: number) => {
  const text = fs.readFileSync(file, "utf8").slice(from)
  const at = (re: RegExp) => {
    const m = new RegExp(`^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) UTC \\[\\d+\\] LOG:  ${re.source}`, "m").exec(text)
    return m ? Date.parse(`${m[1]!.replace(" ", "T")}Z`) : null
  }
  // "archive recovery complete" is the last line of a promotion (PostgreSQL 15 logs no
  // "ready to accept connections" then: that line belongs to a start-up).
  const instants = { request: at(/received promote request/), ready: at(/archive recovery complete/) }
  if (instants.request === null || instants.ready === null) process.stderr.write(`server log without the promotion's lines:\n${text.slice(-1500)}\n`)
  return instants
}

// One promotion: the writer is crashed, the other node promoted while a 10 ms probe watches it.
const promotionTrial = (c: Postgres.PgCluster["Service"]) =>
  Effect.gen(function*() {
    const writer = yield* c.writer
    const standby = c.nodes.find((n) => n.name !== writer.name)!
    yield* Postgres.awaitStreaming(writer, standby)
    const log = path.join(path.dirname(standby.dataDir!), "server.log")
    const offset = fs.statSync(log).size
    process.kill(Server.running(writer.dataDir!)!, "SIGKILL")
    const probe = Postgres.Sql.session(standby, { timeout: "500 millis" })
    // Both connections are open before the clock starts: the probe times the promotion, not a connect.
    const promoter = Postgres.Sql.session(standby, { timeout: "65 seconds", via: "socket" })
    yield* probe.query("select 1")
    yield* promoter.query("select 1")
    const t0 = performance.now()
    const promoted = yield* Effect.forkChild(promoter.query("select pg_promote(true, 60)"))
    let seen = Number.NaN
    let seenWall = Number.NaN
    // A sample every 10 ms from t0 (fixed rate: the time a sample takes is not added to the interval).
    for (let i = 1; Number.isNaN(seen); i++) {
      const r = yield* Effect.result(probe.query<{ r: boolean }>("select pg_is_in_recovery() as r"))
      if (r._tag === "Success" && r.success[0]?.r === false) {
        seen = performance.now() - t0
        seenWall = performance.timeOrigin + performance.now()
      } else yield* Effect.sleep(Math.max(0, t0 + i * 10 - performance.now()))
    }
    yield* Effect.asVoid(Fiber.join(promoted))
    yield* probe.close
    yield* promoter.close
    const server = logInstants(log, offset)
    yield* Postgres.Recovery.failBack(c, { oldPrimary: writer, newPrimary: standby, topology: "swapped" })
    return {
      probeMs: seen,
      serverMs: server.request !== null && server.ready !== null ? server.ready - server.request : Number.NaN,
      // Where the probe saw the promotion end against where the server says it ended (same host clock).
      errorMs: server.ready !== null ? Math.abs(seenWall - server.ready) : Number.NaN
    }
  })

// The application: pgbench (PostgreSQL's own load generator, a separate process, as an
// application would be) with APP_CONNECTIONS clients inserting (autocommit) for one window.
const SCRIPT = "insert into app_writes default values;\n"
const throughput = (c: Postgres.PgCluster["Service"], writer: Postgres.PgNode, script: string, seconds: number) =>
  Effect.map(
    Server.run(c.runner, "pgbench", [
      "-n",
      "-c",
      String(APP_CONNECTIONS),
      "-j",
      "2",
      "-T",
      String(seconds),
      "-f",
      script,
      "-h",
      writer.socketDir!,
      "-p",
      String(writer.port),
      "-U",
      "postgres",
      "postgres"
    ], { target: "pgbench" }),
    (o) => Number(/tps = ([\d.]+)/.exec(o.stdout)?.[1] ?? Number.NaN)
  )

/** The application's connections in the overhead benchmark. */
export const APP_CONNECTIONS = 4

const heartbeatOverhead = (c: Postgres.PgCluster["Service"], options: PgBenchOptions, every: `${number} millis`) =>
  Effect.gen(function*() {
    const writer = yield* c.writer
    yield* Postgres.Sql.query(writer, "create table if not exists app_writes (id bigserial primary key, at timestamptz default clock_timestamp())")
    const script = path.join(c.session, "app.sql")
    fs.writeFileSync(script, SCRIPT, { mode: 0o644 })
    const seconds = Math.max(1, Math.round(options.windowMs / 1000))
    const app = throughput(c, writer, script, seconds)
    const hb = Postgres.heartbeat(Postgres.appPath(writer), { every })
    yield* hb.setup
    const bare: Array<number> = []
    const withHb: Array<number> = []
    const run = yield* Run.Run
    // Each window's writer numbers its commits from 1 again: setup empties the table first.
    const withWriter = Effect.gen(function*() {
      yield* hb.setup
      const fiber = yield* Effect.forkChild(Stopwatch.runWriter(hb.heartbeat, run))
      const x = yield* app
      yield* Fiber.interrupt(fiber)
      return x
    })
    // Short windows in pairs, the order alternating: a busy machine's drift hits both alike.
    for (let i = 0; i < options.windows; i++) {
      if (i % 2 === 0) {
        bare.push(yield* app)
        withHb.push(yield* withWriter)
      } else {
        withHb.push(yield* withWriter)
        bare.push(yield* app)
      }
    }
    yield* hb.close
    return { bare, withHb }
  }).pipe(Effect.provide(Run.layerTest()))

const median = (xs: ReadonlyArray<number>) => percentile(xs, 50)

/** Runs the PostgreSQL rows, or one row saying why not. */
export const run = async (options: PgBenchOptions): Promise<ReadonlyArray<Row>> => {
  if (!fs.existsSync(`${Postgres.DEFAULT_BIN}/initdb`)) return skipped(`no PostgreSQL at ${Postgres.DEFAULT_BIN}`)
  const rows: Array<Row> = []
  const t0 = performance.now()
  await Effect.runPromise(Effect.scoped(Effect.asVoid(Postgres.start({ name: "bench-bare" }))))
  const bareMs = performance.now() - t0
  const measured = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const c = yield* Postgres.start({ name: "bench" })
    const trials: Array<{ probeMs: number; serverMs: number; errorMs: number }> = []
    for (let i = 0; i < options.trials; i++) {
      const t = yield* promotionTrial(c)
      options.log(
        `  promotion ${i + 1}: probe ${t.probeMs.toFixed(1)} ms after pg_promote was sent, server ${
          t.serverMs.toFixed(0)
        } ms from request to done; end instants ${t.errorMs.toFixed(1)} ms apart`
      )
      trials.push(t)
    }
    const overhead = yield* heartbeatOverhead(c, options, "20 millis")
    const overhead10 = yield* heartbeatOverhead(c, options, "10 millis")
    return { trials, overhead, overhead10 }
  })))
  const errors = measured.trials.filter((t) => Number.isFinite(t.errorMs)).map((t) => t.errorMs)
  rows.push(row({
    name: "postgres.promotion_rto_error",
    unit: "ms",
    baseline: mean(measured.trials.map((t) => t.serverMs)),
    measured: mean(errors),
    p50: percentile(errors, 50),
    p95: percentile(errors, 95),
    p99: percentile(errors, 99),
    goal: "p95 <= 15 ms",
    met: errors.length === measured.trials.length && percentile(errors, 95) <= 15
  }))
  for (
    const [name, o, goal] of [["postgres.heartbeat_overhead", measured.overhead, true], [
      "postgres.heartbeat_overhead_10ms",
      measured.overhead10,
      false
    ]] as const
  ) {
    const pct = (1 - median(o.withHb.map((x, i) => x / o.bare[i]!))) * 100
    options.log(`  ${name}: app writes/s bare ${o.bare.map((x) => x.toFixed(0)).join(", ")}; with heartbeat ${o.withHb.map((x) => x.toFixed(0)).join(", ")}`)
    rows.push(
      row({
        name,
        unit: "%",
        baseline: median(o.bare),
        measured: pct,
        p50: null,
        p95: null,
        p99: null,
        goal: goal ? "<= 5 %" : null,
        met: goal ? pct <= 5 : null
      })
    )
  }
  const d0 = performance.now()
  const d = await Effect.runPromise(drill("async"))
  const drillMs = performance.now() - d0
  options.log(`  drill: ${d.status}, ${d.lostWrites} lost, promotion ${d.promotionMs.toFixed(0)} ms, fail back ${d.failBackMs.toFixed(0)} ms`)
  rows.push(
    row({
      name: "postgres.failover_drill_wall",
      unit: "ms",
      baseline: bareMs,
      measured: drillMs,
      p50: null,
      p95: null,
      p99: null,
      goal: "<= 60000 ms",
      met: drillMs <= 60_000 && d.status === "passed"
    })
  )
  return rows
}

if (import.meta.main) {
  run({ trials: 12, windowMs: 1000, windows: 16, log: console.log }).then((rows) => console.log(JSON.stringify(rows, null, 2)))
}
