/**
 * The PostgreSQL history store, for teams sharing one history. Built on `@effect/sql-pg`, an
 * optional peer dependency loaded only when a `postgres://` history is opened. The
 * connection string is held `Redacted`: errors and reports name the host and database only.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import type * as SqlClient from "effect/sql/SqlClient"
import * as History from "./History.ts"

/**
 * The connection string without its password, for messages.
 *
 * @since 0.2.0
 */
export const describe = (url: string): string => {
  try {
    const u = new URL(url)
    return `postgres ${u.hostname}:${u.port || "5432"}${u.pathname}`
  } catch {
    return "postgres (an unparsable connection string)"
  }
}

const fail = (name: string, reason: "Unavailable" | "Migration" | "Locked", e: unknown) =>
  new History.HistoryError({ reason, store: name, detail: String((e as { message?: string })?.message ?? e).split("\n")[0]! })

const migrate = (sql: SqlClient.SqlClient, name: string) =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql.unsafe("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
    // Two runners migrating at once: the second waits, then sees the first's versions.
    yield* sql.unsafe("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
    const rows = yield* sql.unsafe<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations")
    const current = Number(rows[0]?.v ?? 0)
    const all = History.migrations("postgres")
    const latest = all.at(-1)!.version
    if (current > latest) {
      return yield* Effect.fail(
        new History.HistoryError({ reason: "Migration", store: name, detail: `its schema is version ${current}; this faultline knows up to ${latest}` })
      )
    }
    for (const m of all.filter((x) => x.version > current)) {
      for (const q of m.sql) yield* sql.unsafe(q)
      yield* sql.unsafe("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [m.version, Date.now()])
    }
  }))

const upsertSql = `INSERT INTO runs (${History.columns.join(", ")}) VALUES (${History.columns.map((_, i) => `$${i + 1}`).join(", ")})
  ON CONFLICT (run_id) DO UPDATE SET ${History.columns.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(", ")}`

const storeOf = (sql: SqlClient.SqlClient, name: string, scope: Scope.Closeable): History.Store => {
  const run = <A>(e: Effect.Effect<A, unknown>) => Effect.mapError(e, (err) => err instanceof History.HistoryError ? err : fail(name, "Unavailable", err))
  return {
    name,
    index: (rows) => run(sql.withTransaction(Effect.forEach(rows, (r) => sql.unsafe(upsertSql, History.toValues(r)), { discard: true }))),
    runs: (filter) =>
      run(Effect.gen(function*() {
        const w = History.where(filter, (i) => `$${i}`)
        const rows = yield* sql.unsafe<Record<string, unknown>>(`SELECT ${History.columns.join(", ")} FROM runs ${w.sql} ORDER BY started_at`, w.params)
        return rows.map(History.fromRecord)
      })),
    facts: (filter) =>
      run(Effect.gen(function*() {
        const w = History.where(filter, (i) => `$${i}`)
        const rows = yield* sql.unsafe<Record<string, unknown>>(`SELECT started_at, status, rto_ms, rpo_ms FROM runs ${w.sql} ORDER BY started_at`, w.params)
        return rows.map((o): History.Fact => [
          Number(o.started_at),
          String(o.status),
          o.rto_ms === null ? null : Number(o.rto_ms),
          o.rpo_ms === null ? null : Number(o.rpo_ms)
        ])
      })),
    record: (n, at, good, total, degraded) =>
      run(Effect.asVoid(sql.unsafe(
        `INSERT INTO monitor_events (name, at, good, total, degraded) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name, at) DO UPDATE SET good = EXCLUDED.good, total = EXCLUDED.total, degraded = EXCLUDED.degraded`,
        [n, at, good, total, degraded]
      ))),
    events: (n, from, to) =>
      run(Effect.map(
        sql.unsafe<Record<string, unknown>>("SELECT at, good, total, degraded FROM monitor_events WHERE name = $1 AND at >= $2 AND at < $3 ORDER BY at", [
          n,
          from,
          to
        ]),
        (rows) => ({
          at: rows.map((r) => Number(r.at)),
          good: rows.map((r) => Number(r.good)),
          total: rows.map((r) => Number(r.total)),
          degraded: rows.map((r) => Number(r.degraded))
        })
      )),
    close: Scope.close(scope, Exit.void)
  }
}

/**
 * Connects to the PostgreSQL history at `url` (`postgres://user:password@host:port/db`) and
 * migrates it.
 *
 * @since 0.2.0
 */
export const open = (url: string): Effect.Effect<History.Store, History.HistoryError> =>
  Effect.gen(function*() {
    const name = describe(url)
    const pg = yield* Effect.tryPromise({
      try: () => import("@effect/sql-pg/PgClient"),
      catch: (e) =>
        fail(name, "Unavailable", `a PostgreSQL history needs the optional package @effect/sql-pg (npm install @effect/sql-pg): ${(e as Error).message}`)
    })
    const { SqlClient: Tag } = yield* Effect.promise(() => import("effect/sql/SqlClient"))
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(pg.layer({ url: Redacted.make(url), connectTimeout: "5 seconds", maxConnections: 4 }), scope).pipe(
      Effect.mapError((e) => fail(name, "Unavailable", e)),
      Effect.onError(() => Scope.close(scope, Exit.void))
    )
    const sql = Context.get(context, Tag)
    // The pool connects on first use: reach the server (and authenticate) before migrating,
    // so that a wrong password or a server that is down reads as Unavailable.
    yield* sql.unsafe("SELECT 1").pipe(
      Effect.mapError((e) => fail(name, "Unavailable", e)),
      Effect.onError(() => Scope.close(scope, Exit.void))
    )
    yield* migrate(sql, name).pipe(
      Effect.mapError((e) => e instanceof History.HistoryError ? e : fail(name, "Migration", e)),
      Effect.onError(() => Scope.close(scope, Exit.void))
    )
    return storeOf(sql, name, scope)
  })
