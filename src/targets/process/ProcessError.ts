/**
 * The one error of the process target.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Driver from "../../core/Driver.ts"

/**
 * Why a process operation failed: `NotFound` (not a managed process), `SpawnFailed`,
 * `NotReady` (no ready line in time), `SignalFailed` (a signal not sent or without effect),
 * `Unsupported` (e.g. restarting an adopted process).
 *
 * @since 0.1.0
 */
export const ProcessErrorReason = Schema.Literals(["NotFound", "SpawnFailed", "NotReady", "SignalFailed", "Unsupported"])
/** @since 0.1.0 */
export type ProcessErrorReason = typeof ProcessErrorReason.Type

/** @since 0.1.0 */
export class ProcessError extends Schema.TaggedError<ProcessError>()("ProcessError", {
  reason: ProcessErrorReason,
  target: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `process ${this.operation} on ${this.target}: ${this.reason}${this.detail ? ` (${this.detail})` : ""}`
  }
}

/**
 * The process boundary of `DriverError`: every process reason is a driver reason of the same name.
 *
 * @since 0.1.0
 */
export const toDriverError = Driver.boundary<ProcessErrorReason>("process", {
  NotFound: "NotFound",
  SpawnFailed: "SpawnFailed",
  NotReady: "NotReady",
  SignalFailed: "SignalFailed",
  Unsupported: "Unsupported"
})
