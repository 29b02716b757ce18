/**
 * The run history: an index of every run in a database (SQLite by default, PostgreSQL for
 * teams sharing one), from which pass rates, RTO/RPO percentiles and their trend, MTTR, MTBF
 * and availability are computed. The run folder stays the source of truth: the index can be
 * rebuilt from the folders at any time (`faultline history --reindex`).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Slo from "../slo/Slo.ts"

/**
 * One indexed run.
 *
 * @since 0.2.0
 */
export interface RunRow {
  readonly runId: string
  readonly experiment: string
  readonly service: string | null
  readonly tier: number | null
  readonly status: string
  readonly cleanup: string
  readonly startedAt: number
  readonly endedAt: number | null
  readonly rtoMs: number | null
  /** The RPO measured: the window of acknowledged writes lost, ms (0 when none was lost). */
  readonly rpoMs: number | null
  readonly rtoObjectiveMs: number | null
  readonly rpoObjectiveMs: number | null
  /** The run folder (its report.json and journal.jsonl). */
  readonly reportPath: string
}

/**
 * What the figures need of one run, as a tuple (a query over 100,000 runs reads them as
 * arrays, not objects): start time, status, measured RTO and RPO (ms or null).
 *
 * @since 0.2.0
 */
export type Fact = readonly [startedAt: number, status: string, rtoMs: number | null, rpoMs: number | null]

/**
 * Which runs a query reads.
 *
 * @since 0.2.0
 */
export interface Filter {
  readonly service?: string | undefined
  readonly experiment?: string | undefined
  /** Runs started at or after this instant (epoch ms). */
  readonly since?: number | undefined
  readonly until?: number | undefined
}

/**
 * The history database could not be used. `Corrupt`: the file is not a database (or is
 * damaged); `Locked`: another process holds it past the busy timeout; `Unavailable`: it cannot
 * be opened or reached (or `node:sqlite` is missing); `Migration`: its schema is newer than
 * this faultline or a migration failed.
 *
 * @since 0.2.0
 */
export class HistoryError extends Schema.TaggedError<HistoryError>()("HistoryError", {
  reason: Schema.Literals(["Corrupt", "Locked", "Unavailable", "Migration"]),
  store: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `history ${this.store}: ${this.reason.toLowerCase()}: ${this.detail}`
  }
}

/**
 * A history store. Every method is idempotent for the same run id: indexing a run twice
 * replaces its row.
 *
 * @since 0.2.0
 */
export interface Store {
  readonly name: string
  readonly index: (rows: ReadonlyArray<RunRow>) => Effect.Effect<void, HistoryError>
  readonly runs: (filter: Filter) => Effect.Effect<ReadonlyArray<RunRow>, HistoryError>
  /** The facts of the runs, in start order. */
  readonly facts: (filter: Filter) => Effect.Effect<ReadonlyArray<Fact>, HistoryError>
  /** Synthetic-monitoring events (`faultline monitor`), one bucket per row. */
  readonly record: (name: string, at: number, good: number, total: number, degraded: number) => Effect.Effect<void, HistoryError>
  readonly events: (name: string, from: number, to: number) => Effect.Effect<Slo.Series, HistoryError>
  readonly close: Effect.Effect<void>
}

/**
 * The schema, as numbered migrations. A store applies those it has not applied yet, each in
 * a transaction, and refuses a database whose schema is newer than it knows.
 *
 * @since 0.2.0
 */
export const migrations = (dialect: "sqlite" | "postgres"): ReadonlyArray<{ readonly version: number; readonly sql: ReadonlyArray<string> }> => {
  const float = dialect === "sqlite" ? "REAL" : "DOUBLE PRECISION"
  const int = dialect === "sqlite" ? "INTEGER" : "BIGINT"
  return [
    {
      version: 1,
      sql: [
        `CREATE TABLE runs (run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, service TEXT, tier ${int}, status TEXT NOT NULL,
          cleanup TEXT NOT NULL, started_at ${int} NOT NULL, ended_at ${int}, rto_ms ${float}, rpo_ms ${float},
          rto_objective_ms ${float}, rpo_objective_ms ${float}, report_path TEXT NOT NULL)`,
        "CREATE INDEX runs_started ON runs (started_at)",
        "CREATE INDEX runs_service_started ON runs (service, started_at)",
        "CREATE INDEX runs_experiment_started ON runs (experiment, started_at)"
      ]
    },
    {
      version: 2,
      sql: [
        `CREATE TABLE monitor_events (name TEXT NOT NULL, at ${int} NOT NULL, good ${float} NOT NULL, total ${float} NOT NULL,
          degraded ${float} NOT NULL, PRIMARY KEY (name, at))`
      ]
    }
  ]
}

/**
 * The SQL `WHERE` clause and parameters of a filter, with `$1`-style or `?` placeholders.
 *
 * @since 0.2.0
 */
export const where = (filter: Filter, placeholder: (i: number) => string): { readonly sql: string; readonly params: ReadonlyArray<string | number> } => {
  const parts: Array<string> = []
  const params: Array<string | number> = []
  const add = (clause: string, value: string | number) => {
    params.push(value)
    parts.push(clause.replace("?", placeholder(params.length)))
  }
  if (filter.service !== undefined) add("service = ?", filter.service)
  if (filter.experiment !== undefined) add("experiment = ?", filter.experiment)
  if (filter.since !== undefined) add("started_at >= ?", filter.since)
  if (filter.until !== undefined) add("started_at < ?", filter.until)
  return { sql: parts.length === 0 ? "" : `WHERE ${parts.join(" AND ")}`, params }
}

/** The columns, in the order rows are read and written. @since 0.2.0 */
export const columns = [
  "run_id",
  "experiment",
  "service",
  "tier",
  "status",
  "cleanup",
  "started_at",
  "ended_at",
  "rto_ms",
  "rpo_ms",
  "rto_objective_ms",
  "rpo_objective_ms",
  "report_path"
] as const

/** A row as column values. @since 0.2.0 */
export const toValues = (r: RunRow): ReadonlyArray<string | number | null> => [
  r.runId,
  r.experiment,
  r.service,
  r.tier,
  r.status,
  r.cleanup,
  r.startedAt,
  r.endedAt,
  r.rtoMs,
  r.rpoMs,
  r.rtoObjectiveMs,
  r.rpoObjectiveMs,
  r.reportPath
]

const num = (v: unknown): number | null => v === null || v === undefined ? null : Number(v)

/** A row from column values. @since 0.2.0 */
export const fromRecord = (o: Record<string, unknown>): RunRow => ({
  runId: String(o.run_id),
  experiment: String(o.experiment),
  service: o.service === null || o.service === undefined ? null : String(o.service),
  tier: num(o.tier),
  status: String(o.status),
  cleanup: String(o.cleanup),
  startedAt: Number(o.started_at),
  endedAt: num(o.ended_at),
  rtoMs: num(o.rto_ms),
  rpoMs: num(o.rpo_ms),
  rtoObjectiveMs: num(o.rto_objective_ms),
  rpoObjectiveMs: num(o.rpo_objective_ms),
  reportPath: String(o.report_path)
})

/**
 * Runs every effect of a store-using program and closes the store after.
 *
 * @since 0.2.0
 */
export const use = <A, E, E2, R>(open: Effect.Effect<Store, E2>, f: (store: Store) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(open, f, (s) => s.close)
