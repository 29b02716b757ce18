/**
 * The boundary to the AWS SDK v3: one client per service, every call by operation name
 * (so calls are data — what a dry-run plan lists), throttling retried with exponential
 * backoff and jitter on the Effect Clock, every exception mapped to `AwsError`.
 *
 * @since 0.1.0
 */
import * as EC2 from "@aws-sdk/client-ec2"
import * as RDS from "@aws-sdk/client-rds"
import * as Route53 from "@aws-sdk/client-route-53"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { AwsError, fromSdk } from "./AwsError.ts"

/**
 * Where the clients go. Credentials are never part of it: the SDK's default provider chain
 * supplies them (environment, shared config, SSO, instance role).
 *
 * @since 0.1.0
 */
export interface AwsConfig {
  readonly region: string
  /** An endpoint override (moto, LocalStack, a VPC endpoint); never carries credentials. */
  readonly endpoint?: string | undefined
}

/** @since 0.1.0 */
export type Service = "ec2" | "rds" | "route53"

const commands = {
  ec2: {
    DescribeInstances: [EC2.DescribeInstancesCommand, false],
    StopInstances: [EC2.StopInstancesCommand, true],
    StartInstances: [EC2.StartInstancesCommand, true],
    RebootInstances: [EC2.RebootInstancesCommand, true],
    TerminateInstances: [EC2.TerminateInstancesCommand, true]
  },
  rds: {
    DescribeDBClusters: [RDS.DescribeDBClustersCommand, false],
    DescribeDBInstances: [RDS.DescribeDBInstancesCommand, false],
    FailoverDBCluster: [RDS.FailoverDBClusterCommand, true],
    RebootDBInstance: [RDS.RebootDBInstanceCommand, true]
  },
  route53: {
    ListResourceRecordSets: [Route53.ListResourceRecordSetsCommand, false],
    ChangeResourceRecordSets: [Route53.ChangeResourceRecordSetsCommand, true],
    GetChange: [Route53.GetChangeCommand, false],
    GetHealthCheck: [Route53.GetHealthCheckCommand, false],
    ListHealthChecks: [Route53.ListHealthChecksCommand, false],
    UpdateHealthCheck: [Route53.UpdateHealthCheckCommand, true],
    ListTagsForResource: [Route53.ListTagsForResourceCommand, false]
  }
} as const

/** Whether an operation changes anything (a dry run never sends one). @since 0.1.0 */
export const isMutating = (service: Service, operation: string): boolean =>
  (commands[service] as Record<string, readonly [unknown, boolean]>)[operation]?.[1] ?? true

/**
 * The SDK clients of one region/endpoint. Built lazily per service; `maxAttempts: 1`
 * because retries are ours (on the Effect Clock, observable, journaled as one call).
 *
 * @since 0.1.0
 */
export interface Clients {
  readonly config: AwsConfig
  readonly ec2: EC2.EC2Client
  readonly rds: RDS.RDSClient
  readonly route53: Route53.Route53Client
}

/** Builds the clients of a config. @since 0.1.0 */
export const makeClients = (config: AwsConfig): Clients => {
  const base = { region: config.region, maxAttempts: 1, ...(config.endpoint ? { endpoint: config.endpoint } : {}) }
  let ec2: EC2.EC2Client | undefined
  let rds: RDS.RDSClient | undefined
  let route53: Route53.Route53Client | undefined
  return {
    config,
    get ec2() {
      return (ec2 ??= new EC2.EC2Client(base))
    },
    get rds() {
      return (rds ??= new RDS.RDSClient(base))
    },
    get route53() {
      return (route53 ??= new Route53.Route53Client(base))
    }
  }
}

/**
 * How a call is made: sent, or (in a dry run) recorded when it would mutate.
 *
 * @since 0.1.0
 */
export type Call = (
  service: Service,
  operation: string,
  input: Record<string, unknown>,
  target: string
) => Effect.Effect<any, AwsError>

/** Retry policy for throttling: exponential from 100 ms, jittered, 5 retries. @since 0.1.0 */
export const throttleSchedule = Schedule.exponential("100 millis", 2).pipe(Schedule.jittered)

/** How many times a throttled call is retried. @since 0.1.0 */
export const THROTTLE_RETRIES = 5

/**
 * A `Call` that sends through the clients, retrying throttled calls.
 *
 * @since 0.1.0
 */
export const sender = (clients: Clients): Call => (service, operation, input, target) => {
  const entry = (commands[service] as Record<string, readonly [new(input: any) => any, boolean]>)[operation]
  if (entry === undefined) {
    return Effect.fail(new AwsError({ reason: "InvalidInput", target, operation, detail: `unknown ${service} operation` }))
  }
  const Command = entry[0]
  const client = clients[service] as { send: (c: unknown, o?: { abortSignal?: AbortSignal }) => Promise<unknown> }
  return Effect.tryPromise({
    try: (signal) => client.send(new Command(input), { abortSignal: signal }),
    catch: (e) => fromSdk(e, `${service}.${operation}`, target)
  }).pipe(
    Effect.retry({ schedule: throttleSchedule, times: THROTTLE_RETRIES, while: (e) => e.reason === "Throttled" })
  )
}

/** One recorded call. @since 0.1.0 */
export interface Recorded {
  readonly phase: "prepare" | "inject" | "revert"
  readonly service: string
  readonly operation: string
  readonly mutating: boolean
  readonly params: unknown
}

/**
 * A `Call` for dry runs: read-only calls are sent (and listed), mutating calls are only
 * listed and answer `{}`.
 *
 * @since 0.1.0
 */
export const recorder = (send: Call, out: Array<Recorded>, phase: { current: Recorded["phase"] }): Call =>
(service, operation, input, target) => {
  const mutating = isMutating(service, operation)
  out.push({ phase: phase.current, service, operation, mutating, params: input })
  return mutating ? Effect.succeed({}) : send(service, operation, input, target)
}
