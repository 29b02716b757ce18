/**
 * The application's path to the database: which node it writes to now. The heartbeat
 * writer, the probes and user code read it at every connect, and the `repoint` recovery
 * action moves it — the hook a drill calls where a real system would update DNS, a
 * connection pooler or a service registry.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { PgNode } from "./Node.ts"
import * as Sql from "./Sql.ts"

/**
 * A repointable path: `current()` is the node connections go to now.
 *
 * @since 0.1.0
 */
export interface AppPath {
  readonly current: () => PgNode
  /** Moves the path to `node`; sessions opened on the path reconnect there. */
  readonly repoint: (node: PgNode) => Effect.Effect<void>
  /** A reconnecting session that follows the path. */
  readonly session: (options?: { readonly timeout?: Duration.Input; readonly applicationName?: string }) => Sql.Session
}

/**
 * Makes an application path that starts at `initial`.
 *
 * @example
 * ```ts
 * const app = Postgres.appPath(cluster.primary)
 * yield* Recovery.repoint(() => app.repoint(cluster.standby), { to: "pg2" })
 * ```
 * @since 0.1.0
 */
export const appPath = (initial: PgNode): AppPath => {
  let node = initial
  return {
    current: () => node,
    repoint: (n) =>
      Effect.sync(() => {
        node = n
      }),
    session: (options = {}) => Sql.session(() => node, { timeout: options.timeout ?? "1 second", applicationName: options.applicationName ?? "faultline-app" })
  }
}
