/**
 * The one error of the PostgreSQL target.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Driver from "../../core/Driver.ts"

/**
 * Why a PostgreSQL operation failed:
 * - `Unreachable`: nothing answers at the node's address (connection refused, timeout)
 * - `AuthFailed`: the server refused the credentials (SQLSTATE 28P01 / 28000)
 * - `NotInRecovery`: the node is a primary where a standby was needed (replay pause, promote)
 * - `InRecovery`: the node is a standby where a primary was needed (crashPrimary, writes)
 * - `NotFound`: no such cluster or node in the configuration, or no such data directory
 * - `InvalidInput`: a configuration or an argument that cannot be used (a bad port, a path
 *   outside the cluster's folder)
 * - `Unavailable`: the `pg` client (the optional peer dependency) or the server binaries are missing
 * - `QueryFailed`: the server answered a statement with an error
 * - `CommandFailed`: a server program (initdb, pg_ctl, pg_basebackup, pg_rewind) exited non-zero
 * - `Timeout`: the server did not reach the awaited state in time (promotion, catch-up)
 * - `InjectionIneffective`: the fault was accepted but its effect was not observed
 *
 * @since 0.1.0
 */
export const PostgresErrorReason = Schema.Literals([
  "Unreachable",
  "AuthFailed",
  "NotInRecovery",
  "InRecovery",
  "NotFound",
  "InvalidInput",
  "Unavailable",
  "QueryFailed",
  "CommandFailed",
  "Timeout",
  "InjectionIneffective"
])
/** @since 0.1.0 */
export type PostgresErrorReason = typeof PostgresErrorReason.Type

/**
 * An error of a PostgreSQL node or of a PostgreSQL fault, naming the node (`cluster/node`,
 * never a connection string) and the operation.
 *
 * @since 0.1.0
 */
export class PostgresError extends Schema.TaggedError<PostgresError>()("PostgresError", {
  reason: PostgresErrorReason,
  target: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `postgres ${this.operation} on ${this.target}: ${this.reason}${this.detail ? ` (${this.detail})` : ""}`
  }
}

/**
 * Maps an error thrown by the `pg` client (or a socket) to a PostgresError. The detail is
 * the server's message: `pg` never puts the password in it.
 *
 * @since 0.1.0
 */
export const fromClient = (operation: string, target: string) => (e: unknown): PostgresError => {
  if (e instanceof PostgresError) return e
  const err = e as { code?: string; message?: string }
  const detail = (err?.message ?? String(e)).trim()
  const code = err?.code ?? ""
  const reason: PostgresErrorReason = code === "28P01" || code === "28000" || /password authentication failed|no pg_hba.conf entry/i.test(detail)
    ? "AuthFailed"
    : ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "ECONNRESET", "ENOENT", "57P03"].includes(code) ||
        /timeout|terminated unexpectedly|Connection terminated/i.test(detail)
    ? "Unreachable"
    : "QueryFailed"
  return new PostgresError({ reason, target, operation, detail: code && !detail.includes(code) ? `${code}: ${detail}` : detail })
}

/**
 * The PostgreSQL boundary of `DriverError` (the PostgreSQL reason stays at the head of the
 * detail where the driver's word is coarser).
 *
 * @since 0.1.0
 */
export const toDriverError = Driver.boundary<PostgresErrorReason>("postgres", {
  Unreachable: "Unavailable",
  AuthFailed: "AccessDenied",
  NotInRecovery: "InvalidState",
  InRecovery: "InvalidState",
  NotFound: "NotFound",
  InvalidInput: "InvalidInput",
  Unavailable: "Unavailable",
  QueryFailed: "Unknown",
  CommandFailed: "CommandFailed",
  Timeout: "NotReady",
  InjectionIneffective: "InjectionIneffective"
})
