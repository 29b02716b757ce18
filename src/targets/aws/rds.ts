/**
 * Handlers of the RDS faults: a cluster failover (optionally failing back on revert) and a
 * Multi-AZ reboot with failover.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Handler from "../../core/Handler.ts"
import * as Target from "../../core/Target.ts"
import type { AwsError } from "./AwsError.ts"
import type { AwsFault } from "./Faults.ts"
import { type AwsContext, tagsOf } from "./Shared.ts"

type Rds = "aws.rds.failoverCluster" | "aws.rds.rebootWithFailover"

const writerOf = (cluster: any): string | undefined => (cluster?.DBClusterMembers ?? []).find((m: any) => m.IsClusterWriter)?.DBInstanceIdentifier

const clusters = (ctx: AwsContext) =>
  Effect.gen(function*() {
    const r = yield* ctx.call("rds", "DescribeDBClusters", {}, "rds clusters")
    return (r.DBClusters ?? []).map((c: any) =>
      Target.make({
        kind: "rds-cluster",
        id: c.DBClusterIdentifier,
        name: c.DBClusterIdentifier,
        labels: { ...tagsOf(c.TagList), "aws:status": c.Status ?? "", "aws:writer": writerOf(c) ?? "" }
      })
    )
  })

const instances = (ctx: AwsContext) =>
  Effect.gen(function*() {
    const r = yield* ctx.call("rds", "DescribeDBInstances", {}, "rds instances")
    return (r.DBInstances ?? []).map((i: any) =>
      Target.make({
        kind: "rds-instance",
        id: i.DBInstanceIdentifier,
        name: i.DBInstanceIdentifier,
        labels: {
          ...tagsOf(i.TagList),
          "aws:az": i.AvailabilityZone ?? "",
          "aws:status": i.DBInstanceStatus ?? "",
          ...(i.DBClusterIdentifier ? { "aws:cluster": i.DBClusterIdentifier } : {})
        }
      })
    )
  })

/**
 * The RDS faults' handlers.
 *
 * @since 0.1.0
 */
export const rds: Pick<Handler.Handlers<AwsContext, AwsFault, AwsError>, Rds> = {
  "aws.rds.failoverCluster": {
    discover: clusters,
    // The previous writer, known before the failover: where a fail-back goes.
    prepare: (_ctx, fault, target) =>
      Effect.succeed({ clusterId: target.id, previousWriter: target.labels["aws:writer"] ?? "", failBack: fault.failBack === true }),
    inject: (ctx, fault, t) =>
      Effect.as(
        ctx.call("rds", "FailoverDBCluster", {
          DBClusterIdentifier: t.id,
          ...(fault.targetInstance ? { TargetDBInstanceIdentifier: fault.targetInstance } : {})
        }, t.name),
        { clusterId: t.id }
      ),
    // The failover is its own recovery; with `failBack`, fail back to the previous writer.
    revert: (ctx, d) =>
      Effect.gen(function*() {
        if (!d.failBack || !d.previousWriter) return
        const clusterId = String(d.clusterId)
        if (!ctx.planning) {
          const c = yield* ctx.call("rds", "DescribeDBClusters", { DBClusterIdentifier: clusterId }, clusterId)
          if (writerOf(c.DBClusters?.[0]) === d.previousWriter) return
        }
        yield* ctx.call("rds", "FailoverDBCluster", { DBClusterIdentifier: clusterId, TargetDBInstanceIdentifier: d.previousWriter }, clusterId)
      })
  },
  // Over by itself: nothing to revert.
  "aws.rds.rebootWithFailover": {
    discover: instances,
    prepare: (_ctx, _fault, target) => Effect.succeed({ instanceId: target.id }),
    inject: (ctx, _fault, t) =>
      Effect.as(ctx.call("rds", "RebootDBInstance", { DBInstanceIdentifier: t.id, ForceFailover: true }, t.name), { instanceId: t.id })
  }
}
