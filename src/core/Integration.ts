/**
 * Integrations: one value per target family. An integration names its fault classes (which
 * the file format accepts), the default guards its faults bring, how to build its driver
 * layer, and the out-of-process reverter the watchdog and `faultline recover` use. The
 * layer and the reverter are loaded on demand, so listing an integration never loads an
 * SDK. `src/integrations.ts` lists every integration; nothing else names a target.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { DriverError } from "./Driver.ts"
import type { FaultClass } from "./Fault.ts"
import type * as Guard from "./Guard.ts"
import type { LedgerRecord } from "./Ledger.ts"

/**
 * Reverts one ledger record in a process that is not the runner (the watchdog, `faultline
 * recover`). Idempotent, like every driver's revert.
 *
 * @since 0.1.0
 */
export type Reverter = (record: LedgerRecord) => Effect.Effect<void, DriverError>

/**
 * What `faultline recover` found and did for one integration beyond the ledger (e.g.
 * Docker's marker volumes and helper containers).
 *
 * @since 0.1.0
 */
export interface Leftovers {
  readonly reverted: ReadonlyArray<string>
  readonly removed: ReadonlyArray<string>
  readonly skipped: ReadonlyArray<string>
  readonly failed: ReadonlyArray<string>
}

/**
 * Options for an integration's own leftover scan.
 *
 * @since 0.1.0
 */
export interface LeftoverOptions {
  /** Only this run id (default: every run whose runner is gone). */
  readonly runId?: string | undefined
  /** Also act on runs whose runner still looks alive on this host. */
  readonly force?: boolean | undefined
  /** Where the system answers, when not its default (Docker: the engine socket). */
  readonly endpoint?: string | undefined
}

/**
 * The integration cannot be used here: its optional peer dependency is missing, or its
 * system (an engine, an endpoint) does not answer.
 *
 * @since 0.1.0
 */
export class IntegrationUnavailable extends Schema.TaggedError<IntegrationUnavailable>()("IntegrationUnavailable", {
  integration: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `the ${this.integration} integration is unavailable: ${this.detail}`
  }
}

/**
 * One target family.
 *
 * @since 0.1.0
 */
export interface Integration {
  /** The driver's name, as ledger records and journals carry it (`docker`). */
  readonly name: string
  /** One line for `faultline` help and docs. */
  readonly summary: string
  /** The package subpath that exports it (`faultline/docker`), or `faultline`. */
  readonly module: string
  /** Every fault class of the family; the file format accepts each under its tag. */
  readonly faults: ReadonlyArray<FaultClass>
  /** The guards every fault of the family brings (added to the experiment's own). */
  readonly defaultGuards: ReadonlyArray<Guard.Guard>
  /** The driver layer configured from the environment, loaded on demand. */
  readonly layer: Effect.Effect<Layer.Layer<any, any, never>, IntegrationUnavailable>
  /** The out-of-process reverter, loaded on demand. */
  readonly reverter: Effect.Effect<Reverter, IntegrationUnavailable>
  /** Leftovers only the target system can show (markers, helpers), for `faultline recover`. */
  readonly leftovers?: ((options: LeftoverOptions) => Effect.Effect<Leftovers, IntegrationUnavailable>) | undefined
}

/**
 * Defines an integration (identity: it types the value).
 *
 * @since 0.1.0
 */
export const make = (integration: Integration): Integration => integration
