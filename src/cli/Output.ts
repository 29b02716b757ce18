/**
 * What a run prints: live lines on stderr while it runs, then the summary (or the JSON
 * report) and the exit code of its verdict.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Journal from "../core/Journal.ts"
import type * as Runner from "../run/Runner.ts"
import { exitCodeOf } from "./ExitCode.ts"
import { state } from "./State.ts"
import { liveLine, summary } from "./Summary.ts"

/**
 * The journal listener that prints a live line per important event (none with `--json`).
 *
 * @since 0.1.0
 */
export const live = (asJson: boolean) => {
  let t0: number | null = null
  return (e: Journal.Entry) => {
    if (asJson) return
    t0 ??= e.mono
    const line = liveLine(e, t0)
    if (line) process.stderr.write(`${line}\n`)
  }
}

/**
 * Prints a finished run and sets the exit code of its verdict.
 *
 * @since 0.1.0
 */
export const finish = (o: Runner.Outcome, asJson: boolean) =>
  Effect.sync(() => {
    if (asJson) process.stdout.write(JSON.stringify(o.report, null, 2) + "\n")
    else process.stdout.write(`\n${summary(o.report, o.dir)}\n`)
    state.exitCode = exitCodeOf(o.result.verdict.status)
  })
