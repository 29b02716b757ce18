/**
 * The history stores against real databases: SQLite (node:sqlite, a file) and PostgreSQL 15
 * (a throwaway cluster started here). The same contract for both: migrations applied once
 * and re-entrant, runs indexed idempotently and read back in start order with filters,
 * monitor events stored and read as a series, figures computed from the facts; a PostgreSQL
 * error names host and database, never the password.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type * as History from "../../../src/schedule/History.ts"
import * as Stats from "../../../src/schedule/Stats.ts"
import * as Stores from "../../../src/schedule/Stores.ts"
import { describeWith } from "../require.ts"
import * as Pg from "./throwawayPostgres.ts"

const T0 = Date.parse("2026-03-01T00:00:00Z")
const row = (i: number, over: Partial<History.RunRow> = {}): History.RunRow => ({
  runId: `run-${i}`,
  experiment: i % 2 === 0 ? "kv failover" : "api restart",
  service: i % 2 === 0 ? "kv" : "api",
  tier: 1,
  status: i % 5 === 0 ? "deviated" : "passed",
  cleanup: "ok",
  startedAt: T0 + i * 3_600_000,
  endedAt: T0 + i * 3_600_000 + 60_000,
  rtoMs: 1000 + i * 10,
  rpoMs: i % 3 === 0 ? 0 : 120,
  rtoObjectiveMs: 2000,
  rpoObjectiveMs: null,
  reportPath: `/runs/run-${i}`,
  ...over
})

const contract = (name: string, open: () => Effect.Effect<History.Store, History.HistoryError>) => {
  it.live(`${name}: migrates once, indexes idempotently, filters, reads back in start order`, () =>
    Effect.gen(function*() {
      const store = yield* open()
      const rows = Array.from({ length: 20 }, (_, i) => row(19 - i))
      yield* store.index(rows)
      yield* store.index([row(3, { status: "failed" })])
      yield* store.close
      // Reopening applies no migration twice and keeps the rows.
      const again = yield* open()
      const all = yield* again.runs({})
      assert.strictEqual(all.length, 20)
      assert.deepStrictEqual(all.map((r) => r.runId).slice(0, 3), ["run-0", "run-1", "run-2"])
      assert.deepStrictEqual(all[3], row(3, { status: "failed" }))
      const kv = yield* again.runs({ service: "kv", since: T0 + 10 * 3_600_000 })
      assert.deepStrictEqual(kv.map((r) => r.runId), ["run-10", "run-12", "run-14", "run-16", "run-18"])
      const facts = yield* again.facts({ experiment: "kv failover" })
      assert.strictEqual(facts.length, 10)
      assert.deepStrictEqual(facts[0], [T0, "deviated", 1000, 0])
      const s = Stats.summarise(facts, T0, T0 + 20 * 3_600_000)
      // kv runs 0,2,..,18: deviated at 0 and 10: 8 of 10 passed; RTO 1000..1180 by 20.
      assert.strictEqual(s.passRate, 0.8)
      assert.strictEqual(s.rto.p50, 1080)
      assert.strictEqual(s.rto.p95, 1180)
      assert.strictEqual(s.failures, 2)
      assert.strictEqual(s.mtbfMs, 10 * 3_600_000)
      yield* again.close
    }))

  it.live(`${name}: monitor events round-trip as a series`, () =>
    Effect.gen(function*() {
      const store = yield* open()
      for (let i = 0; i < 6; i++) yield* store.record("kv serves", T0 + i * 10_000, 9, 10, i === 2 ? 1 : 0)
      yield* store.record("kv serves", T0 + 5 * 10_000, 10, 10, 0)
      const s = yield* store.events("kv serves", T0 + 10_000, T0 + 60_000)
      assert.deepStrictEqual(Array.from(s.at), [1, 2, 3, 4, 5].map((i) => T0 + i * 10_000))
      assert.deepStrictEqual(Array.from(s.good), [9, 9, 9, 9, 10])
      assert.deepStrictEqual(Array.from(s.degraded!), [0, 1, 0, 0, 0])
      yield* store.close
    }))
}

describe("SQLite history store", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-sqlite-"))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  contract("SQLite", () => Stores.open(path.join(dir, "history.db")))

  it.live("a database with a newer schema is refused (Migration), not written", () =>
    Effect.gen(function*() {
      const file = path.join(dir, "newer.db")
      const s = yield* Stores.open(file)
      yield* s.close
      const { DatabaseSync } = yield* Effect.promise(() => import("node:sqlite"))
      const db = new DatabaseSync(file)
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)").run()
      db.close()
      const e = yield* Effect.flip(Stores.open(file))
      assert.strictEqual(e.reason, "Migration")
      assert.include(e.message, "its schema is version 99; this faultline knows up to 2")
    }))

  it.live("the database file is private to its user", () =>
    Effect.gen(function*() {
      const file = path.join(dir, "private.db")
      const s = yield* Stores.open(file)
      yield* s.close
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600)
    }))
})

describeWith("PostgreSQL history store", Pg.missing(), () => {
  let cluster: Pg.Cluster | null = null
  beforeAll(async () => {
    cluster = await Pg.start()
  }, 120_000)
  afterAll(() => cluster?.stop())
  contract("PostgreSQL", () => Stores.open(cluster!.url))

  it.live("a wrong password is Unavailable, naming host and database but not the password", () =>
    Effect.gen(function*() {
      const url = `postgres://postgres:not-the-password@127.0.0.1:${cluster!.port}/postgres`
      const e = yield* Effect.flip(Stores.open(url))
      assert.strictEqual(e.reason, "Unavailable")
      assert.include(e.store, `postgres 127.0.0.1:${cluster!.port}/postgres`)
      assert.notInclude(e.message, "not-the-password")
      assert.notInclude(e.message, cluster!.password)
    }))

  it.live("two stores migrating at once both succeed (the migration takes a lock)", () =>
    Effect.gen(function*() {
      const url = cluster!.url.replace(/\/postgres$/, "/postgres")
      const [a, b] = yield* Effect.all([Stores.open(url), Stores.open(url)], { concurrency: 2 })
      yield* a.close
      yield* b.close
    }))
})
