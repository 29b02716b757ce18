/**
 * Synchronous or asynchronous replication — how much data do we lose, and what does not
 * losing it cost? The same drill twice on a real PostgreSQL primary + streaming standby
 * (PgCluster), once with asynchronous replication and once with `synchronous_commit =
 * remote_apply` and `synchronous_standby_names = '*'`, and one table of what was measured:
 *
 * 1. write availability while the standby is down (its server stopped for a while; writes
 *    attempted every 20 ms with a 250 ms timeout): measured, not assumed;
 * 2. the experiment: a heartbeat writer commits a row every 10 ms through the application's
 *    path; the replication link (through the fault proxy) gets `network.latency` — the
 *    induced lag — and commit latency is measured on those commits; then the site of the
 *    primary is lost: the replication link goes down (`network.down`) and the primary is
 *    SIGKILLed (`postgres.crashPrimary`) in the same instant, so WAL in flight on the link is
 *    lost with it; the standby is promoted (`pg_promote`, timed), the application repointed,
 *    the link restored, and the old primary rewound into the new primary's standby (fail
 *    back, swapped topology);
 * 3. RPO from the heartbeat rows read back on the new primary (`lostWrites`, `windowMs`),
 *    RTO from a writable-probe every 10 ms, timed from the crash.
 *
 * Run it: `node experiments/pg-sync-vs-async.ts` (prints the table) or
 * `npm run example:pg-failover`. `faultline run experiments/pg-sync-vs-async.ts` runs the
 * asynchronous experiment alone (`FAULTLINE_PG_MODE=sync` for the synchronous one).
 *
 * @since 0.1.0
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import { Abort, Experiment, Fault, Hypothesis, Selector, Stopwatch, Tolerance } from "../src/index.ts"
import * as Postgres from "../src/targets/postgres/index.ts"
import * as Toxiproxy from "../src/targets/toxiproxy/index.ts"

/** @since 0.1.0 */
export type Mode = "async" | "sync"

/** @since 0.1.0 */
export interface DrillOptions {
  /** Latency added to the replication link before the crash (the induced lag), ms. Default 150. */
  readonly linkLatencyMs?: number
  /** How long the heartbeat writes under that lag before the crash. Default 1500 ms. */
  readonly lagFor?: `${number} millis`
  /** How long the standby is stopped for the availability phase, ms. Default 1000. */
  readonly standbyDownMs?: number
  /** The topology the drill ends in. Default `swapped` (the old primary becomes the standby). */
  readonly topology?: Postgres.Recovery.Topology
}

/** What one drill measured. @since 0.1.0 */
export interface DrillResult {
  readonly mode: Mode
  readonly status: string
  readonly reason: string
  readonly ackedWrites: number
  readonly lostWrites: number
  readonly windowMs: number
  /** Commit latency before the lag was induced (the link as it is). */
  readonly steadyP50Ms: number
  readonly steadyP99Ms: number
  /** Commit latency while the link had the added latency. */
  readonly commitP50Ms: number
  readonly commitP99Ms: number
  readonly commits: number
  readonly availability: { readonly attempted: number; readonly acked: number; readonly ratio: number }
  readonly promotionMs: number
  readonly rtoMs: number | null
  readonly failBackMs: number
  readonly writerAfter: string
  readonly streamingAfter: boolean
}

const pct = (xs: ReadonlyArray<number>, p: number) => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

/**
 * Write availability while the standby's server is stopped: writes through the application
 * path every 20 ms, each acknowledged within 250 ms or not.
 *
 * @since 0.1.0
 */
export const availabilityWhileStandbyDown = (c: Postgres.PgCluster["Service"], downMs: number) =>
  Effect.gen(function*() {
    const app = Postgres.appPath(c.primary)
    const s = app.session({ timeout: "250 millis", applicationName: "availability" })
    yield* s.query("create table if not exists availability (id serial primary key, at timestamptz default clock_timestamp())")
    yield* c.stop(c.standby, "fast")
    let attempted = 0
    let acked = 0
    const until = performance.now() + downMs
    while (performance.now() < until) {
      attempted++
      if ((yield* Effect.result(s.query("insert into availability default values")))._tag === "Success") acked++
      yield* Effect.sleep("20 millis")
    }
    yield* s.close
    yield* c.start(c.standby)
    yield* Postgres.awaitStreaming(c.primary, c.standby)
    return { attempted, acked, ratio: attempted === 0 ? 0 : acked / attempted }
  })

/**
 * The experiment for a running cluster: heartbeat under replication lag, site loss of the
 * primary, promotion, repoint, fail back. Returns it with what the caller reads afterwards.
 *
 * @since 0.1.0
 */
export const experiment = (c: Postgres.PgCluster["Service"], mode: Mode, options: DrillOptions = {}) =>
  Effect.gen(function*() {
    const app = Postgres.appPath(c.primary)
    const hb = Postgres.heartbeat(app, { every: "10 millis", timeout: "2 seconds" })
    yield* hb.setup
    const marks = { commitsBeforeLag: 0, commitsBeforeCrash: 0, promotionMs: 0, failBackMs: 0 }
    const writable = Hypothesis.make("writes reach a primary", {
      probe: Postgres.Probes.writable(app, { timeout: "200 millis" }),
      every: "10 millis",
      samples: 30,
      tolerance: Tolerance.successRatio({ atLeast: 0.8, confidence: 0.9 }),
      // The outage is what the RTO objective judges.
      during: "observe"
    })
    const link = Selector.name(c.replication.proxy)
    const exp = Experiment.make({
      name: `pg failover (${mode === "sync" ? "synchronous_commit = remote_apply" : "asynchronous"})`,
      description: "Lag the replication link, lose the primary's site (link down + SIGKILL), promote the standby, repoint, fail back.",
      hypothesis: writable,
      method: Effect.gen(function*() {
        marks.commitsBeforeLag = hb.latencies().length
        const lag = yield* Fault.inject(Toxiproxy.latency({ target: link, latency: options.linkLatencyMs ?? 150 }))
        yield* Effect.sleep(options.lagFor ?? "1500 millis")
        const down = yield* Fault.inject(Toxiproxy.down({ target: link }))
        marks.commitsBeforeCrash = hb.latencies().length
        yield* Fault.inject(Postgres.crashPrimary({ target: Selector.name(c.primary.name) }))
        const promoted = yield* Postgres.Recovery.promote(c.standby)
        marks.promotionMs = promoted.ms
        yield* Postgres.Recovery.repoint(app.repoint(c.standby), { to: c.standby.name })
        yield* Effect.sleep("500 millis")
        yield* Effect.forEach([...down, ...lag], Fault.revert, { discard: true })
        const back = yield* Postgres.Recovery.failBack(c, { oldPrimary: c.primary, newPrimary: c.standby, topology: options.topology ?? "swapped" })
        marks.failBackMs = back.ms
        if (back.value.writer !== app.current().name) yield* Postgres.Recovery.repoint(app.repoint(c.node(back.value.writer)), { to: back.value.writer })
      }),
      abort: [Abort.maxDuration("2 minutes")],
      stopwatches: { rto: Stopwatch.rto(writable, { stableFor: 3, from: "postgres.crashPrimary" }), rpo: hb.heartbeat },
      objectives: { rto: "15 seconds" }
    })
    return { exp, hb, marks, app }
  })

// The drivers an experiment on this cluster needs: PostgreSQL (the cluster's) and the
// network faults on its replication proxy.
const drivers = (c: Postgres.PgCluster["Service"]) =>
  Layer.merge(
    Postgres.PostgresDriver.layerConfig({ clusters: [c.spec], relink: (_cluster, w) => c.relink(c.node(w.name)) }),
    Toxiproxy.ToxiproxyDriver.layerConfig({ url: c.replication.api.url, ...(c.replication.api.token ? { token: c.replication.api.token } : {}) })
  )

/**
 * One drill on a fresh cluster of its own (started and deleted here).
 *
 * @since 0.1.0
 */
export const drill = (mode: Mode, options: DrillOptions = {}) =>
  Effect.scoped(Effect.gen(function*() {
    const c = yield* Postgres.start({ name: `drill-${mode}` })
    if (mode === "sync") yield* c.setSynchronous("remote_apply")
    const availability = yield* availabilityWhileStandbyDown(c, options.standbyDownMs ?? 1000)
    const { exp, hb, marks, app } = yield* experiment(c, mode, options)
    const result = yield* Experiment.run(exp).pipe(Effect.provide(drivers(c)))
    yield* hb.close
    const rpo = Stopwatch.computeRpo(result.entries)
    const rto = Stopwatch.computeRto(result.entries)
    const steady = hb.latencies().slice(0, marks.commitsBeforeLag)
    const commits = hb.latencies().slice(marks.commitsBeforeLag, marks.commitsBeforeCrash)
    const writer = yield* c.writer
    const other = c.nodes.find((n) => n.name !== writer.name)!
    const streaming = yield* Effect.result(Postgres.awaitStreaming(writer, other, 10_000))
    return {
      mode,
      status: result.verdict.status,
      reason: result.verdict.reason,
      ackedWrites: rpo?.ackedWrites ?? 0,
      lostWrites: rpo?.lostWrites ?? 0,
      windowMs: rpo?.windowMs ?? 0,
      steadyP50Ms: pct(steady, 50),
      steadyP99Ms: pct(steady, 99),
      commitP50Ms: pct(commits, 50),
      commitP99Ms: pct(commits, 99),
      commits: commits.length,
      availability,
      promotionMs: marks.promotionMs,
      rtoMs: rto?.measuredMs ?? null,
      failBackMs: marks.failBackMs,
      writerAfter: `${app.current().name} (${writer.name} accepts writes)`,
      streamingAfter: streaming._tag === "Success"
    } satisfies DrillResult
  }))

/**
 * Both drills, asynchronous first.
 *
 * @since 0.1.0
 */
export const compare = (options: DrillOptions = {}) =>
  Effect.gen(function*() {
    const async = yield* drill("async", options)
    const sync = yield* drill("sync", options)
    return { async, sync }
  })

const f = (n: number, digits = 1) => Number.isFinite(n) ? n.toFixed(digits) : "-"

/**
 * The side-by-side table (Markdown).
 *
 * @since 0.1.0
 */
export const table = (r: { readonly async: DrillResult; readonly sync: DrillResult }, options: DrillOptions = {}): string => {
  const rows: Array<[string, (d: DrillResult) => string]> = [
    ["acknowledged writes lost (RPO)", (d) => `${d.lostWrites} of ${d.ackedWrites}`],
    ["window of lost writes", (d) => `${f(d.windowMs)} ms`],
    ["commit latency p50 / p99, link as is", (d) => `${f(d.steadyP50Ms, 2)} / ${f(d.steadyP99Ms, 2)} ms`],
    [`commit latency p50 (link +${options.linkLatencyMs ?? 150} ms)`, (d) => `${f(d.commitP50Ms, 2)} ms`],
    [`commit latency p99 (link +${options.linkLatencyMs ?? 150} ms)`, (d) => `${f(d.commitP99Ms, 2)} ms`],
    ["write availability, standby down", (d) => `${d.availability.acked}/${d.availability.attempted} (${f(d.availability.ratio * 100, 0)} %)`],
    ["promotion (pg_promote wait)", (d) => `${f(d.promotionMs)} ms`],
    ["RTO (crash -> writable, probe 10 ms)", (d) => d.rtoMs === null ? "not measured" : `${f(d.rtoMs)} ms`],
    ["fail back (pg_rewind + rejoin)", (d) => `${f(d.failBackMs)} ms`],
    ["cluster after the drill", (d) => `writer ${d.writerAfter}, standby ${d.streamingAfter ? "streaming" : "NOT streaming"}`],
    ["verdict", (d) => d.status]
  ]
  return [
    "| measured on this cluster | asynchronous | synchronous (remote_apply) |",
    "|---|---|---|",
    ...rows.map(([name, get]) => `| ${name} | ${get(r.async)} | ${get(r.sync)} |`)
  ].join("\n")
}

const mode: Mode = process.env.FAULTLINE_PG_MODE === "sync" ? "sync" : "async"

/** For `faultline run`: the cluster and the drivers of the experiment. @since 0.1.0 */
export const layer = Layer.unwrap(Effect.map(
  Effect.gen(function*() {
    return yield* Postgres.PgCluster
  }),
  (c) => drivers(c)
)).pipe(Layer.provideMerge(Postgres.PgCluster.layer({ name: `drill-${mode}` })))

/** For `faultline run`: one experiment on the layer's cluster. @since 0.1.0 */
export default Effect.gen(function*() {
  const c = yield* Postgres.PgCluster
  if (mode === "sync") yield* c.setSynchronous("remote_apply")
  return (yield* experiment(c, mode)).exp
})

if (import.meta.main) {
  const rt = ManagedRuntime.make(Layer.empty)
  rt.runPromise(compare()).then(
    (r) => {
      console.log(table(r))
      return rt.dispose()
    },
    (e) => {
      console.error(String(e))
      process.exitCode = 1
      return rt.dispose()
    }
  )
}
