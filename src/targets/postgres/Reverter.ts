/**
 * The PostgreSQL target's out-of-process reverter: the watchdog and `faultline recover`
 * revert a `postgres.*` ledger record from its revert data alone — the same handlers as the
 * driver, in a context that knows no cluster: statements go through the node's private
 * socket (or over TCP with the password of the environment variable the record names), and a
 * crashed primary whose peer was promoted re-joins by streaming from that peer directly (the
 * runner's replication proxy died with it).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { DriverError } from "../../core/Driver.ts"
import type { LedgerRecord } from "../../core/Ledger.ts"
import { postgresFaults } from "./PostgresDriver.ts"
import type { PgContext } from "./internal/Nodes.ts"
import { toDriverError } from "./PostgresError.ts"
import { loadPg } from "./Sql.ts"

// Loaded with the reverter, so a revert after the runner died does not wait for the client.
await Effect.runPromise(Effect.ignore(loadPg))

const outOfProcess: PgContext = {
  clusters: [],
  verifyTimeoutMs: 10_000,
  relink: (_cluster, writer) => Effect.succeed({ host: writer.host, port: writer.port, user: writer.user })
}

/**
 * Reverts one PostgreSQL ledger record in this process. Idempotent.
 *
 * @since 0.1.0
 */
export const revertRecord = (record: LedgerRecord): Effect.Effect<void, DriverError> =>
  postgresFaults.revert(outOfProcess, record.fault, record.revert.data, record.target).pipe(
    Effect.mapError((e) => toDriverError(e, { operation: "revert", target: record.target.id }))
  )
