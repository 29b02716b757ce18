/**
 * Process exit codes of the command line. The library reports verdicts; only the command
 * line turns them into a process status.
 *
 * @since 0.1.0
 */
import type { Status } from "../core/Verdict.ts"

/**
 * The exit code for a verdict: 0 passed or planned (a dry run); 1 deviated, aborted or
 * failed; 3 refused (a guard said no before anything started: a scheduler can tell "skipped"
 * from "broke"); 130 interrupted. Bad input exits 2 before any verdict.
 *
 * @since 0.1.0
 */
export const exitCodeOf = (status: Status): number =>
  status === "passed" || status === "planned" ? 0 : status === "refused" ? 3 : status === "interrupted" ? 130 : 1
