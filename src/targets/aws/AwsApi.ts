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
export type Service = "ec2" | "rds" | "route53" | "fis"

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

// FIS (`--engine fis`) is its own optional peer, `@aws-sdk/client-fis`, loaded on first use:
// the other AWS faults never need it. Whether each operation mutates is known without it.
const fisOperations: Record<string, boolean> = {
  CreateExperimentTemplate: true,
  DeleteExperimentTemplate: true,
  StartExperiment: true,
  StopExperiment: true,
  GetExperiment: false
}
type FisModule = typeof import("@aws-sdk/client-fis")
let fisModule: Promise<FisModule> | undefined
const loadFis = (target: string, operation: string) =>
  Effect.tryPromise({
    try: () => (fisModule ??= import("@aws-sdk/client-fis")),
    catch: (e) =>
      new AwsError({
        reason: "Unavailable",
        target,
        operation,
        detail: `the FIS client is not installed (npm install @aws-sdk/client-fis): ${(e as Error).message}`
      })
  })

/** Whether an operation changes anything (a dry run never sends one). @since 0.1.0 */
export const isMutating = (service: Service, operation: string): boolean =>
  service === "fis" ? fisOperations[operation] ?? true : (commands[service] as Record<string, readonly [unknown, boolean]>)[operation]?.[1] ?? true

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
  /** The FIS client, made on first use (its SDK loads then). */
  readonly fis: (sdk: FisModule) => InstanceType<FisModule["FisClient"]>
}

/** Builds the clients of a config. @since 0.1.0 */
export const makeClients = (config: AwsConfig): Clients => {
  const base = { region: config.region, maxAttempts: 1, ...(config.endpoint ? { endpoint: config.endpoint } : {}) }
  let ec2: EC2.EC2Client | undefined
  let rds: RDS.RDSClient | undefined
  let route53: Route53.Route53Client | undefined
  let fis: InstanceType<FisModule["FisClient"]> | undefined
  return {
    fis: (sdk) => (fis ??= new sdk.FisClient(base)),
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
  if (service === "fis") return sendFis(clients, operation, input, target)
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

const sendFis = (clients: Clients, operation: string, input: Record<string, unknown>, target: string) =>
  Effect.flatMap(loadFis(target, `fis.${operation}`), (sdk) => {
    if (!(operation in fisOperations)) {
      return Effect.fail(new AwsError({ reason: "InvalidInput", target, operation, detail: "unknown fis operation" }))
    }
    const Command = (sdk as unknown as Record<string, new(input: unknown) => unknown>)[`${operation}Command`]!
    const client = clients.fis(sdk) as unknown as { send: (c: unknown, o?: { abortSignal?: AbortSignal }) => Promise<unknown> }
    return Effect.tryPromise({
      try: (signal) => client.send(new Command(input), { abortSignal: signal }),
      catch: (e) => fromSdk(e, `fis.${operation}`, target)
    }).pipe(Effect.retry({ schedule: throttleSchedule, times: THROTTLE_RETRIES, while: (e) => e.reason === "Throttled" }))
  })

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
export const recorder = (send: Call, out: Array<Recorded>, phase: { current: Recorded["phase"] }): Call => (service, operation, input, target) => {
  const mutating = isMutating(service, operation)
  out.push({ phase: phase.current, service, operation, mutating, params: input })
  return mutating ? Effect.succeed({}) : send(service, operation, input, target)
}
