/**
 * Recovery actions a failover drill performs, each journaled with its timing (a `Note` when
 * it starts and one with its duration when it ends, when it runs inside an experiment):
 * promote the standby (`pg_promote`, waiting for it), repoint the application (a hook), and
 * fail back — `pg_rewind` the old primary into a standby of the new one, and, for the
 * original topology, switch over again.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { monoMillis } from "../../core/Probe.ts"
import { Run } from "../../core/Run.ts"
import { awaitStreaming, type PgCluster } from "./Cluster.ts"
import * as Server from "./internal/Server.ts"
import * as Topo from "./internal/Topology.ts"
import { idOf, type PgNode, toData } from "./Node.ts"
import { PostgresError } from "./PostgresError.ts"
import * as Sql from "./Sql.ts"
import { via } from "./internal/Nodes.ts"

/** What an action took: its result and its duration on the monotonic clock. @since 0.1.0 */
export interface Timed<A> {
  readonly value: A
  readonly startedMono: number
  readonly ms: number
}

const note = (message: string) =>
  Effect.flatMap(Effect.serviceOption(Run), (run) => run._tag === "Some" ? run.value.journal.append({ _tag: "Note", message }) : Effect.void)

/**
 * Runs an action, journaling its start, its end and its duration (or its failure).
 *
 * @since 0.1.0
 */
export const timed = <A, E, R>(name: string, action: Effect.Effect<A, E, R>, describe: (a: A) => string = () => ""): Effect.Effect<Timed<A>, E, R> =>
  Effect.gen(function*() {
    yield* note(`recovery ${name}: started`)
    const startedMono = yield* monoMillis
    const value = yield* action.pipe(
      Effect.tapError((e) =>
        Effect.flatMap(
          monoMillis,
          (now) => note(`recovery ${name}: failed after ${(now - startedMono).toFixed(1)} ms: ${(e as { message?: string })?.message ?? String(e)}`)
        )
      )
    )
    const ms = (yield* monoMillis) - startedMono
    const more = describe(value)
    yield* note(`recovery ${name}: done in ${ms.toFixed(1)} ms${more ? ` (${more})` : ""}`)
    return { value, startedMono, ms }
  })

const inRecovery = (n: PgNode, operation: string) =>
  Effect.map(Sql.query<{ r: boolean }>(n, "select pg_is_in_recovery() as r", [], { via: via(n), operation }), (rows) => rows[0]?.r === true)

/**
 * Checks, touching nothing, that `node` is a standby that can be promoted: it answers and is
 * in recovery (else `NotInRecovery`: a promote on a primary is bad input).
 *
 * @since 0.1.0
 */
export const checkPromotable = (node: PgNode): Effect.Effect<void, PostgresError> =>
  Effect.flatMap(
    inRecovery(node, "promote"),
    (r) =>
      r
        ? Effect.void
        : Effect.fail(
          new PostgresError({
            reason: "NotInRecovery",
            target: idOf(node),
            operation: "promote",
            detail: "the node is not in recovery: it is already a primary"
          })
        )
  )

/**
 * Promotes a standby with `pg_promote(wait => true)` and returns the new timeline. Refused
 * (nothing touched) when the node is not a standby.
 *
 * @since 0.1.0
 */
export const promote = (node: PgNode, options: { readonly waitSeconds?: number } = {}): Effect.Effect<Timed<{ readonly timeline: number }>, PostgresError> =>
  Effect.andThen(
    checkPromotable(node),
    timed(
      `promote ${idOf(node)}`,
      Effect.gen(function*() {
        const rows = yield* Sql.query<{ ok: boolean }>(node, "select pg_promote(true, $1) as ok", [options.waitSeconds ?? 60], {
          via: via(node),
          operation: "promote",
          timeout: `${(options.waitSeconds ?? 60) + 5} seconds`
        })
        if (rows[0]?.ok !== true) {
          return yield* new PostgresError({
            reason: "Timeout",
            target: idOf(node),
            operation: "promote",
            detail: `pg_promote did not finish within ${options.waitSeconds ?? 60} s`
          })
        }
        const tl = yield* Sql.query<{ tl: number }>(node, "select ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int as tl", [], {
          via: via(node),
          operation: "promote"
        })
        return { timeline: Number(tl[0]?.tl ?? 0) }
      }),
      (r) => `timeline ${r.timeline}`
    )
  )

/**
 * Repoints the application (any hook: DNS, a pooler, an `AppPath`), journaled and timed.
 *
 * @since 0.1.0
 */
export const repoint = <E, R>(hook: Effect.Effect<void, E, R>, options: { readonly to: string }): Effect.Effect<Timed<void>, E, R> =>
  timed(`repoint the application to ${options.to}`, hook)

/** The topology a fail back ends in. @since 0.1.0 */
export type Topology = "original" | "swapped"

const rejoin = (cluster: PgCluster["Service"], node: PgNode, writer: PgNode) =>
  Effect.gen(function*() {
    const upstream = yield* cluster.relink(writer)
    const r = yield* Topo.rejoin(cluster.runner, toData(node), toData(writer), `faultline-${cluster.name}`, upstream)
    yield* awaitStreaming(writer, node)
    return r.rewound
  })

/**
 * Fails back after a failover: `oldPrimary` is rewound (pg_rewind) and started as a standby
 * of `newPrimary` through the replication proxy. With `topology: "original"` the roles are
 * then switched back: the new primary is stopped cleanly (its standby receives every WAL
 * record first), the old primary promoted, and the other node rewound into its standby.
 * Either way the cluster ends with one writer and one streaming standby.
 *
 * @since 0.1.0
 */
export const failBack = (
  cluster: PgCluster["Service"],
  options: { readonly oldPrimary: PgNode; readonly newPrimary: PgNode; readonly topology: Topology }
): Effect.Effect<Timed<{ readonly writer: string; readonly rewound: boolean }>, PostgresError> =>
  timed(
    `fail back (${options.topology} topology)`,
    Effect.gen(function*() {
      const { oldPrimary, newPrimary } = options
      if (yield* inRecovery(newPrimary, "failBack")) {
        return yield* new PostgresError({
          reason: "InRecovery",
          target: idOf(newPrimary),
          operation: "failBack",
          detail: "the new primary is still a standby: promote it first"
        })
      }
      const rewound = yield* rejoin(cluster, oldPrimary, newPrimary)
      if (options.topology === "swapped") return { writer: newPrimary.name, rewound }
      yield* Server.stop(cluster.runner, newPrimary.dataDir!, "fast", idOf(newPrimary))
      yield* Sql.query(oldPrimary, "select pg_promote(true, 60)", [], { via: via(oldPrimary), operation: "failBack", timeout: "65 seconds" })
      yield* rejoin(cluster, newPrimary, oldPrimary)
      return { writer: oldPrimary.name, rewound }
    }),
    (r) => `writer ${r.writer}${r.rewound ? ", old primary rewound" : ", no rewind needed"}`
  )
