/**
 * The runner: runs an experiment into `<out>/<run-id>/` and writes `journal.jsonl`,
 * `report.json` and `report.md` there.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import { Effect } from "effect"
import * as Experiment from "../core/Experiment.ts"
import type { Entry } from "../core/Journal.ts"
import * as Report from "../report/Report.ts"

/** @since 0.1.0 */
export interface Outcome {
  readonly result: Experiment.RunResult
  readonly report: Report.Report
  readonly dir: string
}

/**
 * Runs an experiment and writes its report files. On interruption the faults are reverted
 * and the report of the interrupted run is still written before the interruption
 * propagates.
 *
 * @since 0.1.0
 */
export const run = <R>(
  experiment: Experiment.Experiment<R>,
  options: {
    readonly out?: string
    readonly runId?: string
    readonly dryRun?: boolean
    readonly onEntry?: (entry: Entry) => void
  } = {}
): Effect.Effect<Outcome, never, R> =>
  Effect.gen(function*() {
    const runId = options.runId ?? (yield* Experiment.makeRunId)
    const dir = path.resolve(options.out ?? "faultline-runs", runId)
    const seen: Array<Entry> = []
    const result = yield* Experiment.run(experiment, {
      runId,
      dir,
      dryRun: options.dryRun ?? false,
      onEntry: (e) => {
        seen.push(e)
        options.onEntry?.(e)
      }
    }).pipe(Effect.onInterrupt(() => Effect.sync(() => Report.write(dir, seen))))
    const report = Report.write(dir, result.entries)
    return { result, report, dir }
  })
