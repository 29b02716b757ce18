/**
 * One attempt at a durable runbook drill on this runner: the runbook's system set up, its
 * steps run through the workflow's `around` (activities), into a run folder of its own with
 * the ledger and watchdog of any run, and drill.md/drill.json written at the end.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Experiment from "../core/Experiment.ts"
import { describeError } from "../core/Experiment.ts"
import * as PrivateFiles from "../core/PrivateFiles.ts"
import * as Answers from "../drill/Answers.ts"
import { Facilitator } from "../drill/Desk.ts"
import * as Drill from "../drill/Drill.ts"
import * as Runbook from "../drill/Runbook.ts"
import { isHuman } from "../drill/Step.ts"
import * as System from "../drill/System.ts"
import * as DrillTimeline from "../drill/Timeline.ts"
import * as DrillReport from "../report/DrillReport.ts"
import * as FileLedger from "../run/FileLedger.ts"
import * as Runner from "../run/Runner.ts"
import type { ProcessDriver } from "../targets/process/index.ts"
import type { ToxiproxyDriver } from "../targets/toxiproxy/index.ts"
import type { Payload } from "./DrillWorkflow.ts"

/**
 * Runs one attempt of a runbook drill into `out/runId`.
 *
 * @since 0.2.0
 */
export const run = (p: Payload, around: Drill.StepAround, runId: string, out: string, runner: string) =>
  Effect.gen(function*() {
    const rb = yield* Runbook.load(p.file).pipe(Effect.mapError((e) => e.message))
    const d = Drill.fromRunbook(rb)
    const script = p.answers === null ? null : yield* Answers.load(p.answers, d).pipe(Effect.mapError((e) => e.message))
    if (script === null && d.steps.some((s) => isHuman(s.spec))) {
      return yield* Effect.fail(`${p.file}: a durable drill has nobody at a terminal: its human steps need scripted answers (--answers)`)
    }
    const facilitator = script !== null
      ? Answers.facilitator(script)
      : Facilitator.of({ runner: { name: runner, user: null, via: "library" }, attach: () => Effect.void })
    const live = DrillReport.empty()
    const dir = path.resolve(out, runId)
    const { experiment, judge } = yield* Drill.toExperiment(d, facilitator.runner, { out: dir, around })
    const drivers = yield* System.drivers(rb).pipe(Effect.mapError((e) => `${p.file}: ${e.message}`))
    const outcome = yield* Effect.gen(function*() {
      yield* System.setUp(rb, runId)
      return yield* Runner.run(experiment as Experiment.Experiment<never>, {
        out,
        runId,
        judge,
        onEntry: (e) => DrillReport.step(live, e),
        timeline: DrillTimeline.options
      })
    }).pipe(
      Effect.provide(Layer.succeed(Facilitator, facilitator)),
      Effect.provide(drivers as unknown as Layer.Layer<ProcessDriver | ToxiproxyDriver>),
      Effect.provide(FileLedger.layer({ dir: path.join(out, "ledger") })),
      Effect.mapError((e: unknown) => `${p.file}: ${describeError(e)}`),
      Effect.ensuring(Effect.sync(() => {
        if (!fs.existsSync(dir)) return
        PrivateFiles.writeFile(path.join(dir, "drill.md"), DrillReport.toMarkdown(live))
        PrivateFiles.writeFile(path.join(dir, "drill.json"), JSON.stringify(live, null, 2) + "\n")
      }))
    )
    return { runId: outcome.result.runId, status: outcome.result.verdict.status }
  }).pipe(Effect.scoped)
