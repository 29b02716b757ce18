/**
 * The out-of-process reverter: what the watchdog and `faultline recover` run for a ledger
 * record of this driver. It reuses the driver's own revert.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type { Driver, Ledger } from "faultline"
import { unhide } from "./FileDriver.ts"

/** @since 0.1.0 */
export const revertRecord = (record: Ledger.LedgerRecord): Effect.Effect<void, Driver.DriverError> => unhide(record.revert.data)
