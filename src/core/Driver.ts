/**
 * Drivers: the services that apply and revert one family of faults.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Revert } from "./Journal.ts"
import type { Target } from "./Target.ts"

/**
 * What every driver provides. `inject` returns revert data; `revert` interprets it and
 * must be idempotent: reverting twice, or reverting a fault that never landed, succeeds.
 *
 * @since 0.1.0
 */
export interface Driver<F = any> {
  readonly name: string
  /** How another process reaches this driver (an endpoint, a socket path); never secrets. */
  readonly connection?: Record<string, unknown>
  /**
   * Computes, before anything is touched, revert data that is safe to apply whether or not
   * the injection lands (it goes into the ledger's intent record). Without it, an intent
   * whose injection may have half-landed has nothing to revert with.
   */
  readonly prepare?: (fault: F, target: Target) => Effect.Effect<Record<string, unknown>, DriverError>
  /** Lists the candidate targets for a fault (read-only; allowed in a dry run). */
  readonly discover: (fault: F) => Effect.Effect<ReadonlyArray<Target>, DriverError>
  /** Applies the fault to one target and returns the data needed to revert it. */
  readonly inject: (fault: F, target: Target) => Effect.Effect<Record<string, unknown>, DriverError>
  /**
   * Optional: applies the fault to several targets in one go (e.g. one EC2 `StopInstances`
   * for many ids) and returns one revert record per target, in the targets' order. When
   * present, `Fault.inject` writes every target's lease and intent first, then calls this
   * once; reverts stay per target.
   */
  readonly injectBatch?: (
    fault: F,
    targets: ReadonlyArray<Target>
  ) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, DriverError>
  /**
   * Optional, for dry runs: the calls the driver would make to inject the fault into these
   * targets and to revert it, computed without any mutating call (read-only look-ups are
   * allowed). Journaled as `CallsPlanned` and printed by `faultline plan`.
   */
  readonly plan?: (fault: F, targets: ReadonlyArray<Target>) => Effect.Effect<ReadonlyArray<PlannedCall>, DriverError>
  /** Undoes a fault from its revert data; a no-op when there is nothing to undo. */
  readonly revert: (revert: Revert) => Effect.Effect<void, DriverError>
}

/**
 * One call a driver would make, as data: what a dry-run plan lists.
 *
 * @since 0.1.0
 */
export interface PlannedCall {
  readonly phase: "prepare" | "inject" | "revert"
  readonly service: string
  readonly operation: string
  readonly mutating: boolean
  readonly params: unknown
}

/**
 * Why a driver operation failed, the same words for every target (each target maps its own
 * error's reasons to these at its boundary):
 * - `NotFound`: the target or an object it needs does not exist
 * - `Conflict`: the object is in the wrong state for the operation (Docker's HTTP 409, a
 *   container that is not running)
 * - `InvalidState`: the service refuses the operation in the resource's current state (AWS)
 * - `InvalidInput`: the request was malformed or refused as invalid
 * - `InvalidRecord`: revert data (a ledger record) that cannot be acted on
 * - `Unavailable`: the system does not answer, or its client library is missing
 * - `Throttled`: rate-limited after retries
 * - `AccessDenied`: the credentials may not do this
 * - `Unsupported`: the system cannot do it here (a kernel module, an adopted process)
 * - `Irreversible`: refused because it cannot be undone and nobody acknowledged that
 * - `InjectionIneffective`: accepted, but its effect was not observed
 * - `SignalFailed`: a signal could not be sent, or did not take effect
 * - `SpawnFailed`: a process could not be started
 * - `NotReady`: a process started but never said it was ready
 * - `CommandFailed`: a command run for the fault (a helper container's iptables, tc) failed
 * - `Unknown`: anything else the system answered
 *
 * @since 0.1.0
 */
export const DriverErrorReason = Schema.Literals([
  "NotFound",
  "Conflict",
  "InvalidState",
  "InvalidInput",
  "InvalidRecord",
  "Unavailable",
  "Throttled",
  "AccessDenied",
  "Unsupported",
  "Irreversible",
  "InjectionIneffective",
  "SignalFailed",
  "SpawnFailed",
  "NotReady",
  "CommandFailed",
  "Unknown"
])
/** @since 0.1.0 */
export type DriverErrorReason = typeof DriverErrorReason.Type

/**
 * An error from a driver, with the driver, the operation and the target named.
 *
 * @since 0.1.0
 */
export class DriverError extends Schema.TaggedError<DriverError>()("DriverError", {
  driver: Schema.String,
  operation: Schema.String,
  target: Schema.String,
  reason: DriverErrorReason,
  detail: Schema.String
}) {
  override get message() {
    return `${this.driver}.${this.operation} on ${this.target}: ${this.reason}${this.detail ? ` (${this.detail})` : ""}`
  }
}

/**
 * The boundary of one target's error: a total map from the target's own reasons to the
 * driver reasons (adding a reason to a target's error fails to compile until it is mapped).
 * A target reason finer than its driver reason (`HelperFailed` -> `CommandFailed`) stays at
 * the head of the detail, so nothing the target said is lost.
 *
 * @example
 * ```ts
 * const toDriverError = DriverError.boundary("docker", { NotFound: "NotFound", HelperFailed: "CommandFailed", ... })
 * toDriverError(e, { operation: "inject", target: "web" })
 * ```
 * @since 0.1.0
 */
export const boundary = <R extends string>(driver: string, reasons: { readonly [K in R]: DriverErrorReason }) =>
(
  e: { readonly reason: R; readonly detail: string },
  at: { readonly operation: string; readonly target: string; readonly detail?: string | undefined }
): DriverError => {
  const reason = reasons[e.reason]
  const detail = at.detail ?? e.detail
  return new DriverError({
    driver,
    operation: at.operation,
    target: at.target,
    reason,
    detail: (reason as string) === e.reason ? detail : `${e.reason}: ${detail}`
  })
}
