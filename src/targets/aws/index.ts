/**
 * faultline/aws: EC2, RDS and Route 53 faults and probes, FIS-style targeting, dry-run
 * plans. Every AWS fault brings the guards `faultline:allow=true` and a cap of 10 targets. Needs the
 * optional peer dependencies `@aws-sdk/client-ec2`, `@aws-sdk/client-rds` and
 * `@aws-sdk/client-route-53`.
 *
 * @since 0.1.0
 */

export * from "./AwsApi.ts"
export * from "./AwsError.ts"
export { AwsDriver, EC2_BATCH, fromEnv, safeEndpoint } from "./AwsDriver.ts"
export * from "./Faults.ts"
export * as probes from "./Probes.ts"
export { dns } from "../../probes/Dns.ts"
export { discover, make, plan, prepare, revert } from "./AwsLive.ts"
export { revertRecord } from "./Reverter.ts"
export { integration } from "./Integration.ts"
