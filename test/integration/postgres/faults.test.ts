/**
 * The PostgreSQL faults on a real primary + standby (PgCluster): each verified, reverted,
 * refused at plan time on bad input; the replication link's network faults through the
 * cluster's replication proxy.
 */
import { Cause, Effect, Exit, Layer, ManagedRuntime, Scope } from "effect"
import { afterAll, assert, beforeAll, it } from "vitest"
import * as Fault from "../../../src/core/Fault.ts"
import * as Run from "../../../src/core/Run.ts"
import * as Selector from "../../../src/core/Selector.ts"
import * as Postgres from "../../../src/targets/postgres/index.ts"
import * as Toxiproxy from "../../../src/targets/toxiproxy/index.ts"
import { describeWith } from "../require.ts"
import { pgMissing } from "./fixture.ts"

type R = Postgres.PgCluster | Postgres.PostgresDriver

describeWith("PostgreSQL faults", pgMissing(), () => {
  let rt: ManagedRuntime.ManagedRuntime<R, Postgres.PostgresError>
  let c: Postgres.PgCluster["Service"]
  const run = <A, E>(e: Effect.Effect<A, E, R | Run.Run | Scope.Scope>) => rt.runPromise(Effect.scoped(Effect.provide(e, Run.layerTest())))
  const runExit = <A, E>(e: Effect.Effect<A, E, R | Run.Run | Scope.Scope>) => rt.runPromiseExit(Effect.scoped(Effect.provide(e, Run.layerTest())))
  const q = <T = Record<string, unknown>>(node: Postgres.PgNode, text: string) => rt.runPromise(Postgres.Sql.query<T>(node, text))
  const failure = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? Cause.squash(exit.cause) as any : null

  beforeAll(async () => {
    rt = ManagedRuntime.make(Postgres.layer({ name: "faults" }))
    c = await rt.runPromise(Effect.gen(function*() {
      return yield* Postgres.PgCluster
    }))
    await q(c.primary, "create table t (id int)")
  }, 120_000)
  afterAll(async () => {
    await rt?.dispose()
  }, 60_000)

  it("postgres.pauseReplay pauses the standby's replay (verified) and the revert resumes it", async () => {
    await run(Effect.gen(function*() {
      const [inj] = yield* Fault.inject(Postgres.pauseReplay({ target: Selector.name("pg2") }))
      const s = yield* Postgres.Sql.query<{ s: string }>(c.standby, "select pg_get_wal_replay_pause_state() as s")
      assert.strictEqual(s[0]!.s, "paused")
      yield* Postgres.Sql.query(c.primary, "insert into t values (1)")
      yield* Effect.sleep("200 millis")
      assert.strictEqual((yield* Postgres.Sql.query(c.standby, "select count(*)::int as n from t"))[0]!.n, 0)
      yield* Fault.revert(inj)
      assert.strictEqual((yield* Postgres.Sql.query<{ s: string }>(c.standby, "select pg_get_wal_replay_pause_state() as s"))[0]!.s, "not paused")
    }))
  })

  it("postgres.readOnly refuses writes on the primary from a new session; the revert allows them again", async () => {
    await run(Effect.gen(function*() {
      const [inj] = yield* Fault.inject(Postgres.readOnly({ target: Selector.name("pg1") }))
      const refused = yield* Effect.exit(Postgres.Sql.query(c.primary, "insert into t values (2)"))
      assert.isTrue(Exit.isFailure(refused))
      assert.match(failure(refused).detail, /read-only transaction/)
      yield* Fault.revert(inj)
      yield* Postgres.Sql.query(c.primary, "insert into t values (2)")
    }))
  })

  it("postgres.terminateConnections ends application backends (by application name); with none matching it is ineffective", async () => {
    const app = Postgres.Sql.session(c.primary, { applicationName: "orders-app" })
    await rt.runPromise(app.query("select 1"))
    await run(Effect.gen(function*() {
      const [inj] = yield* Fault.inject(Postgres.terminateConnections({ target: Selector.name("pg1"), applicationName: "orders-app" }))
      assert.isAbove((inj!.revert.data.terminated as Array<number>).length, 0)
    }))
    const exit = await runExit(Fault.inject(Postgres.terminateConnections({ target: Selector.name("pg1"), applicationName: "nobody" })))
    assert.match(String(failure(exit)?.message), /InjectionIneffective/)
    // The session noticed its backend's end and connects again by itself.
    await rt.runPromise(app.query("select 1"))
    await rt.runPromise(app.close)
  })

  it("bad input is refused at plan time with a typed reason, nothing touched", async () => {
    const notStandby = failure(await runExit(Fault.inject(Postgres.pauseReplay({ target: Selector.name("pg1") }))))
    assert.match(notStandby.message, /InvalidState.*NotInRecovery/)
    const notPrimary = failure(await runExit(Fault.inject(Postgres.crashPrimary({ target: Selector.name("pg2") }))))
    assert.match(notPrimary.message, /InRecovery/)
    // Wrong credentials and an unreachable server, through a driver configured for them.
    const wrong = Postgres.PostgresDriver.layerConfig({
      clusters: [{
        name: "bad",
        allow: true,
        nodes: [
          { ...Postgres.fromUrl("bad", "pg1", `postgres://postgres:wrong@127.0.0.1:${c.primary.port}/postgres`) },
          Postgres.fromUrl("bad", "pg2", "postgres://postgres@127.0.0.1:1/postgres")
        ]
      }]
    })
    const inject = (sel: string) =>
      Effect.runPromiseExit(
        Effect.scoped(Fault.inject(Postgres.readOnly({ target: Selector.name(sel) })).pipe(Effect.provide(Layer.merge(wrong, Run.layerTest()))))
      )
    assert.match(failure(await inject("pg1")).message, /AccessDenied.*AuthFailed/)
    const unreachable = failure(
      await Effect.runPromiseExit(Effect.scoped(
        Fault.inject(Postgres.readOnly({ target: Selector.name("pg2") })).pipe(
          Effect.provide(
            Layer.merge(
              Postgres.PostgresDriver.layerConfig({
                clusters: [{ name: "gone", allow: true, nodes: [Postgres.fromUrl("gone", "pg2", "postgres://postgres@127.0.0.1:1/postgres")] }]
              }),
              Run.layerTest()
            )
          )
        )
      ))
    )
    assert.match(unreachable.message, /Unavailable.*Unreachable/)
    assert.deepStrictEqual(
      (await q<{ default_transaction_read_only: string }>(c.primary, "show default_transaction_read_only"))[0]!.default_transaction_read_only,
      "off"
    )
  })

  it("a cluster not allowed by its configuration is refused by the default guard", async () => {
    const notAllowed = Postgres.PostgresDriver.layerConfig({ clusters: [{ ...c.spec, allow: false }] })
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Fault.inject(Postgres.readOnly({ target: Selector.name("pg1") })).pipe(Effect.provide(Layer.merge(notAllowed, Run.layerTest()))))
    )
    assert.strictEqual(failure(exit)?._tag, "GuardRejected")
  })

  it("network.down on the replication proxy stops streaming; replay catches up once it is reverted", async () => {
    const proxy = Toxiproxy.ToxiproxyDriver.layerConfig({ url: c.replication.api.url, ...(c.replication.api.token ? { token: c.replication.api.token } : {}) })
    await rt.runPromise(Effect.scoped(
      Effect.gen(function*() {
        const [inj] = yield* Fault.inject(Toxiproxy.down({ target: Selector.name(c.replication.proxy) }))
        yield* Postgres.Sql.query(c.primary, "insert into t values (3)")
        yield* Effect.sleep("300 millis")
        assert.strictEqual((yield* Postgres.Sql.query<{ n: number }>(c.standby, "select count(*)::int as n from t where id = 3"))[0]!.n, 0)
        yield* Fault.revert(inj)
        yield* Effect.sleep("100 millis")
        const deadline = Date.now() + 15_000
        while ((yield* Postgres.Sql.query<{ n: number }>(c.standby, "select count(*)::int as n from t where id = 3"))[0]!.n === 0) {
          assert.isBelow(Date.now(), deadline, "the standby never caught up")
          yield* Effect.sleep("50 millis")
        }
      }).pipe(Effect.provide(Layer.merge(proxy, Run.layerTest())))
    ))
  }, 30_000)

  it("postgres.crashPrimary kills the postmaster (verified: connections refused); the revert starts it again", async () => {
    await run(Effect.gen(function*() {
      const [inj] = yield* Fault.inject(Postgres.crashPrimary({ target: Selector.name("pg1") }))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(Postgres.Sql.query(c.primary, "select 1"))))
      yield* Fault.revert(inj)
      yield* Postgres.Sql.query(c.primary, "select 1")
      assert.strictEqual((yield* c.writer).name, "pg1")
    }))
    await rt.runPromise(Postgres.awaitStreaming(c.primary, c.standby))
  }, 60_000)
})
