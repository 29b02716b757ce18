/**
 * The one error of the Docker target.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Driver from "../../core/Driver.ts"

/**
 * Why a Docker operation failed:
 * - `NotFound`: no such container, network, image or volume (HTTP 404)
 * - `Conflict`: the object is in the wrong state for the operation (HTTP 409), or a fault
 *   was refused (irreversible, target not running)
 * - `Unavailable`: the engine does not answer (socket missing, connection refused)
 * - `Unsupported`: the engine or its kernel cannot do it (e.g. no `sch_netem` for `docker.netem`)
 * - `InjectionIneffective`: the engine accepted the fault but its effect was not observed
 * - `HelperFailed`: the helper container (iptables, tc) exited non-zero
 * - `EngineError`: any other error the engine returned
 *
 * @since 0.1.0
 */
export const DockerErrorReason = Schema.Literals([
  "NotFound",
  "Conflict",
  "Unavailable",
  "Unsupported",
  "InjectionIneffective",
  "HelperFailed",
  "EngineError"
])
/** @since 0.1.0 */
export type DockerErrorReason = typeof DockerErrorReason.Type

/**
 * An error from the Docker Engine or from a Docker fault, naming the target and operation.
 *
 * @since 0.1.0
 */
export class DockerError extends Schema.TaggedError<DockerError>()("DockerError", {
  reason: DockerErrorReason,
  target: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `docker ${this.operation} on ${this.target}: ${this.reason}${this.detail ? ` (${this.detail})` : ""}`
  }
}

/**
 * Maps an error thrown by the Docker SDK (dockerode / docker-modem) to a DockerError.
 *
 * @since 0.1.0
 */
export const fromSdk = (operation: string, target: string) => (e: unknown): DockerError => {
  const err = e as { statusCode?: number; code?: string; message?: string; json?: { message?: string } }
  const detail = (err?.json?.message ?? err?.message ?? String(e)).trim()
  const reason: DockerErrorReason = err?.statusCode === 404
    ? "NotFound"
    : err?.statusCode === 409
    ? "Conflict"
    : err?.code === "ECONNREFUSED" || err?.code === "ENOENT" || err?.code === "EACCES" || err?.code === "ECONNRESET"
    ? "Unavailable"
    : "EngineError"
  return new DockerError({ reason, target, operation, detail })
}

/**
 * The Docker boundary of `DriverError`: each Docker reason as a driver reason (a helper's
 * failure is a `CommandFailed`, any other engine error `Unknown`; the Docker reason stays
 * at the head of the detail).
 *
 * @since 0.1.0
 */
export const toDriverError = Driver.boundary<DockerErrorReason>("docker", {
  NotFound: "NotFound",
  Conflict: "Conflict",
  Unavailable: "Unavailable",
  Unsupported: "Unsupported",
  InjectionIneffective: "InjectionIneffective",
  HelperFailed: "CommandFailed",
  EngineError: "Unknown"
})
