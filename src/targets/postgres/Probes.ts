/**
 * PostgreSQL probes: which node is the writer, replication lag in bytes and seconds, a SQL
 * query whose value a tolerance judges, and a connection probe. Probes that run every 10 ms
 * keep a connection open per node (see `Sql.session`) instead of connecting per sample.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Probe from "../../core/Probe.ts"
import type { AppPath } from "./App.ts"
import { describe, idOf, type PgNode } from "./Node.ts"
import { PostgresError } from "./PostgresError.ts"
import * as Sql from "./Sql.ts"

const spec = (kind: string, params: Record<string, unknown>): Probe.ProbeSpec => ({ kind, params })

/**
 * Which of `nodes` accepts writes (`pg_is_in_recovery() = false`): the value is the writer's
 * name, or null; the sample is good when exactly one node is the writer.
 *
 * @since 0.1.0
 */
export const writer = (nodes: ReadonlyArray<PgNode>, options: { readonly timeout?: `${number} millis` } = {}): Probe.Probe =>
  Probe.make(
    `postgres writer of ${nodes.map(idOf).join(", ")}`,
    Effect.suspend(() => {
      const sessions = nodes.map((n) => ({ n, s: sessionFor(n, options.timeout) }))
      return Effect.gen(function*() {
        const writers: Array<string> = []
        for (const { n, s } of sessions) {
          const r = yield* Effect.result(s.query<{ r: boolean }>("select pg_is_in_recovery() as r"))
          if (r._tag === "Success" && r.success[0]?.r === false) writers.push(n.name)
        }
        if (writers.length !== 1) {
          return yield* new PostgresError({
            reason: writers.length === 0 ? "NotFound" : "InvalidInput",
            target: nodes.map(idOf).join(","),
            operation: "writer",
            detail: writers.length === 0 ? "no writer" : `${writers.length} writers: ${writers.join(", ")}`
          })
        }
        return writers[0]
      })
    }),
    { spec: spec("postgres.writer", { nodes: nodes.map(describe) }), timeout: options.timeout ?? "500 millis" }
  )

// One session per node per process: probes sampled every 10 ms reuse their connection.
const sessions = new Map<string, Sql.Session>()
const sessionFor = (n: PgNode, timeout?: `${number} millis`) => {
  const key = `${idOf(n)}@${n.host}:${n.port}/${timeout ?? ""}`
  let s = sessions.get(key)
  if (s === undefined) {
    s = Sql.session(n, { timeout: timeout ?? "500 millis", applicationName: "faultline-probe" })
    sessions.set(key, s)
  }
  return s
}

/**
 * Whether the application's path leads to a node that accepts writes: good when the node it
 * points at now answers `pg_is_in_recovery() = false` (what a promotion RTO is timed by).
 *
 * @since 0.1.0
 */
export const writable = (app: AppPath, options: { readonly timeout?: `${number} millis` } = {}): Probe.Probe => {
  const s = app.session({ timeout: options.timeout ?? "500 millis", applicationName: "faultline-probe" })
  return Probe.make(
    "postgres writable via the application path",
    Effect.flatMap(s.query<{ r: boolean }>("select pg_is_in_recovery() as r"), (rows) =>
      rows[0]?.r === false
        ? Effect.succeed(app.current().name)
        : Effect.fail(new PostgresError({ reason: "InRecovery", target: idOf(app.current()), operation: "writable", detail: "the node is a standby" }))),
    {
      spec: spec("postgres.writable", {}),
      timeout: options.timeout ?? "500 millis"
    }
  )
}

/** Replication lag of a standby. @since 0.1.0 */
export interface Lag {
  /** WAL the primary has written that the standby has not replayed. */
  readonly bytes: number
  /** Now minus the commit time of the last transaction the standby replayed (0 when idle and caught up). */
  readonly seconds: number
}

/**
 * Replication lag of `standby` behind `primary`: bytes from `pg_stat_replication` on the
 * primary (`pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)`), seconds from the standby's
 * `pg_last_xact_replay_timestamp()` (0 when it has replayed everything). Bad beyond
 * `maxBytes` / `maxSeconds`, or when the standby is not streaming.
 *
 * @since 0.1.0
 */
export const replicationLag = (primary: PgNode, standby: PgNode, options: { readonly maxBytes?: number; readonly maxSeconds?: number } = {}): Probe.Probe =>
  Probe.make(
    `postgres replication lag of ${idOf(standby)}`,
    Effect.gen(function*() {
      const p = yield* sessionFor(primary).query<{ bytes: string | null }>(
        "select pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text as bytes from pg_stat_replication where application_name = $1",
        [standby.name]
      )
      if (p.length === 0 || p[0]!.bytes === null) {
        return yield* new PostgresError({ reason: "NotFound", target: idOf(standby), operation: "lag", detail: `not streaming from ${idOf(primary)}` })
      }
      const s = yield* sessionFor(standby).query<{ seconds: number | null }>(
        "select case when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0 else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 end as seconds"
      )
      const lag: Lag = { bytes: Number(p[0]!.bytes), seconds: Math.max(0, Number(s[0]?.seconds ?? 0)) }
      if (options.maxBytes !== undefined && lag.bytes > options.maxBytes) {
        return yield* new PostgresError({
          reason: "InvalidInput",
          target: idOf(standby),
          operation: "lag",
          detail: `${lag.bytes} bytes behind (max ${options.maxBytes})`
        })
      }
      if (options.maxSeconds !== undefined && lag.seconds > options.maxSeconds) {
        return yield* new PostgresError({
          reason: "InvalidInput",
          target: idOf(standby),
          operation: "lag",
          detail: `${lag.seconds.toFixed(3)} s behind (max ${options.maxSeconds})`
        })
      }
      return lag
    }),
    { spec: spec("postgres.replicationLag", { primary: describe(primary), standby: describe(standby), ...options }), timeout: "1 second" }
  )

/**
 * A SQL query whose value is the first column of the first row (judge it with a tolerance:
 * `Tolerance.range`, `Tolerance.exact`, ...). Keep it read-only: it runs every sample.
 *
 * @example
 * ```ts
 * Hypothesis.make("orders flow", { probe: Probes.query(node, "select count(*) from orders where at > now() - interval '1 minute'"), tolerance: Tolerance.range(1, 1e9) })
 * ```
 * @since 0.1.0
 */
export const query = (node: PgNode, sql: string, options: { readonly timeout?: `${number} millis` } = {}): Probe.Probe =>
  Probe.make(
    `postgres query on ${idOf(node)}`,
    Effect.map(sessionFor(node, options.timeout).query(sql), (rows) => {
      const first = rows[0]
      if (first === undefined) return null
      const v = Object.values(first)[0]
      return typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v
    }),
    { spec: spec("postgres.query", { node: describe(node), sql }), timeout: options.timeout ?? "1 second" }
  )

/**
 * A connection probe: a fresh connection with the node's credentials and `select 1` (what a
 * new client of the application goes through).
 *
 * @since 0.1.0
 */
export const connect = (node: PgNode, options: { readonly timeout?: `${number} millis` } = {}): Probe.Probe =>
  Probe.make(
    `postgres connect to ${idOf(node)}`,
    Effect.asVoid(Sql.query(node, "select 1", [], { timeout: options.timeout ?? "1 second", operation: "connect" })),
    {
      spec: spec("postgres.connect", { node: describe(node) }),
      timeout: options.timeout ?? "1 second"
    }
  )
