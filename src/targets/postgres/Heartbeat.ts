/**
 * RPO from real commits: a heartbeat writer that commits rows with sequence numbers through
 * the application's path (so after a repoint it writes to the new primary), and reads back,
 * on whichever node the path leads to after recovery, which acknowledged rows survived. The
 * run journals each acknowledged commit; `Stopwatch.computeRpo` turns the read-back into
 * `lostWrites` and `windowMs`. Commit latencies are kept too: what synchronous replication
 * costs is measured on the same commits.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { monoMillis } from "../../core/Probe.ts"
import * as Stopwatch from "../../core/Stopwatch.ts"
import type { AppPath } from "./App.ts"
import type { PostgresError } from "./PostgresError.ts"

/** The heartbeat table (created when missing). @since 0.1.0 */
export const TABLE = "faultline_heartbeat"

/**
 * A heartbeat writer on an application path, with the latency of every acknowledged commit.
 *
 * @since 0.1.0
 */
export interface PgHeartbeat {
  readonly heartbeat: Stopwatch.Heartbeat
  /** Commit latency (ms) of every acknowledged write, in order. */
  readonly latencies: () => ReadonlyArray<number>
  /** Creates the table on the node the path leads to, and empties it: run it before each writer. */
  readonly setup: Effect.Effect<void, PostgresError>
  readonly close: Effect.Effect<void>
}

/**
 * Makes the writer: one `insert` (autocommit) per beat, `every` 20 ms by default, each with
 * a `timeout` (default 1 s) after which it counts as not acknowledged.
 *
 * @example
 * ```ts
 * const hb = Postgres.heartbeat(app, { every: "10 millis" })
 * yield* hb.setup
 * Experiment.make({ ..., stopwatches: { rpo: hb.heartbeat } })
 * ```
 * @since 0.1.0
 */
export const heartbeat = (
  app: AppPath,
  options: { readonly every?: `${number} millis`; readonly timeout?: `${number} millis` | `${number} seconds` } = {}
): PgHeartbeat => {
  const timeout = options.timeout ?? "1 second"
  const writer = app.session({ timeout, applicationName: "faultline-heartbeat" })
  const reader = app.session({ timeout: "5 seconds", applicationName: "faultline-heartbeat" })
  const latencies: Array<number> = []
  return {
    heartbeat: Stopwatch.heartbeat({
      every: options.every ?? "20 millis",
      timeout,
      write: (seq) =>
        Effect.gen(function*() {
          const t0 = yield* monoMillis
          yield* writer.query(`insert into ${TABLE} (seq) values ($1)`, [seq])
          latencies.push((yield* monoMillis) - t0)
        }),
      readBack: (acked) =>
        Effect.map(reader.query<{ seq: number }>(`select seq from ${TABLE} where seq = any($1::int[])`, [[...acked]]), (rows) => rows.map((r) => Number(r.seq)))
    }),
    latencies: () => latencies,
    // Empty: a writer numbers its commits from 1, so rows left by an earlier run would make
    // every insert a duplicate, and no commit would be acknowledged.
    setup: Effect.andThen(
      reader.query(`create table if not exists ${TABLE} (seq int primary key, at timestamptz not null default clock_timestamp())`),
      Effect.asVoid(reader.query(`truncate ${TABLE}`))
    ),
    close: Effect.andThen(writer.close, reader.close)
  }
}
