/**
 * Process exit codes of the command line. The library reports verdicts; only the command
 * line turns them into a process status.
 *
 * @since 0.1.0
 */
import type { Status } from "../core/Verdict.ts"

/**
 * The exit code for a verdict: 0 passed; 1 deviated, aborted or failed; 130 interrupted.
 *
 * @since 0.1.0
 */
export const exitCodeOf = (status: Status): number => status === "passed" ? 0 : status === "interrupted" ? 130 : 1
