/**
 * faultline/aws: EC2, RDS and Route 53 faults and probes, FIS-style targeting, dry-run
 * plans. Importing it registers the out-of-process reverter for the watchdog. Needs the
 * optional peer dependencies `@aws-sdk/client-ec2`, `@aws-sdk/client-rds` and
 * `@aws-sdk/client-route-53`.
 *
 * @since 0.1.0
 */
import * as Guard from "../../core/Guard.ts"
import "./register.ts"

export * from "./AwsApi.ts"
export * from "./AwsError.ts"
export { AwsDriver, EC2_BATCH, fromEnv, safeEndpoint } from "./AwsDriver.ts"
export * from "./Faults.ts"
export * as probes from "./Probes.ts"
export { dns } from "../../probes/Dns.ts"
export { revertRecord } from "./register.ts"

/** The tag every AWS target must carry: `faultline:allow=true`. @since 0.1.0 */
export const ALLOW_TAG = "faultline:allow"

/**
 * The default guards of an AWS experiment: every target carries `faultline:allow=true`,
 * and at most `cap` (default 10) targets per fault. An experiment gets them by passing
 * them: `Experiment.make({ ..., guards: Aws.defaultGuards() })` (an experiment without
 * `guards` has only the core default, a cap of 10).
 *
 * @since 0.1.0
 */
export const defaultGuards = (options?: { readonly cap?: number }): ReadonlyArray<Guard.Guard> => [
  Guard.allowLabel(ALLOW_TAG, "true"),
  Guard.maxTargets(options?.cap ?? 10)
]
