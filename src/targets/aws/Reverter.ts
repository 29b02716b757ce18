/**
 * The AWS target's out-of-process reverter: the watchdog and `faultline recover` revert AWS
 * faults from a ledger record alone. The record's `connection` holds region and endpoint;
 * credentials come from the SDK's default provider chain in the reverting process.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { DriverError } from "../../core/Driver.ts"
import type { LedgerRecord } from "../../core/Ledger.ts"
import { makeClients, sender } from "./AwsApi.ts"
import { toDriverError } from "./AwsError.ts"
import { revert } from "./AwsLive.ts"

/**
 * Reverts one AWS ledger record in this process.
 *
 * @since 0.1.0
 */
export const revertRecord = (record: LedgerRecord): Effect.Effect<void, DriverError> => {
  const c = record.connection as { region?: string; endpoint?: string | null }
  const call = sender(makeClients({ region: c.region ?? "us-east-1", endpoint: c.endpoint ?? undefined }))
  return revert(call, record.revert).pipe(
    Effect.mapError((e) => toDriverError(e, { operation: "revert", target: e.target }))
  )
}
