/**
 * The AWS integration: EC2, RDS and Route 53 (optional peers `@aws-sdk/client-*`, loaded
 * only when the driver is built or a record is reverted).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Integration from "../../core/Integration.ts"
import { AwsDriver } from "./AwsDriver.ts"
import {
  defaultGuards,
  Ec2Reboot,
  Ec2Stop,
  Ec2Terminate,
  RdsFailoverCluster,
  RdsRebootWithFailover,
  Route53InvertHealthCheck,
  Route53SetWeight
} from "./Faults.ts"

const unavailable = (e: unknown) => new Integration.IntegrationUnavailable({ integration: "aws", detail: e instanceof Error ? e.message : String(e) })

/** @since 0.1.0 */
export const integration: Integration.Integration = Integration.make({
  name: "aws",
  summary: "AWS: EC2 stop/reboot/terminate, RDS failover/reboot, Route 53 weights and health checks",
  module: "faultline/aws",
  faults: [Ec2Stop, Ec2Reboot, Ec2Terminate, RdsFailoverCluster, RdsRebootWithFailover, Route53SetWeight, Route53InvertHealthCheck],
  defaultGuards,
  layer: Effect.succeed(AwsDriver.layer),
  reverter: Effect.tryPromise({ try: () => import("./Reverter.ts"), catch: unavailable }).pipe(Effect.map((m) => m.revertRecord))
})
