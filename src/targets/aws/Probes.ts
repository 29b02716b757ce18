/**
 * AWS probes: EC2 instance state, RDS cluster status and writer, Route 53 change status.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Duration from "effect/Duration"
import * as Probe from "../../core/Probe.ts"
import { AwsDriver } from "./AwsDriver.ts"
import { AwsError } from "./AwsError.ts"

/**
 * The state of an EC2 instance (`running`, `stopped`, ...); with `expect`, good only in that state.
 *
 * @since 0.1.0
 */
export const ec2InstanceState = (instanceId: string, options?: { readonly expect?: string; readonly timeout?: Duration.Input }) =>
  Probe.make(
    `ec2 state ${instanceId}`,
    Effect.gen(function*() {
      const aws = yield* AwsDriver
      const r = yield* aws.call("ec2", "DescribeInstances", { InstanceIds: [instanceId] }, instanceId)
      const state = r.Reservations?.[0]?.Instances?.[0]?.State?.Name ?? "absent"
      if (options?.expect !== undefined && state !== options.expect) {
        return yield* new AwsError({ reason: "InvalidState", target: instanceId, operation: "probe", detail: `${state}, expected ${options.expect}` })
      }
      return state
    }),
    { timeout: options?.timeout ?? "5 seconds", spec: { kind: "aws.ec2.state", params: { instanceId, expect: options?.expect ?? null } } }
  )

/** Status and current writer of an RDS cluster. @since 0.1.0 */
export interface ClusterStatus {
  readonly status: string
  readonly writer: string | null
}

/**
 * Reads an RDS cluster's status and current writer (no probe wrapper).
 *
 * @since 0.1.0
 */
export const clusterStatus = (clusterId: string): Effect.Effect<ClusterStatus, AwsError, AwsDriver> =>
  Effect.gen(function*() {
    const aws = yield* AwsDriver
    const r = yield* aws.call("rds", "DescribeDBClusters", { DBClusterIdentifier: clusterId }, clusterId)
    const c = r.DBClusters?.[0]
    if (c === undefined) return yield* new AwsError({ reason: "NotFound", target: clusterId, operation: "probe", detail: "no such cluster" })
    const writer = (c.DBClusterMembers ?? []).find((m: any) => m.IsClusterWriter)?.DBInstanceIdentifier ?? null
    return { status: String(c.Status), writer }
  })

/**
 * An RDS cluster's status and writer; good when `available` (and, with `writer`, when that
 * instance is the writer — so a hypothesis can time a failover to a given instance).
 *
 * @since 0.1.0
 */
export const rdsCluster = (clusterId: string, options?: { readonly writer?: string; readonly timeout?: Duration.Input }) =>
  Probe.make(
    `rds cluster ${clusterId}`,
    Effect.gen(function*() {
      const s = yield* clusterStatus(clusterId)
      if (s.status !== "available") {
        return yield* new AwsError({ reason: "InvalidState", target: clusterId, operation: "probe", detail: `status ${s.status}` })
      }
      if (options?.writer !== undefined && s.writer !== options.writer) {
        return yield* new AwsError({ reason: "InvalidState", target: clusterId, operation: "probe", detail: `writer ${s.writer}, expected ${options.writer}` })
      }
      return s
    }),
    { timeout: options?.timeout ?? "5 seconds", spec: { kind: "aws.rds.cluster", params: { clusterId, writer: options?.writer ?? null } } }
  )

/**
 * The status of a Route 53 change (`PENDING` or `INSYNC`); good when `INSYNC`.
 *
 * @since 0.1.0
 */
export const route53Change = (changeId: string, options?: { readonly timeout?: Duration.Input }) =>
  Probe.make(
    `route53 change ${changeId}`,
    Effect.gen(function*() {
      const aws = yield* AwsDriver
      const r = yield* aws.call("route53", "GetChange", { Id: changeId }, changeId)
      const status = String(r.ChangeInfo?.Status)
      if (status !== "INSYNC") return yield* new AwsError({ reason: "InvalidState", target: changeId, operation: "probe", detail: status })
      return status
    }),
    { timeout: options?.timeout ?? "5 seconds", spec: { kind: "aws.route53.change", params: { changeId } } }
  )

/**
 * Waits (on the Clock) until a Route 53 change is `INSYNC`; returns how many polls it took.
 *
 * @since 0.1.0
 */
export const awaitInsync = (changeId: string, options?: { readonly every?: Duration.Input; readonly times?: number }) =>
  Effect.gen(function*() {
    const aws = yield* AwsDriver
    let polls = 0
    yield* Effect.suspend(() => {
      polls++
      return aws.call("route53", "GetChange", { Id: changeId }, changeId)
    }).pipe(
      Effect.flatMap((r: any) =>
        r.ChangeInfo?.Status === "INSYNC"
          ? Effect.void
          : Effect.fail(new AwsError({ reason: "InvalidState", target: changeId, operation: "route53.GetChange", detail: String(r.ChangeInfo?.Status) }))
      ),
      Effect.retry({ schedule: Schedule.spaced(options?.every ?? "1 second"), times: options?.times ?? 120, while: (e) => e.reason === "InvalidState" })
    )
    return polls
  })
