/**
 * PostgreSQL faults, as data. Targets are the nodes of the clusters the driver is configured
 * with (`cluster/node`, name `node`, labels `cluster`, `role`, `address`). By default every
 * target must carry `faultline.allow=true` (a cluster is allowed in its configuration: the
 * allow-list) and a fault may touch at most 2 nodes.
 *
 * Network faults on the replication link are the network integration's own faults
 * (`network.down`, `network.latency`, `network.bandwidth`) on the cluster's replication proxy,
 * selected by its name (`PgCluster.replication.proxy`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Fault from "../../core/Fault.ts"
import * as Guard from "../../core/Guard.ts"
import * as Selector from "../../core/Selector.ts"
import { ALLOW_LABEL } from "./Node.ts"
import { PostgresDriver } from "./PostgresDriver.ts"

export { ALLOW_LABEL } from "./Node.ts"

/**
 * The guards every PostgreSQL fault brings: `allowLabel("faultline.allow", "true")` (only
 * clusters whose configuration allows faults) and `maxTargets(2)`.
 *
 * @since 0.1.0
 */
export const defaultGuards: ReadonlyArray<Guard.Guard> = [Guard.allowLabel(ALLOW_LABEL, "true"), Guard.maxTargets(2)]

/** The base of every PostgreSQL fault. @since 0.1.0 */
export const PostgresFaultClass = Fault.Class(PostgresDriver, { defaultGuards })

/**
 * `postgres.crashPrimary`: the primary dies without a clean shutdown — `sigkill` (default)
 * kills the postmaster and every backend at once, as a host crash would; `immediate` is
 * `pg_ctl stop -m immediate`. Needs a node on this host (its data directory). Verified: the
 * postmaster is gone and the port refuses connections. Reverting starts it again — or, when
 * another node has been promoted meanwhile, rewinds it with pg_rewind and starts it as that
 * writer's standby, so a revert never makes a second primary.
 *
 * @since 0.1.0
 */
export class PostgresCrashPrimary extends PostgresFaultClass<PostgresCrashPrimary>()("postgres.crashPrimary", {
  target: Selector.Selector,
  mode: Schema.Literals(["sigkill", "immediate"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("sigkill" as const)))
}) {}

/**
 * `postgres.pauseReplay`: the standby keeps receiving WAL but stops applying it
 * (`pg_wal_replay_pause()`), so its replay lag grows. Verified by
 * `pg_get_wal_replay_pause_state() = 'paused'`; reverted by `pg_wal_replay_resume()` (a no-op
 * on a node promoted meanwhile).
 *
 * @since 0.1.0
 */
export class PostgresPauseReplay extends PostgresFaultClass<PostgresPauseReplay>()("postgres.pauseReplay", {
  target: Selector.Selector
}) {}

/**
 * `postgres.terminateConnections`: `pg_terminate_backend` on every application backend (client
 * backends other than faultline's own), narrowed by database, user and application name.
 * Ineffective (and failed) when no backend matched; nothing to revert — clients reconnect.
 *
 * @since 0.1.0
 */
export class PostgresTerminateConnections extends PostgresFaultClass<PostgresTerminateConnections>()("postgres.terminateConnections", {
  target: Selector.Selector,
  database: Schema.optionalKey(Schema.String),
  user: Schema.optionalKey(Schema.String),
  applicationName: Schema.optionalKey(Schema.String)
}) {}

/**
 * `postgres.readOnly`: `ALTER SYSTEM SET default_transaction_read_only = on` and a reload:
 * new transactions on the primary refuse writes. Verified from a new session; reverted to
 * the value `postgresql.auto.conf` had before (or reset).
 *
 * @since 0.1.0
 */
export class PostgresReadOnly extends PostgresFaultClass<PostgresReadOnly>()("postgres.readOnly", {
  target: Selector.Selector
}) {}

/** Every PostgreSQL fault. @since 0.1.0 */
export const PostgresFault = Schema.Union([PostgresCrashPrimary, PostgresPauseReplay, PostgresTerminateConnections, PostgresReadOnly])
/** @since 0.1.0 */
export type PostgresFault = typeof PostgresFault.Type

/** `postgres.crashPrimary` (default `sigkill`). @since 0.1.0 */
export const crashPrimary = (options: { readonly target: Selector.Selector; readonly mode?: "sigkill" | "immediate" }): PostgresCrashPrimary =>
  new PostgresCrashPrimary({ target: options.target, mode: options.mode ?? "sigkill" })
/** `postgres.pauseReplay`. @since 0.1.0 */
export const pauseReplay = (options: { readonly target: Selector.Selector }): PostgresPauseReplay => new PostgresPauseReplay(options)
/** `postgres.terminateConnections`. @since 0.1.0 */
export const terminateConnections = (options: {
  readonly target: Selector.Selector
  readonly database?: string
  readonly user?: string
  readonly applicationName?: string
}): PostgresTerminateConnections => new PostgresTerminateConnections(options)
/** `postgres.readOnly`. @since 0.1.0 */
export const readOnly = (options: { readonly target: Selector.Selector }): PostgresReadOnly => new PostgresReadOnly(options)
