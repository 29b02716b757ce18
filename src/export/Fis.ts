/**
 * An experiment file as the input of the FIS export: its method's steps in order, its guards,
 * and what FIS cannot express (hypotheses and their tolerances, abort conditions other than
 * CloudWatch alarms, RTO/RPO stopwatches and objectives, processes).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fault from "../core/Fault.ts"
import * as Selector from "../core/Selector.ts"
import type { ExperimentFile } from "../ExperimentFile.ts"
import { guardsOf } from "../ExperimentFile.ts"
import { FisExperiment } from "../targets/aws/Faults.ts"
import { type FisInput, type FisStep, type FisTemplate, millisOf, type Unsupported } from "../targets/aws/Fis.ts"
import { awaitExperiment } from "../targets/aws/fisRun.ts"

/** Flags of `faultline export fis`. @since 0.1.0 */
export interface FisOptions {
  readonly roleArn?: string | undefined
  readonly stopAlarms?: ReadonlyArray<string> | undefined
  readonly region?: string | undefined
  readonly account?: string | undefined
}

const notExported = (f: ExperimentFile): Array<Unsupported> => [
  ...f.hypothesis.map((h, i) => ({
    path: `hypothesis[${i}]`,
    reason: `FIS has no steady-state hypothesis: "${h.name}" and its tolerances are not checked (run it with faultline, or stop FIS on a CloudWatch alarm)`
  })),
  ...(f.abort ?? []).map((a, i) => ({
    path: `abort[${i}]`,
    reason: `FIS stops only on CloudWatch alarms (--stop-alarm); ${Object.keys(a)[0]} is not exported`
  })),
  ...(f.stopwatches?.rto ? [{ path: "stopwatches.rto", reason: "FIS measures no RTO" }] : []),
  ...(f.objectives?.rto ? [{ path: "objectives.rto", reason: "FIS judges no RTO objective" }] : []),
  ...(f.objectives?.rpo ? [{ path: "objectives.rpo", reason: "FIS measures no RPO" }] : []),
  ...(f.processes ?? []).length > 0 ? [{ path: "processes", reason: "FIS starts no local processes" }] : []
]

/**
 * The FIS export's input for a decoded experiment file.
 *
 * @since 0.1.0
 */
export const fisInput = (f: ExperimentFile, options: FisOptions): FisInput => ({
  name: f.name,
  description: f.description,
  steps: f.method.map((step, i): FisStep =>
    "inject" in step
      ? { _tag: "Inject", fault: step.inject, path: `method[${i}].inject` }
      : { _tag: "Sleep", millis: millisOf(step.sleep as Parameters<typeof millisOf>[0]), path: `method[${i}].sleep` }
  ),
  guards: guardsOf(f),
  replaceDefaultGuards: f.replaceDefaultGuards,
  stopAlarms: options.stopAlarms,
  roleArn: options.roleArn,
  region: options.region,
  account: options.account,
  notExported: notExported(f)
})

/**
 * The method of `faultline run --engine fis`: FIS runs the template (created, started and
 * reverted as the fault `aws.fis.experiment`, so the ledger and the watchdog cover it) while
 * faultline samples the hypotheses, checks abort conditions and times the RTO from the
 * start of the FIS experiment. An abort or an interrupt reverts it: FIS stops the experiment.
 *
 * @since 0.1.0
 */
export const fisMethod = (template: FisTemplate, every: Duration.Input = "1 second") =>
  Effect.gen(function*() {
    const injections = yield* Fault.inject(new FisExperiment({ target: Selector.all, template: template as unknown as Record<string, unknown> }))
    const id = injections[0]?.revert.data.experimentId
    // A dry run injects nothing: its plan lists the calls.
    if (typeof id !== "string") return
    yield* awaitExperiment(id, every)
  })
