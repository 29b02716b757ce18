/**
 * The Docker target's out-of-process reverter: the watchdog and `faultline recover` revert
 * Docker faults from a ledger record alone. The record's `connection` holds the engine
 * socket and helper image.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { DriverError } from "../../core/Driver.ts"
import type { LedgerRecord } from "../../core/Ledger.ts"
import { make } from "./DockerDriver.ts"
import { toDriverError } from "./DockerError.ts"

// Loaded with the reverter, not at the first revert: the watchdog loads this module while
// its runner still lives, so that a revert after the runner died does not wait for the
// engine client (or the leftover scan) to load.
await import("dockerode").catch(() => undefined)
await import("./Recover.ts")

/**
 * Reverts one Docker ledger record in this process.
 *
 * @since 0.1.0
 */
export const revertRecord = (record: LedgerRecord): Effect.Effect<void, DriverError> => {
  const c = record.connection as { socketPath?: string | null; helperImage?: string }
  return Effect.scoped(
    Effect.flatMap(
      make({ socketPath: c.socketPath ?? undefined, helperImage: c.helperImage }).pipe(
        Effect.mapError((e) => toDriverError(e, { operation: "revert", target: record.target.name }))
      ),
      (driver) => driver.revert(record.revert)
    )
  )
}
