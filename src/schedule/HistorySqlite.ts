/**
 * The SQLite history store, on Node's built-in `node:sqlite` (Node 22.13 or later, or 22.5+
 * with `--experimental-sqlite`). It is loaded only when a history database is opened: on a
 * Node without it, opening fails with `HistoryError { reason: "Unavailable" }` naming the
 * cause, and runs still write their folders (the index can be rebuilt later with `--reindex`).
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { DatabaseSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import * as History from "./History.ts"

type Sqlite = typeof import("node:sqlite")

const classify = (file: string, e: unknown): History.HistoryError => {
  const err = e as { errcode?: number; errstr?: string; message?: string; code?: string }
  const text = err.message ?? String(e)
  // SQLite's primary result codes: BUSY 5, LOCKED 6, CORRUPT 11, NOTADB 26.
  const code = (err.errcode ?? -1) & 0xff
  const reason = code === 5 || code === 6 || /locked|busy/i.test(text)
    ? "Locked"
    : code === 11 || code === 26 || /not a database|malformed|corrupt/i.test(text)
    ? "Corrupt"
    : "Unavailable"
  return new History.HistoryError({ reason, store: file, detail: text })
}

const load = (file: string): Effect.Effect<Sqlite, History.HistoryError> =>
  Effect.tryPromise({
    try: () => import("node:sqlite"),
    catch: (e) =>
      new History.HistoryError({
        reason: "Unavailable",
        store: file,
        detail: `node:sqlite is not available on Node ${process.versions.node} (needs Node >= 22.13, or 22.5+ with --experimental-sqlite): ${
          (e as Error).message
        }`
      })
  })

const migrate = (db: DatabaseSync, file: string) => {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null } | undefined
  const current = row?.v ?? 0
  const all = History.migrations("sqlite")
  const latest = all.at(-1)!.version
  if (current > latest) {
    throw new History.HistoryError({ reason: "Migration", store: file, detail: `its schema is version ${current}; this faultline knows up to ${latest}` })
  }
  for (const m of all.filter((x) => x.version > current)) {
    db.exec("BEGIN IMMEDIATE")
    try {
      for (const sql of m.sql) db.exec(sql)
      // The wall clock here only stamps the migration for people reading the table.
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(m.version, Date.now())
      db.exec("COMMIT")
    } catch (e) {
      db.exec("ROLLBACK")
      throw e
    }
  }
}

const attempt = <A>(file: string, f: () => A) => Effect.try({ try: f, catch: (e) => e instanceof History.HistoryError ? e : classify(file, e) })

const storeOf = (db: DatabaseSync, file: string): History.Store => {
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO runs (${History.columns.join(", ")}) VALUES (${History.columns.map(() => "?").join(", ")})`
  )
  const record = db.prepare("INSERT OR REPLACE INTO monitor_events (name, at, good, total, degraded) VALUES (?, ?, ?, ?, ?)")
  return {
    name: file,
    index: (rows) =>
      attempt(file, () => {
        db.exec("BEGIN IMMEDIATE")
        try {
          for (const r of rows) upsert.run(...History.toValues(r))
          db.exec("COMMIT")
        } catch (e) {
          db.exec("ROLLBACK")
          throw e
        }
      }),
    runs: (filter) =>
      attempt(file, () => {
        const w = History.where(filter, () => "?")
        const rows = db.prepare(`SELECT ${History.columns.join(", ")} FROM runs ${w.sql} ORDER BY started_at`).all(...w.params)
        return rows.map((o) => History.fromRecord(o as Record<string, unknown>))
      }),
    facts: (filter) =>
      attempt(file, () => {
        const w = History.where(filter, () => "?")
        const stmt = db.prepare(`SELECT started_at, status, rto_ms, rpo_ms FROM runs ${w.sql} ORDER BY started_at`)
        // Arrays, not objects, where this Node can (22.16+, 24): a third of the time.
        if (typeof stmt.setReturnArrays === "function") {
          stmt.setReturnArrays(true)
          return stmt.all(...w.params) as unknown as ReadonlyArray<History.Fact>
        }
        return (stmt.all(...w.params) as Array<{ started_at: number; status: string; rto_ms: number | null; rpo_ms: number | null }>)
          .map((o): History.Fact => [o.started_at, o.status, o.rto_ms, o.rpo_ms])
      }),
    record: (name, at, good, total, degraded) => attempt(file, () => void record.run(name, at, good, total, degraded)),
    events: (name, from, to) =>
      attempt(file, () => {
        const rows = db.prepare("SELECT at, good, total, degraded FROM monitor_events WHERE name = ? AND at >= ? AND at < ? ORDER BY at")
          .all(name, from, to) as Array<{ at: number; good: number; total: number; degraded: number }>
        return {
          at: rows.map((r) => r.at),
          good: rows.map((r) => r.good),
          total: rows.map((r) => r.total),
          degraded: rows.map((r) => r.degraded)
        }
      }),
    close: Effect.sync(() => {
      try {
        db.close()
      } catch {
        // already closed
      }
    })
  }
}

/**
 * Opens (creating it, private to this user, if need be) and migrates the SQLite history
 * database at `file`. `busyTimeoutMs` (default 2000) is how long a write waits for another
 * process' lock before failing with `Locked`.
 *
 * @since 0.2.0
 */
export const open = (file: string, options: { readonly busyTimeoutMs?: number } = {}): Effect.Effect<History.Store, History.HistoryError> =>
  Effect.gen(function*() {
    const sqlite = yield* load(file)
    return yield* attempt(file, () => {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 })
      if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, "a", 0o600))
      const db = new sqlite.DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 2000 })
      try {
        // Reading the schema first: a file that is not a database fails here, not half-way.
        db.prepare("SELECT count(*) FROM sqlite_master").get()
        migrate(db, file)
      } catch (e) {
        db.close()
        throw e
      }
      return storeOf(db, file)
    })
  })
