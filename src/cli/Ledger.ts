/**
 * The ledger of runs the CLI starts: next to their run folders, and refused unless private.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileLedger from "../run/FileLedger.ts"
import * as LedgerTrust from "../run/LedgerTrust.ts"
import { BadInput } from "./State.ts"

/**
 * Runs started by the CLI keep their ledger next to their run folders, watched by a watchdog.
 *
 * @since 0.1.0
 */
export const ledgerLayer = (out: string) => FileLedger.layer({ dir: path.join(out, "ledger") })

/**
 * A ledger folder that is not this user's private folder is refused before anything starts.
 *
 * @since 0.1.0
 */
export const ensurePrivateLedger = (dir: string) =>
  Effect.suspend(() => {
    const bad = LedgerTrust.ledgerProblem(dir)
    return bad === null ? Effect.void : Effect.fail(new BadInput({ message: `refusing the ledger: ${bad}` }))
  })
