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
  /** A dry run: targets resolved and guards checked; nothing injected, probed or measured. */
  readonly dryRun: boolean
  readonly beforeMet: boolean
  readonly method: { readonly outcome: "completed" | "failed" | "aborted" | "skipped" | "refused"; readonly detail: string }
  readonly afterMet: boolean
  /** Hypotheses whose steady state did not hold during the method, where it counts. */
  readonly duringMissed: ReadonlyArray<string>
  readonly objectivesMissed: ReadonlyArray<string>
  readonly cleanupFailed: boolean
}

/**
 * Decides the verdict: interrupted; a guard's refusal (refused); steady state not met before
 * (deviated, nothing injected); a failing method or injection (failed); a dry run that got
 * this far (planned — never passed); an abort (aborted); the hypothesis after, during (where
 * it counts) or a missed objective (deviated); otherwise passed.
 *
 * The rule for *during*: each hypothesis is judged during the method by its tolerance, or by
 * the relaxed `during` tolerance it declares; one that says `during: "observe"` is reported
 * but not judged; one whose outage an RTO stopwatch times, with an RTO objective, is judged
 * by that objective instead.
 *
 * @since 0.1.0
 */
export const decide = (o: Observed): Verdict => {
  const cleanup: Cleanup = o.cleanupFailed ? "failed" : "ok"
  if (o.interrupted) return { status: "interrupted", cleanup, reason: "the run was interrupted" }
  if (o.method.outcome === "refused") return { status: "refused", cleanup, reason: o.method.detail }
  if (!o.beforeMet) return { status: "deviated", cleanup, reason: "steady state not met before the method; no fault injected" }
  if (o.method.outcome === "failed") return { status: "failed", cleanup, reason: o.method.detail }
  if (o.dryRun) {
    return { status: "planned", cleanup, reason: "dry run: targets resolved and guards passed; nothing was injected, probed or measured" }
  }
  if (o.method.outcome === "aborted") return { status: "aborted", cleanup, reason: o.method.detail }
  if (!o.afterMet) return { status: "deviated", cleanup, reason: "steady state not met after the faults were reverted" }
  if (o.duringMissed.length > 0) return { status: "deviated", cleanup, reason: `steady state not met during the method: ${o.duringMissed.join("; ")}` }
  if (o.objectivesMissed.length > 0) return { status: "deviated", cleanup, reason: o.objectivesMissed.join("; ") }
  return { status: "passed", cleanup, reason: "steady state held before, during and after; objectives met" }
}
