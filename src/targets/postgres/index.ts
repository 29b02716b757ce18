/**
 * The PostgreSQL target (`faultline/postgres`): a real primary + standby cluster for tests
 * (`PgCluster`), the driver and its faults, recovery actions (promote, repoint, fail back),
 * probes, the RPO heartbeat writer, errors and recovery of leftover clusters. Needs the
 * optional peer dependency `pg`.
 *
 * @since 0.1.0
 */
import * as Layer from "effect/Layer"
import { PgCluster, type PgClusterOptions } from "./Cluster.ts"
import type { PostgresError } from "./PostgresError.ts"
import { PostgresDriver } from "./PostgresDriver.ts"

export * from "./App.ts"
export * from "./Cluster.ts"
export * from "./Heartbeat.ts"
export * as Probes from "./Probes.ts"
export * as Recovery from "./Recovery.ts"
export * from "./Faults.ts"
export * from "./Node.ts"
export * from "./PostgresDriver.ts"
export * from "./PostgresError.ts"
export * as Registry from "./Registry.ts"
export * as Sql from "./Sql.ts"
export { integration } from "./Integration.ts"

/**
 * A cluster for this scope and the driver for it, in one layer (what a test provides).
 *
 * @example
 * ```ts
 * it.layer(Postgres.layer({ name: "orders" }))((it) => ...)
 * ```
 * @since 0.1.0
 */
export const layer = (options?: PgClusterOptions): Layer.Layer<PgCluster | PostgresDriver, PostgresError> =>
  PostgresDriver.layerCluster.pipe(Layer.provideMerge(PgCluster.layer(options)))
