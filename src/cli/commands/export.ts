/**
 * `faultline export fis FILE`: the FIS experiment template of an experiment file, and the
 * list of what FIS cannot express. Loaded only when it runs.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import * as ExperimentFile from "../../ExperimentFile.ts"
import { fisInput } from "../../export/Fis.ts"
import { toTemplate } from "../../targets/aws/Fis.ts"
import { BadInput, state } from "../State.ts"

/** The flags of `faultline export fis`. @since 0.1.0 */
export interface FisArgs {
  readonly experiment: string
  readonly out: string | undefined
  readonly roleArn: string | undefined
  readonly stopAlarms: ReadonlyArray<string>
  readonly region: string | undefined
  readonly account: string | undefined
  readonly json: boolean
}

const ARN = /^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/

/**
 * Writes the template (stdout or `--out`) and names, on stderr, every part of the experiment
 * FIS cannot express; exit 2 when no fault can be exported.
 *
 * @since 0.1.0
 */
export const fis = (args: FisArgs) =>
  Effect.gen(function*() {
    if (!/\.(ya?ml|json)$/i.test(args.experiment)) {
      return yield* new BadInput({ message: `${args.experiment}: export fis reads YAML/JSON experiment files (a module's method is code, not data)` })
    }
    const bad = args.stopAlarms.find((a) => !ARN.test(a))
    if (bad !== undefined) {
      return yield* new BadInput({ message: `--stop-alarm ${bad}: not a CloudWatch alarm ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME)` })
    }
    if (args.account !== undefined && !/^\d{12}$/.test(args.account)) {
      return yield* new BadInput({ message: `--account ${args.account}: not a 12-digit AWS account id` })
    }
    const file = yield* ExperimentFile.load(args.experiment).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
    const result = toTemplate(fisInput(file, args))
    if (args.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + "\n")
    } else if (result.template !== null) {
      const text = JSON.stringify(result.template, null, 2) + "\n"
      if (args.out === undefined) process.stdout.write(text)
      else {
        yield* Effect.try({
          try: () => fs.writeFileSync(args.out!, text),
          catch: (e) => new BadInput({ message: `--out ${args.out}: ${(e as Error).message}` })
        })
        process.stderr.write(`wrote ${args.out}: ${result.exported.length} fault(s) as FIS actions\n`)
      }
    }
    if (result.unsupported.length > 0) {
      process.stderr.write(`not expressible in FIS (${result.unsupported.length}):\n${result.unsupported.map((u) => `  ${u.path}: ${u.reason}`).join("\n")}\n`)
    }
    if (result.template === null) {
      return yield* new BadInput({
        message:
          `${args.experiment}: nothing to export: FIS runs none of its faults (it can run ${"aws.ec2.stop/reboot/terminate, aws.rds.failoverCluster/rebootWithFailover"})`
      })
    }
    state.exitCode = 0
  })
