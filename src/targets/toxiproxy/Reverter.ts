/**
 * The network target's out-of-process reverter. The ledger's connection names the
 * Toxiproxy API (real or embedded, when it runs as its own process), and the driver's own
 * revert is idempotent (a missing toxic is a no-op).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { DriverError } from "../../core/Driver.ts"
import type { LedgerRecord } from "../../core/Ledger.ts"
import { make } from "./ToxiproxyDriver.ts"

/**
 * Reverts one network ledger record in this process.
 *
 * @since 0.1.0
 */
export const revertRecord = (record: LedgerRecord): Effect.Effect<void, DriverError> => {
  const url = record.connection.url
  if (typeof url !== "string") {
    return Effect.fail(
      new DriverError({
        driver: "toxiproxy",
        operation: "revert",
        target: record.target.name,
        reason: "InvalidRecord",
        detail: "the ledger record names no Toxiproxy URL"
      })
    )
  }
  return Effect.suspend(() => make(url).revert(record.revert))
}
