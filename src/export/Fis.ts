/**
 * An experiment file as the input of the FIS export: its method's steps in order, its guards,
 * and what FIS cannot express (hypotheses and their tolerances, abort conditions other than
 * CloudWatch alarms, RTO/RPO stopwatches and objectives, processes).
 *
 * @since 0.1.0
 */
import type { ExperimentFile } from "../ExperimentFile.ts"
import { guardsOf } from "../ExperimentFile.ts"
import { type FisInput, type FisStep, millisOf, type Unsupported } from "../targets/aws/Fis.ts"

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
  ...(f.abort ?? []).map((a, i) => ({ path: `abort[${i}]`, reason: `FIS stops only on CloudWatch alarms (--stop-alarm); ${Object.keys(a)[0]} is not exported` })),
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
