/**
 * The PostgreSQL integration: nodes of configured clusters (optional peer `pg`, loaded only
 * when a statement runs or a record is reverted).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Integration from "../../core/Integration.ts"
import { defaultGuards, PostgresCrashPrimary, PostgresPauseReplay, PostgresReadOnly, PostgresTerminateConnections } from "./Faults.ts"

const unavailable = (e: unknown) => new Integration.IntegrationUnavailable({ integration: "postgres", detail: e instanceof Error ? e.message : String(e) })

/** @since 0.1.0 */
export const integration: Integration.Integration = Integration.make({
  name: "postgres",
  summary: "PostgreSQL: crash the primary, pause replay, terminate connections, read-only (replication link: network faults on its proxy)",
  module: "faultline/postgres",
  faults: [PostgresCrashPrimary, PostgresPauseReplay, PostgresTerminateConnections, PostgresReadOnly],
  defaultGuards,
  layer: Effect.tryPromise({ try: () => import("./PostgresDriver.ts"), catch: unavailable }).pipe(
    Effect.map((m) => m.PostgresDriver.layer)
  ),
  reverter: Effect.tryPromise({ try: () => import("./Reverter.ts"), catch: unavailable }).pipe(Effect.map((m) => m.revertRecord)),
  // Clusters started by PgCluster whose owner died (a SIGKILLed test runner): stopped, deleted.
  leftovers: (options) =>
    Effect.tryPromise({ try: () => import("./Registry.ts"), catch: unavailable }).pipe(
      Effect.flatMap((m) => m.recover({ runId: options.runId, force: options.force })),
      Effect.map((r) => ({ reverted: [], removed: r.removed, skipped: r.skipped, failed: r.failed }))
    )
})
