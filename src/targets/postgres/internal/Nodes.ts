/**
 * What the handlers share: the context they run in (the configured clusters, or, out of
 * process, only a ledger record), node look-up and role checks, and the waits that verify a
 * fault took effect.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Selector from "../../../core/Selector.ts"
import type * as Target from "../../../core/Target.ts"
import { DEFAULT_BIN, idOf, type NodeData, type PgClusterSpec, type PgNode, toTarget } from "../Node.ts"
import { PostgresError } from "../PostgresError.ts"
import * as Sql from "../Sql.ts"
import type { Upstream } from "./Topology.ts"

/** The handlers' context. @since 0.1.0 */
export interface PgContext {
  readonly clusters: ReadonlyArray<PgClusterSpec>
  /** How long a fault's effect may take to show before it is `InjectionIneffective`. */
  readonly verifyTimeoutMs: number
  /** Where a re-joined standby streams from once `writer` leads (the replication proxy, retargeted, in process). */
  readonly relink: (cluster: string, writer: NodeData) => Effect.Effect<Upstream, PostgresError>
}

/** A node for a statement: its socket when it has one here, else TCP with its credentials. @since 0.1.0 */
export const via = (n: Pick<PgNode, "socketDir">): Sql.Via => n.socketDir !== undefined && fs.existsSync(n.socketDir) ? "socket" : "tcp"

/** Runs a statement on a node the driver acts on. @since 0.1.0 */
export const sql = <Row = Record<string, unknown>>(n: PgNode, text: string, params: ReadonlyArray<unknown> = [], operation = "query") =>
  Sql.query<Row>(n, text, params, { via: via(n), operation, applicationName: "faultline" })

/** The node of a target id (`cluster/node`). @since 0.1.0 */
export const nodeOf = (ctx: PgContext, id: string): Effect.Effect<{ readonly spec: PgClusterSpec; readonly node: PgNode }, PostgresError> => {
  for (const spec of ctx.clusters) {
    const node = spec.nodes.find((n) => idOf(n) === id)
    if (node !== undefined) return Effect.succeed({ spec, node })
  }
  return Effect.fail(
    new PostgresError({
      reason: "NotFound",
      target: id,
      operation: "lookup",
      detail: `no node ${id} among the configured clusters (${ctx.clusters.map((c) => c.name).join(", ") || "none"})`
    })
  )
}

/** A node's role, asked over TCP with its credentials (what validates them at plan time). @since 0.1.0 */
export const roleOf = (n: PgNode): Effect.Effect<"primary" | "standby", PostgresError> =>
  Effect.map(
    Sql.query<{ r: boolean }>(n, "select pg_is_in_recovery() as r", [], { operation: "discover", timeout: "3 seconds", applicationName: "faultline" }),
    (rows) => rows[0]?.r ? "standby" : "primary"
  )

/** What a fault needs of the nodes it selects. @since 0.1.0 */
export type Needs = "primary" | "standby" | "any" | "localPrimary"

/**
 * Discovery: every configured node, with its role. Nodes the fault selects must answer with
 * valid credentials and have the role the fault needs — else the fault is refused here, at
 * plan time, before anything is touched (an unreachable node, wrong credentials, a
 * "standby" that is not in recovery).
 *
 * @since 0.1.0
 */
export const discover = (ctx: PgContext, target: Selector.Selector, needs: Needs): Effect.Effect<ReadonlyArray<Target.Target>, PostgresError> =>
  Effect.gen(function*() {
    if (ctx.clusters.length === 0) {
      return yield* new PostgresError({
        reason: "NotFound",
        target: "postgres",
        operation: "discover",
        detail: "no PostgreSQL cluster is configured (PgCluster.layer, PostgresDriver.layerConfig, or $FAULTLINE_POSTGRES_CLUSTERS)"
      })
    }
    const all = ctx.clusters.flatMap((spec) => spec.nodes.map((node) => ({ spec, node })))
    const selected = new Set(
      (yield* Effect.option(Selector.select(target, all.map(({ spec, node }) => toTarget(spec, node))))).pipe((o) =>
        o._tag === "Some" ? o.value.map((t) => t.id as string) : []
      )
    )
    const targets: Array<Target.Target> = []
    for (const { spec, node } of all) {
      const role = yield* Effect.result(roleOf(node))
      if (!selected.has(idOf(node))) {
        if (role._tag === "Failure" && role.failure.reason === "AuthFailed") return yield* role.failure
        targets.push(toTarget(spec, node, role._tag === "Success" ? role.success : undefined))
        continue
      }
      if (role._tag === "Failure") return yield* role.failure
      yield* check(node, role.success, needs)
      targets.push(toTarget(spec, node, role.success))
    }
    return targets
  })

const check = (node: PgNode, role: "primary" | "standby", needs: Needs) => {
  const fail = (reason: "NotInRecovery" | "InRecovery" | "InvalidInput", detail: string) =>
    Effect.fail(new PostgresError({ reason, target: idOf(node), operation: "discover", detail }))
  if (needs === "standby" && role !== "standby") {
    return fail("NotInRecovery", "the node is a primary (pg_is_in_recovery() is false); this fault needs a standby")
  }
  if ((needs === "primary" || needs === "localPrimary") && role !== "primary") {
    return fail("InRecovery", "the node is a standby (pg_is_in_recovery() is true); this fault needs the primary")
  }
  if (needs === "localPrimary" && (node.dataDir === undefined || !fs.existsSync(node.dataDir))) {
    return fail("InvalidInput", "its data directory is not on this host (configure dataDir): crashing and restarting it needs pg_ctl here")
  }
  return Effect.void
}

/** The cluster's bin folder and OS user. @since 0.1.0 */
export const serverOf = (spec: Pick<PgClusterSpec, "bin" | "osUser">) => ({ bin: spec.bin ?? DEFAULT_BIN, osUser: spec.osUser })

/**
 * Polls `check` until it holds or the verify timeout passes (then `InjectionIneffective`).
 *
 * @since 0.1.0
 */
export const until = (ctx: PgContext, target: string, what: string, check: Effect.Effect<boolean, PostgresError>): Effect.Effect<void, PostgresError> =>
  Effect.gen(function*() {
    const deadline = (yield* Clock.currentTimeMillis) + ctx.verifyTimeoutMs
    while (true) {
      if (yield* check.pipe(Effect.catch(() => Effect.succeed(false)))) return
      if ((yield* Clock.currentTimeMillis) > deadline) {
        return yield* new PostgresError({
          reason: "InjectionIneffective",
          target,
          operation: "verify",
          detail: `${what} not observed within ${ctx.verifyTimeoutMs} ms`
        })
      }
      yield* Effect.sleep("20 millis")
    }
  })
