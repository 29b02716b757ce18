/**
 * Verdicts: what happened, precisely. Cleanup is kept apart from the verdict so a failed
 * revert never hides what the experiment found.
 *
 * @since 0.1.0
 */
import type { Status } from "./Journal.ts"

export type { Status }

/** @since 0.1.0 */
export type Cleanup = "ok" | "failed"

/** @since 0.1.0 */
export interface Verdict {
  readonly status: Status
  readonly cleanup: Cleanup
  readonly reason: string
}

/** What the engine observed, in the order it decides by. @since 0.1.0 */
export interface Observed {
  readonly interrupted: boolean
  readonly beforeMet: boolean
  readonly method: { readonly outcome: "completed" | "failed" | "aborted" | "skipped"; readonly detail: string }
  readonly afterMet: boolean
  readonly objectivesMissed: ReadonlyArray<string>
  readonly cleanupFailed: boolean
}

/**
 * Decides the verdict: interrupted, then steady state not met before (deviated, nothing
 * injected), then a failing method or injection (failed), then an abort (aborted), then
 * the hypothesis after or a missed objective (deviated); otherwise passed.
 *
 * @since 0.1.0
 */
export const decide = (o: Observed): Verdict => {
  const cleanup: Cleanup = o.cleanupFailed ? "failed" : "ok"
  if (o.interrupted) return { status: "interrupted", cleanup, reason: "the run was interrupted" }
  if (!o.beforeMet) return { status: "deviated", cleanup, reason: "steady state not met before the method; no fault injected" }
  if (o.method.outcome === "failed") return { status: "failed", cleanup, reason: o.method.detail }
  if (o.method.outcome === "aborted") return { status: "aborted", cleanup, reason: o.method.detail }
  if (!o.afterMet) return { status: "deviated", cleanup, reason: "steady state not met after the faults were reverted" }
  if (o.objectivesMissed.length > 0) return { status: "deviated", cleanup, reason: o.objectivesMissed.join("; ") }
  return { status: "passed", cleanup, reason: "steady state held before and after; objectives met" }
}
