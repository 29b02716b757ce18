/**
 * The one error of the AWS target, with SDK exceptions mapped to it at the boundary.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Driver from "../../core/Driver.ts"

/** Why an AWS call (or a refusal before any call) failed. @since 0.1.0 */
export const AwsErrorReason = Schema.Literals([
  "NotFound",
  "Throttled",
  "AccessDenied",
  "InvalidState",
  "InvalidInput",
  "Irreversible",
  "Unavailable",
  "Unknown"
])
/** @since 0.1.0 */
export type AwsErrorReason = typeof AwsErrorReason.Type

/**
 * An AWS call failed, or a fault was refused before any call (`Irreversible`).
 * `detail` carries the service's error code and message, never credentials.
 *
 * @since 0.1.0
 */
export class AwsError extends Schema.TaggedError<AwsError>()("AwsError", {
  reason: AwsErrorReason,
  target: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `aws ${this.operation} on ${this.target}: ${this.reason}${this.detail ? ` (${this.detail})` : ""}`
  }
}

const patterns: ReadonlyArray<readonly [RegExp, AwsErrorReason]> = [
  [/Throttl|RequestLimitExceeded|TooManyRequests|PriorRequestNotComplete|SlowDown|RequestThrottled/i, "Throttled"],
  [/NotFound|NoSuchHostedZone|NoSuchHealthCheck|NoSuchChange|DoesNotExist/i, "NotFound"],
  [/AccessDenied|UnauthorizedOperation|AuthFailure|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|UnrecognizedClient/i, "AccessDenied"],
  [/IncorrectInstanceState|IncorrectState|InvalidDBClusterState|InvalidDBInstanceState|InvalidChangeBatch|ConflictingDomainExists|Conflict/i, "InvalidState"],
  [/InvalidParameter|ValidationError|InvalidInput|Malformed|MissingParameter/i, "InvalidInput"]
]

/**
 * Maps whatever the SDK threw (a service exception, a network error) to an `AwsError`.
 *
 * @since 0.1.0
 */
export const fromSdk = (e: unknown, operation: string, target: string): AwsError => {
  const err = e as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } }
  const code = String(err?.Code ?? err?.name ?? err?.code ?? "Error")
  const status = err?.$metadata?.httpStatusCode
  let reason: AwsErrorReason = "Unknown"
  for (const [re, r] of patterns) {
    if (re.test(code)) {
      reason = r
      break
    }
  }
  if (reason === "Unknown") {
    if (status === 429) reason = "Throttled"
    else if (status === 403) reason = "AccessDenied"
    else if (status === 404) reason = "NotFound"
    else if (
      (status !== undefined && status >= 500) ||
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|TimeoutError|socket hang up/i.test(`${code} ${err?.message ?? ""}`)
    ) {
      reason = "Unavailable"
    }
  }
  return new AwsError({ reason, target, operation, detail: `${code}: ${err?.message ?? String(e)}`.slice(0, 500) })
}

/**
 * The AWS boundary of `DriverError`: every AWS reason is a driver reason of the same name.
 *
 * @since 0.1.0
 */
export const toDriverError = Driver.boundary<AwsErrorReason>("aws", {
  NotFound: "NotFound",
  Throttled: "Throttled",
  AccessDenied: "AccessDenied",
  InvalidState: "InvalidState",
  InvalidInput: "InvalidInput",
  Irreversible: "Irreversible",
  Unavailable: "Unavailable",
  Unknown: "Unknown"
})
