/**
 * Handlers of the EC2 faults: stop, reboot, terminate (one call per 1000 instance ids).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Handler from "../../core/Handler.ts"
import { Run } from "../../core/Run.ts"
import * as Target from "../../core/Target.ts"
import * as Wait from "../../core/Wait.ts"
import type { Call } from "./AwsApi.ts"
import { EC2_BATCH } from "./AwsDriver.ts"
import { AwsError } from "./AwsError.ts"
import type { AwsFault, Ec2Reboot, Ec2Stop, Ec2Terminate } from "./Faults.ts"
import { type AwsContext, chunks, tagsOf } from "./Shared.ts"

type Ec2 = "aws.ec2.stop" | "aws.ec2.reboot" | "aws.ec2.terminate"

const describeInstances = (call: Call, input: Record<string, unknown>, target: string) =>
  Effect.gen(function*() {
    const out: Array<any> = []
    let token: string | undefined
    do {
      const r = yield* call("ec2", "DescribeInstances", { ...input, ...(token ? { NextToken: token } : {}) }, target)
      for (const res of r.Reservations ?? []) out.push(...(res.Instances ?? []))
      token = r.NextToken
    } while (token)
    return out
  })

const discover = (ctx: AwsContext, fault: Ec2Stop | Ec2Reboot | Ec2Terminate) =>
  Effect.gen(function*() {
    const filters = (fault.filters ?? []).map((f) => ({ Name: f.name, Values: [...f.values] }))
    const instances = yield* describeInstances(ctx.call, filters.length ? { Filters: filters } : {}, "ec2 instances")
    return instances
      .filter((i) => i.State?.Name !== "terminated" && i.State?.Name !== "shutting-down")
      .filter((i) => fault.az === undefined || i.Placement?.AvailabilityZone === fault.az)
      .map((i) => {
        const tags = tagsOf(i.Tags)
        return Target.make({
          kind: "ec2-instance",
          id: i.InstanceId,
          name: tags.Name ?? i.InstanceId,
          labels: { ...tags, "aws:az": i.Placement?.AvailabilityZone ?? "", "aws:state": i.State?.Name ?? "" }
        })
      })
  })

const instanceState = (call: Call, id: string) =>
  Effect.map(
    describeInstances(call, { InstanceIds: [id] }, id).pipe(
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed([] as Array<any>))
    ),
    (is) => (is[0]?.State?.Name as string | undefined) ?? "absent"
  )

// The core refuses an irreversible fault the experiment did not acknowledge; the driver
// refuses it too when called outside such a run (defence in depth: a terminate cannot be
// taken back).
const refuseIrreversible = (targets: ReadonlyArray<Target.Target>) =>
  Effect.flatMap(Effect.serviceOption(Run), (run) =>
    run._tag === "Some" && run.value.irreversible === true
      ? Effect.void
      : Effect.fail(
        new AwsError({
          reason: "Irreversible",
          target: targets.map((t) => t.id).join(",") || "-",
          operation: "ec2.TerminateInstances",
          detail: "terminating instances cannot be undone; the experiment must say irreversible: true"
        })
      ))

const batch = (operation: string) => (ctx: AwsContext, fault: Ec2Stop | Ec2Reboot | Ec2Terminate, targets: ReadonlyArray<Target.Target>) =>
  Effect.gen(function*() {
    const ids = targets.map((t) => t.id)
    for (const chunk of chunks(ids, EC2_BATCH)) {
      const hibernate = fault._tag === "aws.ec2.stop" && fault.hibernate === true
      yield* ctx.call("ec2", operation, { InstanceIds: [...chunk], ...(hibernate ? { Hibernate: true } : {}) }, chunk.join(","))
    }
    return ids.map((instanceId) => ({ instanceId }))
  })

const instance = (_ctx: AwsContext, _fault: unknown, target: Target.Target) => Effect.succeed({ instanceId: target.id })

/**
 * The EC2 faults' handlers.
 *
 * @since 0.1.0
 */
export const ec2: Pick<Handler.Handlers<AwsContext, AwsFault, AwsError>, Ec2> = {
  "aws.ec2.stop": {
    discover,
    prepare: instance,
    injectBatch: batch("StopInstances"),
    // Starts it if stopped; running, pending, terminated or gone: nothing to undo.
    revert: (ctx, data) =>
      Effect.gen(function*() {
        const id = String(data.instanceId)
        if (!ctx.planning) {
          // StartInstances is refused while stopping: wait (on the Clock) for stopped.
          const state = yield* Wait.poll(instanceState(ctx.call, id), { every: "1 second", timeout: "10 minutes", done: (s) => s !== "stopping" })
          if (state !== "stopped") return
        }
        yield* ctx.call("ec2", "StartInstances", { InstanceIds: [id] }, id)
      })
  },
  // A reboot is over by itself: nothing to revert.
  "aws.ec2.reboot": { discover, prepare: instance, injectBatch: batch("RebootInstances") },
  // Irreversible (acknowledged by the experiment): nothing to revert.
  "aws.ec2.terminate": {
    discover,
    prepare: (ctx, fault, target) => Effect.andThen(refuseIrreversible([target]), instance(ctx, fault, target)),
    injectBatch: (ctx, fault, targets) => Effect.andThen(refuseIrreversible(targets), batch("TerminateInstances")(ctx, fault, targets))
  }
}
