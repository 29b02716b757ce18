/**
 * The runner: runs an experiment into `<out>/<run-id>/`, streaming `journal.jsonl` to disk,
 * and writes `report.json`, `report.md` and `report.html` there, folded from the journal file. Nothing in
 * it grows with the length of the run but the file.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Experiment from "../core/Experiment.ts"
import type { Entry } from "../core/Journal.ts"
import * as Html from "../report/Html.ts"
import type * as Timeline from "../report/Timeline.ts"
import * as Report from "../report/Report.ts"
import * as FileJournal from "./FileJournal.ts"

/** @since 0.1.0 */
export interface Outcome {
  readonly result: Experiment.RunResult
  readonly report: Report.Report
  readonly dir: string
}

/**
 * Folds the report and the timeline of a run from its journal file (one pass, one line at a
 * time) and writes `report.json`, `report.md` and `report.html` beside it.
 *
 * @since 0.1.0
 */
export const writeReport = (dir: string, timeline: Timeline.Options = {}) =>
  Effect.flatMap(
    FileJournal.fold(path.join(dir, "journal.jsonl"), Html.fold(timeline)),
    (evidence) => Effect.andThen(Html.write(dir, evidence), Report.write(dir, evidence.report))
  )

/**
 * Runs an experiment and writes its report files. On interruption the faults are reverted
 * and the report of the interrupted run is still written before the interruption
 * propagates. `keepEntries` (default false) also returns every entry in `result.entries`
 * (a dry run's plan); otherwise the run keeps only its sampler windows in memory.
 *
 * @since 0.1.0
 */
export const run = <R>(
  experiment: Experiment.Experiment<R>,
  options: {
    readonly out?: string
    readonly runId?: string
    readonly dryRun?: boolean
    readonly keepEntries?: boolean
    readonly onEntry?: (entry: Entry) => void
    /** Planning before any probe runs (see `Experiment.RunOptions.preflight`). */
    readonly preflight?: Effect.Effect<void, unknown, any>
    /** Objectives the caller judges (see `Experiment.RunOptions.judge`). */
    readonly judge?: Effect.Effect<ReadonlyArray<string>>
    /** How report.html's timeline reads the journal (a drill's steps). */
    readonly timeline?: Timeline.Options
    /**
     * Called with the run folder once its report is written (also after an interruption):
     * e.g. indexing the run into the history database. It runs after the folder is complete,
     * so a failing index never loses the run.
     */
    readonly afterReport?: (dir: string) => Effect.Effect<void>
  } = {}
): Effect.Effect<Outcome, never, R> =>
  Effect.gen(function*() {
    const runId = options.runId ?? (yield* Experiment.makeRunId)
    const dir = path.resolve(options.out ?? "faultline-runs", runId)
    const result = yield* Effect.scoped(Effect.gen(function*() {
      const storage = yield* FileJournal.open(path.join(dir, "journal.jsonl"))
      return yield* Experiment.run(experiment, {
        runId,
        storage,
        dryRun: options.dryRun ?? false,
        keepEntries: options.keepEntries ?? false,
        ...(options.onEntry ? { onEntry: options.onEntry } : {}),
        ...(options.preflight ? { preflight: options.preflight } : {}),
        ...(options.judge ? { judge: options.judge } : {})
      })
    })).pipe(Effect.onInterrupt(() => Effect.andThen(Effect.ignore(writeReport(dir, options.timeline)), options.afterReport?.(dir) ?? Effect.void)))
    const report = yield* writeReport(dir, options.timeline)
    if (options.afterReport) yield* options.afterReport(dir)
    return { result, report, dir }
    // Run folders are local directories: the runner writes them through Node's file system.
  }).pipe(Effect.orDie, Effect.provide(NodeFileSystem.layer))
