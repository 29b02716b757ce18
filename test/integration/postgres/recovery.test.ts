/**
 * Recovery actions, probes and the out-of-process reverter on a real primary + standby.
 */
import { Effect, Exit, Fiber, ManagedRuntime, Scope } from "effect"
import { afterAll, assert, beforeAll, it } from "vitest"
import * as Fault from "../../../src/core/Fault.ts"
import * as Probe from "../../../src/core/Probe.ts"
import * as Run from "../../../src/core/Run.ts"
import * as Selector from "../../../src/core/Selector.ts"
import * as Stopwatch from "../../../src/core/Stopwatch.ts"
import * as Postgres from "../../../src/targets/postgres/index.ts"
import { revertRecord } from "../../../src/targets/postgres/Reverter.ts"
import * as Server from "../../../src/targets/postgres/internal/Server.ts"
import { describeWith } from "../require.ts"
import { pgMissing } from "./fixture.ts"

type R = Postgres.PgCluster | Postgres.PostgresDriver

describeWith("PostgreSQL recovery, probes and reverter", pgMissing(), () => {
  let rt: ManagedRuntime.ManagedRuntime<R, Postgres.PostgresError>
  let c: Postgres.PgCluster["Service"]
  const run = <A, E>(e: Effect.Effect<A, E, R | Run.Run | Scope.Scope>) => rt.runPromise(Effect.scoped(Effect.provide(e, Run.layerTest())))
  const sample = (p: Probe.Probe) => rt.runPromise(Probe.sample(p))
  // The first sample of a probe also connects: on a loaded machine it may miss its timeout.
  const settled = async (p: Probe.Probe) => {
    let s = await sample(p)
    for (let i = 0; i < 50 && !s.ok; i++) {
      await new Promise((r) => setTimeout(r, 100))
      s = await sample(p)
    }
    return s
  }
  const writerName = () => rt.runPromise(Effect.map(c.writer, (n) => n.name))

  beforeAll(async () => {
    rt = ManagedRuntime.make(Postgres.layer({ name: "recovery" }))
    c = await rt.runPromise(Effect.gen(function*() {
      return yield* Postgres.PgCluster
    }))
    await rt.runPromise(Postgres.Sql.query(c.primary, "create table t (id int)"))
  }, 120_000)
  afterAll(async () => {
    await rt?.dispose()
  }, 60_000)

  it("probes: the writer, replication lag in bytes and seconds (growing while replay is paused), a query's value, a connection", async () => {
    const w = await settled(Postgres.Probes.writer(c.nodes))
    assert.isTrue(w.ok)
    assert.strictEqual(w.value, "pg1")
    const lag = Postgres.Probes.replicationLag(c.primary, c.standby, { maxBytes: 1024 })
    assert.isTrue((await settled(lag)).ok)
    await run(Effect.gen(function*() {
      yield* Fault.inject(Postgres.pauseReplay({ target: Selector.name("pg2") }))
      yield* Postgres.Sql.query(c.primary, "insert into t select generate_series(1, 2000)")
      yield* Effect.sleep("300 millis")
      const s = yield* Probe.sample(lag)
      assert.isFalse(s.ok, "over maxBytes while replay is paused")
      const unbounded = yield* Probe.sample(Postgres.Probes.replicationLag(c.primary, c.standby))
      const v = unbounded.value as Postgres.Probes.Lag
      assert.isAbove(v.bytes, 1024)
      assert.isAbove(v.seconds, 0)
    }))
    const q = await sample(Postgres.Probes.query(c.primary, "select count(*) from t"))
    assert.strictEqual(q.value, 2000)
    assert.isTrue((await settled(Postgres.Probes.connect(c.primary))).ok)
    const wrong = { ...c.primary, password: undefined, passwordEnv: "FAULTLINE_TEST_NO_SUCH_VAR" }
    const bad = await sample(Postgres.Probes.connect(wrong))
    assert.isFalse(bad.ok)
  })

  it("a heartbeat writer started twice on the same cluster has its commits acknowledged both times", async () => {
    const hb = Postgres.heartbeat(Postgres.appPath(c.primary), { every: "10 millis" })
    const once = () =>
      run(Effect.gen(function*() {
        yield* hb.setup
        const r = yield* Run.Run
        const before = r.windows.acked().length
        const fiber = yield* Effect.forkChild(Stopwatch.runWriter(hb.heartbeat, r))
        yield* Effect.sleep("300 millis")
        yield* Fiber.interrupt(fiber)
        return r.windows.acked().slice(before)
      }))
    const first = await once()
    // The second writer numbers its commits from 1 again: rows left by the first must not
    // turn every insert into a duplicate key.
    const second = await once()
    await rt.runPromise(hb.close)
    assert.isAbove(first.length, 3)
    assert.isAbove(second.length, 3)
    assert.strictEqual(second[0], 1)
    const rows = await rt.runPromise(Postgres.Sql.query<{ n: string }>(c.primary, `select count(*) as n from ${Postgres.TABLE}`))
    assert.isAtLeast(Number(rows[0]!.n), second.length)
  })

  it("promote on a primary is refused with NotInRecovery, nothing touched", async () => {
    const exit = await rt.runPromiseExit(Postgres.Recovery.promote(c.primary))
    assert.isTrue(Exit.isFailure(exit))
    assert.match(String(exit), /NotInRecovery/)
    assert.strictEqual(await writerName(), "pg1")
  })

  it("the out-of-process reverter resumes replay from a ledger record alone", async () => {
    await run(Effect.gen(function*() {
      const run = yield* Run.Run
      const [inj] = yield* Fault.inject(Postgres.pauseReplay({ target: Selector.name("pg2") }))
      const record = (yield* run.ledger.open).find((r) => r.faultId === inj!.faultId)!
      yield* revertRecord(record)
      const s = yield* Postgres.Sql.query<{ s: string }>(c.standby, "select pg_get_wal_replay_pause_state() as s")
      assert.strictEqual(s[0]!.s, "not paused")
    }))
  })

  it("crash, promote, repoint, fail back to the original topology: pg1 writes again, pg2 streams from it, no acknowledged row lost", async () => {
    const app = Postgres.appPath(c.primary)
    await run(Effect.gen(function*() {
      yield* Postgres.Sql.query(c.primary, "insert into t values (-1)")
      yield* Postgres.awaitStreaming(c.primary, c.standby)
      yield* Effect.sleep("200 millis")
      yield* Fault.inject(Postgres.crashPrimary({ target: Selector.name("pg1") }))
      const p = yield* Postgres.Recovery.promote(c.standby)
      assert.isAbove(p.value.timeline, 1)
      yield* Postgres.Recovery.repoint(app.repoint(c.standby), { to: "pg2" })
      yield* app.session().query("insert into t values (-2)")
      const back = yield* Postgres.Recovery.failBack(c, { oldPrimary: c.primary, newPrimary: c.standby, topology: "original" })
      assert.strictEqual(back.value.writer, "pg1")
      const notes = (yield* Run.Run).journal.snapshot().flatMap((e) => e.event._tag === "Note" ? [e.event.message] : [])
      assert.isTrue(notes.some((m) => /^recovery promote recovery\/pg2: done in [\d.]+ ms/.test(m)), notes.join("\n"))
      assert.isTrue(notes.some((m) => m.startsWith("recovery fail back (original topology): done in")), notes.join("\n"))
    }))
    assert.strictEqual(await writerName(), "pg1")
    await rt.runPromise(Postgres.awaitStreaming(c.primary, c.standby))
    const rows = await rt.runPromise(Postgres.Sql.query<{ id: number }>(c.primary, "select id from t where id < 0 order by id"))
    assert.deepStrictEqual(rows.map((r) => r.id), [-2, -1])
  }, 120_000)

  it("the out-of-process reverter of a crash whose peer was promoted rejoins the old primary as a standby (never a second primary)", async () => {
    await run(Effect.gen(function*() {
      const run = yield* Run.Run
      const [inj] = yield* Fault.inject(Postgres.crashPrimary({ target: Selector.name("pg1") }))
      const record = (yield* run.ledger.open).find((r) => r.faultId === inj!.faultId)!
      yield* Postgres.Recovery.promote(c.standby)
      yield* revertRecord(record)
      assert.isNotNull(Server.running(c.primary.dataDir!))
      const r = yield* Postgres.Sql.query<{ r: boolean }>(c.primary, "select pg_is_in_recovery() as r")
      assert.isTrue(r[0]!.r, "the old primary came back as a standby")
      // Streaming directly from the new writer (the runner's proxy is not assumed).
      yield* Postgres.awaitStreaming(c.standby, c.primary)
      // Put the replication link back through the proxy for whoever comes next.
      yield* Postgres.Recovery.failBack(c, { oldPrimary: c.primary, newPrimary: c.standby, topology: "original" })
    }))
    assert.strictEqual(await writerName(), "pg1")
  }, 120_000)
})
