/**
 * `faultline run FILE --engine fis`: AWS FIS runs the experiment's faults from the template
 * `export fis` writes; faultline checks targets and guards first (the plan), samples the
 * hypotheses, checks abort conditions (an abort stops the FIS experiment), measures the RTO
 * from the experiment's start and writes the run folder. Loaded only when it runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Experiment from "../../core/Experiment.ts"
import { Run } from "../../core/Run.ts"
import * as ExperimentFile from "../../ExperimentFile.ts"
import { fisInput, fisMethod } from "../../export/Fis.ts"
import * as Integrations from "../../integrations.ts"
import { toTemplate } from "../../targets/aws/Fis.ts"
import { ledgerLayer } from "../Ledger.ts"
import { BadInput } from "../State.ts"
import { type RunArgs, runExperiment } from "./run.ts"

const ARN = /^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/

/**
 * Runs an experiment file with FIS as the engine that injects.
 *
 * @since 0.1.0
 */
export const runFis = (file: string, args: RunArgs) =>
  Effect.gen(function*() {
    if (!/\.(json|ya?ml)$/.test(file)) {
      return yield* new BadInput({ message: `${file}: --engine fis runs YAML/JSON experiment files (a module's method is code, not data)` })
    }
    const bad = (args.stopAlarms ?? []).find((a) => !ARN.test(a))
    if (bad !== undefined) {
      return yield* new BadInput({ message: `--stop-alarm ${bad}: not a CloudWatch alarm ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME)` })
    }
    const decoded = yield* ExperimentFile.load(file).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
    const exported = toTemplate(fisInput(decoded, { roleArn: args.roleArn, stopAlarms: args.stopAlarms }))
    // Every fault must be FIS's: a run that silently skipped one would claim what it did not do.
    const left = decoded.method.flatMap((step, i) =>
      "inject" in step && !exported.exported.includes(`method[${i}].inject`)
        ? [exported.unsupported.filter((u) => u.path.startsWith(`method[${i}]`)).map((u) => `${u.path}: ${u.reason}`).join("; ") || `method[${i}].inject`]
        : []
    )
    if (exported.template === null || left.length > 0) {
      return yield* new BadInput({ message: `${file}: --engine fis cannot run every fault: ${left.join("; ") || "no fault FIS runs"}` })
    }
    if (decoded.processes !== undefined && decoded.processes.length > 0) {
      return yield* new BadInput({ message: `${file}: --engine fis starts no local processes (processes:)` })
    }
    // What FIS does differently from faultline's own selection, said in the journal.
    const caveats = exported.unsupported.filter((u) => u.path.startsWith("method[") || u.path === "roleArn")
    const template = exported.template
    const drivers = yield* Integrations.layerFor(["aws"]).pipe(Effect.mapError((e) => new BadInput({ message: `${file}: ${e.message}` })))
    const runId = yield* Experiment.makeRunId
    const exp = ExperimentFile.toExperiment(decoded)
    const method = Effect.gen(function*() {
      const run = yield* Run
      for (const c of caveats) yield* run.journal.append({ _tag: "Note", message: `FIS engine: ${c.path}: ${c.reason}` })
      yield* fisMethod(template)
    })
    return yield* Effect.gen(function*() {
      // A fault that matches nothing is bad input found now, before FIS is asked anything.
      yield* ExperimentFile.resolveTargets(decoded).pipe(Effect.mapError((e) => new BadInput({ message: `${file}: ${e.message}` })))
      return yield* runExperiment({ ...exp, method }, { ...args, preflight: ExperimentFile.plan(decoded) }, runId)
    }).pipe(
      Effect.provide(drivers),
      Effect.provide(ledgerLayer(args.out)),
      Effect.mapError((e: unknown) => e instanceof BadInput ? e : new BadInput({ message: `${file}: ${e instanceof Error ? e.message : String(e)}` }))
    )
  })
