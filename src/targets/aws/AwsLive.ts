/**
 * The AWS driver's implementation over the SDK v3 clients: one handler per fault (ec2.ts,
 * rds.ts, route53.ts), each over a `Call`, so a dry run is the same code over a recorder.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { PlannedCall } from "../../core/Driver.ts"
import * as Handler from "../../core/Handler.ts"
import type { Revert } from "../../core/Journal.ts"
import type * as Target from "../../core/Target.ts"
import { type AwsConfig, type Call, makeClients, type Recorded, recorder, sender } from "./AwsApi.ts"
import { AwsDriver, safeEndpoint } from "./AwsDriver.ts"
import { AwsError, toDriverError } from "./AwsError.ts"
import { ec2 } from "./ec2.ts"
import { fis } from "./fisRun.ts"
import type { AwsFault } from "./Faults.ts"
import { rds } from "./rds.ts"
import { route53 } from "./route53.ts"
import type { AwsContext } from "./Shared.ts"

const notAws = (tag: string, operation: string) => new AwsError({ reason: "InvalidInput", target: "-", operation, detail: `not an AWS fault: ${tag}` })

// The calls a fault would make on these targets, made with a recorder: read-only look-ups
// are sent, mutating calls only listed; the revert assumes the fault landed.
const planCalls = (ctx: AwsContext, fault: AwsFault, targets: ReadonlyArray<Target.Target>) =>
  Effect.gen(function*() {
    const calls: Array<Recorded> = []
    const phase = { current: "prepare" as Recorded["phase"] }
    const rec: AwsContext = { call: recorder(ctx.call, calls, phase), planning: true }
    const prepared = yield* Effect.forEach(targets, (t) => awsFaults.prepare(rec, fault, t))
    phase.current = "inject"
    const datas = yield* awsFaults.injectBatch(rec, fault, targets)
    phase.current = "revert"
    for (let i = 0; i < targets.length; i++) {
      yield* awsFaults.revert(rec, fault._tag, { ...prepared[i], ...datas[i] }, targets[i])
    }
    return calls as ReadonlyArray<PlannedCall>
  })

/**
 * The AWS faults' operations: EC2 ids go in one call per 1000; other services take one
 * call per target.
 *
 * @since 0.1.0
 */
export const awsFaults: Handler.Dispatch<AwsContext, AwsFault, AwsError> = Handler.dispatch<AwsContext, AwsFault, AwsError>(
  { ...ec2, ...rds, ...route53, ...fis },
  {
    discover: (_ctx, fault) => Effect.fail(notAws(String((fault as { readonly _tag?: unknown } | null)?._tag), "discover")),
    plan: planCalls,
    unknown: notAws
  }
)

const sending = (call: Call): AwsContext => ({ call, planning: false })

/**
 * Lists the candidate targets of an AWS fault (read-only calls only).
 *
 * @since 0.1.0
 */
export const discover = (call: Call, fault: AwsFault): Effect.Effect<ReadonlyArray<Target.Target>, AwsError> => awsFaults.discover(sending(call), fault)

/**
 * Revert data known before anything is touched and safe whether or not the injection
 * lands: for a weight change, the previous record set exactly; for a health check, its
 * previous `Inverted`; for a failover, the previous writer.
 *
 * @since 0.1.0
 */
export const prepare = (call: Call, fault: AwsFault, target: Target.Target): Effect.Effect<Record<string, unknown>, AwsError> =>
  awsFaults.prepare(sending(call), fault, target)

/**
 * Injects one fault into many targets; returns per-target revert data, in order.
 *
 * @since 0.1.0
 */
export const injectBatch = (
  call: Call,
  fault: AwsFault,
  targets: ReadonlyArray<Target.Target>
): Effect.Effect<ReadonlyArray<Record<string, unknown>>, AwsError> => awsFaults.injectBatch(sending(call), fault, targets)

/**
 * Reverts from revert data alone (used in process and by the watchdog). Idempotent: it
 * looks first and changes only what the fault left changed. With `planning`, it assumes
 * the fault landed and only names the calls (for dry-run plans).
 *
 * @since 0.1.0
 */
export const revert = (call: Call, r: Revert, planning = false): Effect.Effect<void, AwsError> =>
  awsFaults.revert({ call, planning }, r.fault, r.data, r.target)

/**
 * The calls a fault would make on these targets, made with a recorder: read-only
 * look-ups are sent, mutating calls only listed.
 *
 * @since 0.1.0
 */
export const plan = (send: Call, fault: AwsFault, targets: ReadonlyArray<Target.Target>) => planCalls(sending(send), fault, targets)

/**
 * Makes the driver for a config.
 *
 * @since 0.1.0
 */
export const make = (config: AwsConfig): AwsDriver["Service"] => {
  const clients = makeClients(config)
  const call = sender(clients)
  return AwsDriver.of({
    name: "aws",
    // What the watchdog needs to reach AWS again; the SDK's provider chain supplies credentials.
    connection: { region: config.region, endpoint: safeEndpoint(config.endpoint) ?? null },
    config,
    clients,
    call,
    ...Handler.bind(awsFaults, sending(call), (e, at) => toDriverError(e, { operation: at.operation, target: e.target, detail: `${e.operation}: ${e.detail}` }))
  })
}
