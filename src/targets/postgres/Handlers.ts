/**
 * The PostgreSQL faults' handlers: one per fault, each with its verify and revert. The
 * out-of-process reverter runs the same reverts from revert data alone.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Handler from "../../core/Handler.ts"
import type * as Target from "../../core/Target.ts"
import { discover, nodeOf, type PgContext, serverOf, sql, until } from "./internal/Nodes.ts"
import * as Server from "./internal/Server.ts"
import * as Topology from "./internal/Topology.ts"
import type { PostgresFault } from "./Faults.ts"
import { idOf, NodeData, type PgClusterSpec, type PgNode, toData } from "./Node.ts"
import { PostgresError } from "./PostgresError.ts"
import * as Sql from "./Sql.ts"

const NodeRevert = Schema.Struct({ node: NodeData })
const CrashRevert = Schema.Struct({
  node: NodeData,
  peers: Schema.Array(NodeData),
  bin: Schema.String,
  osUser: Schema.optionalKey(Schema.String),
  label: Schema.String
})
const ReadOnlyRevert = Schema.Struct({ node: NodeData, autoValue: Schema.NullOr(Schema.String) })

const decodeAs =
  <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) =>
  (data: Handler.RevertData, target: string): Effect.Effect<S["Type"], PostgresError> =>
    Schema.decodeUnknownEffect(schema)(data).pipe(
      Effect.mapError((e) => new PostgresError({ reason: "InvalidInput", target, operation: "revert", detail: `unreadable revert data: ${e.message}` }))
    )

const idOfData = (data: Handler.RevertData, target?: Target.Target) =>
  target?.id ?? String((data.node as { cluster?: string; name?: string } | undefined)?.name ?? "postgres")

// Kills the postmaster first (so it restarts nothing), then every process it started: what a
// host crash does to the server, with no shutdown checkpoint.
const killTree = (pid: number) => {
  const children = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return fs.readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]?.split(" ")[1] === String(pid)
    } catch {
      return false
    }
  })
  process.kill(pid, "SIGKILL")
  for (const c of children) {
    try {
      process.kill(Number(c), "SIGKILL")
    } catch {
      // already gone
    }
  }
}

const crashData = (spec: PgClusterSpec, nodeId: string) => {
  const node = spec.nodes.find((n) => idOf(n) === nodeId)!
  return {
    node: toData(node),
    peers: spec.nodes.filter((n) => n !== node).map(toData),
    ...serverOf(spec),
    label: `faultline-${spec.name}`
  }
}

/**
 * Undoes a crash: nothing if the server runs; a rewind into a standby when a peer has become
 * the writer meanwhile (starting it as a primary would make two); otherwise a plain start.
 *
 * @since 0.1.0
 */
export const restartOrRejoin = (ctx: PgContext, data: typeof CrashRevert.Type): Effect.Effect<void, PostgresError> =>
  Effect.gen(function*() {
    const target = idOf(data.node)
    const r = yield* Server.runner(data.bin, data.osUser, target)
    if (Server.running(data.node.dataDir!) !== null) return
    for (const peer of data.peers) {
      if (peer.dataDir === undefined || Server.running(peer.dataDir) === null) continue
      if ((yield* Server.controlState(r, peer.dataDir, idOf(peer))) !== "in production") continue
      const upstream = yield* ctx.relink(data.node.cluster, peer)
      yield* Topology.rejoin(r, data.node, peer, data.label, upstream)
      return
    }
    yield* Server.start(r, data.node.dataDir!, target)
  })

const readOnlyNow = (node: NodeData) =>
  Effect.map(sql<{ v: string }>(node, "select current_setting('default_transaction_read_only') as v"), (rows) => rows[0]?.v === "on")

const setReadOnly = (node: NodeData, value: string | null) =>
  Effect.andThen(
    sql(
      node,
      value === null
        ? "alter system reset default_transaction_read_only"
        : `alter system set default_transaction_read_only = '${value === "on" ? "on" : "off"}'`,
      [],
      "readOnly"
    ),
    sql(node, "select pg_reload_conf()", [], "readOnly")
  )

// What postgresql.auto.conf said before the fault (null: nothing), so the revert restores it.
const readOnlyBefore = (node: PgNode) =>
  Effect.map(
    sql<{ v: string }>(
      node,
      "select setting as v from pg_file_settings where name = 'default_transaction_read_only' and sourcefile like '%postgresql.auto.conf' order by seqno desc limit 1"
    ),
    (rows) => ({ node: toData(node), autoValue: rows[0]?.v ?? null })
  )

const resumeReplay = (data: Handler.RevertData, target?: Target.Target) =>
  Effect.flatMap(
    decodeAs(NodeRevert)(data, idOfData(data, target)),
    ({ node }) =>
      sql(node, "select case when pg_is_in_recovery() then pg_wal_replay_resume() end", [], "resume").pipe(
        Effect.catchIf((e) => e.reason === "Unreachable" && !fs.existsSync(node.dataDir ?? "/nonexistent"), () => Effect.void),
        Effect.asVoid
      )
  )

type Ctx = PgContext

/**
 * The PostgreSQL faults' handlers.
 *
 * @since 0.1.0
 */
export const handlers: Handler.Handlers<Ctx, PostgresFault, PostgresError> = {
  "postgres.crashPrimary": {
    discover: (ctx, fault) => discover(ctx, fault.target, "localPrimary"),
    prepare: (ctx, _fault, target) => Effect.map(nodeOf(ctx, target.id), ({ spec }) => crashData(spec, target.id)),
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const { spec, node } = yield* nodeOf(ctx, target.id)
        const r = yield* Server.runner(spec.bin, spec.osUser, target.id)
        const pid = Server.running(node.dataDir!)
        if (pid === null) {
          return yield* new PostgresError({ reason: "Unreachable", target: target.id, operation: "crashPrimary", detail: "its postmaster is not running" })
        }
        if (fault.mode === "sigkill") {
          yield* Effect.try({
            try: () => killTree(pid),
            catch: (e) => new PostgresError({ reason: "CommandFailed", target: target.id, operation: "crashPrimary", detail: (e as Error).message })
          })
        } else yield* Server.stop(r, node.dataDir!, "immediate", target.id)
        return { ...crashData(spec, target.id), pid }
      }),
    verify: (ctx, _fault, target, data) =>
      until(
        ctx,
        target.id,
        "the postmaster's death",
        Effect.gen(function*() {
          const node = (data as { node: NodeData }).node
          if (Server.running(node.dataDir!) !== null) return false
          return (yield* Effect.result(Sql.query(node, "select 1", [], { timeout: "1 second" })))._tag === "Failure"
        })
      ),
    revert: (ctx, data, target) => Effect.flatMap(decodeAs(CrashRevert)(data, idOfData(data, target)), (d) => restartOrRejoin(ctx, d))
  },
  "postgres.pauseReplay": {
    discover: (ctx, fault) => discover(ctx, fault.target, "standby"),
    prepare: (ctx, _fault, target) => Effect.map(nodeOf(ctx, target.id), ({ node }) => ({ node: toData(node) })),
    inject: (ctx, _fault, target) =>
      Effect.gen(function*() {
        const { node } = yield* nodeOf(ctx, target.id)
        yield* sql(node, "select pg_wal_replay_pause()", [], "pauseReplay")
        return { node: toData(node) }
      }),
    verify: (ctx, _fault, target, data) =>
      until(
        ctx,
        target.id,
        "replay paused",
        Effect.map(sql<{ s: string }>((data as { node: NodeData }).node, "select pg_get_wal_replay_pause_state() as s"), (rows) => rows[0]?.s === "paused")
      ),
    revert: (_ctx, data, target) => resumeReplay(data, target)
  },
  "postgres.terminateConnections": {
    discover: (ctx, fault) => discover(ctx, fault.target, "any"),
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const { node } = yield* nodeOf(ctx, target.id)
        const rows = yield* sql<{ pid: number }>(
          node,
          `select pid from pg_stat_activity
          where backend_type = 'client backend' and pid <> pg_backend_pid() and application_name <> 'faultline'
            and ($1::text is null or datname = $1) and ($2::text is null or usename = $2) and ($3::text is null or application_name = $3)
            and pg_terminate_backend(pid)`,
          [fault.database ?? null, fault.user ?? null, fault.applicationName ?? null],
          "terminateConnections"
        )
        if (rows.length === 0) {
          return yield* new PostgresError({
            reason: "InjectionIneffective",
            target: target.id,
            operation: "terminateConnections",
            detail: "no application backend matched"
          })
        }
        return { node: toData(node), terminated: rows.map((r) => r.pid) }
      }),
    verify: (ctx, _fault, target, data) =>
      until(
        ctx,
        target.id,
        "the terminated backends gone",
        Effect.map(
          sql<{ n: number }>((data as { node: NodeData }).node, "select count(*)::int as n from pg_stat_activity where pid = any($1::int[])", [
            data.terminated
          ]),
          (rows) => rows[0]?.n === 0
        )
      )
  },
  "postgres.readOnly": {
    discover: (ctx, fault) => discover(ctx, fault.target, "primary"),
    prepare: (ctx, _fault, target) => Effect.flatMap(nodeOf(ctx, target.id), ({ node }) => readOnlyBefore(node)),
    inject: (ctx, _fault, target) =>
      Effect.gen(function*() {
        const { node } = yield* nodeOf(ctx, target.id)
        const before = yield* readOnlyBefore(node)
        yield* setReadOnly(before.node, "on")
        return before
      }),
    verify: (ctx, _fault, target, data) =>
      until(ctx, target.id, "default_transaction_read_only = on in a new session", readOnlyNow((data as { node: NodeData }).node)),
    revert: (_ctx, data, target) =>
      Effect.flatMap(decodeAs(ReadOnlyRevert)(data, idOfData(data, target)), (d) => setReadOnly(d.node, d.autoValue).pipe(Effect.asVoid))
  }
}
