/**
 * The AWS driver: one service for EC2, RDS and Route 53. One driver rather than three
 * because the families share everything a driver is made of — the region/endpoint
 * connection the ledger records, the credential chain, throttling retries, exception
 * mapping and dry-run call recording — and an experiment that fails an AZ over touches
 * all three; one layer to provide, one out-of-process reverter to register.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Driver } from "../../core/Driver.ts"
import type { AwsConfig, Call, Clients } from "./AwsApi.ts"
import { AwsError } from "./AwsError.ts"

/** EC2 accepts at most 1000 instance ids per call. @since 0.1.0 */
export const EC2_BATCH = 1000

/**
 * The AWS driver service: the generic Driver plus the clients and a `call` that sends by
 * operation name (retrying throttling, mapping errors), for probes and set-up code.
 *
 * @since 0.1.0
 */
export class AwsDriver extends Context.Service<
  AwsDriver,
  Driver & {
    readonly config: AwsConfig
    readonly clients: Clients
    readonly call: Call
  }
>()("faultline/AwsDriver") {
  /**
   * The driver configured from the environment: `AWS_REGION` (or `AWS_DEFAULT_REGION`,
   * default `us-east-1`) and `FAULTLINE_AWS_ENDPOINT` (or `AWS_ENDPOINT_URL`) if set.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<AwsDriver, AwsError> = Layer.effect(AwsDriver, Effect.suspend(() => load(fromEnv(process.env))))

  /**
   * The driver for a given region and (optional) endpoint.
   *
   * @example
   * ```ts
   * AwsDriver.layerConfig({ region: "eu-west-1", endpoint: "http://127.0.0.1:5000" })
   * ```
   * @since 0.1.0
   */
  static readonly layerConfig = (config: AwsConfig): Layer.Layer<AwsDriver, AwsError> => Layer.effect(AwsDriver, load(config))
}

// The SDK clients load with the driver, not with the fault classes: decoding a file that
// names an AWS fault never loads the SDK.
const load = (config: AwsConfig): Effect.Effect<AwsDriver["Service"], AwsError> =>
  Effect.tryPromise({
    try: () => import("./AwsLive.ts"),
    catch: (e) =>
      new AwsError({
        reason: "Unavailable",
        target: "-",
        operation: "load",
        detail: `the AWS SDK v3 clients are not installed (npm install @aws-sdk/client-ec2 @aws-sdk/client-rds @aws-sdk/client-route-53): ${
          (e as Error).message
        }`
      })
  }).pipe(Effect.map((m) => m.make(config)))

/**
 * Region and endpoint from environment variables: `AWS_REGION` (or `AWS_DEFAULT_REGION`,
 * default `us-east-1`) and `FAULTLINE_AWS_ENDPOINT` (or `AWS_ENDPOINT_URL`).
 *
 * @since 0.1.0
 */
export const fromEnv = (env: Record<string, string | undefined>): AwsConfig => ({
  region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
  endpoint: env.FAULTLINE_AWS_ENDPOINT ?? env.AWS_ENDPOINT_URL ?? undefined
})

/** Strips user-info from an endpoint so no secret can reach the ledger. @since 0.1.0 */
export const safeEndpoint = (endpoint: string | undefined): string | undefined => {
  if (endpoint === undefined) return undefined
  try {
    const u = new URL(endpoint)
    u.username = ""
    u.password = ""
    return u.toString().replace(/\/$/, "")
  } catch {
    return undefined
  }
}
