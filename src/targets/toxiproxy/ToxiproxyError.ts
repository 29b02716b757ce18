/**
 * The one error of the Toxiproxy target.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Driver from "../../core/Driver.ts"

/**
 * A Toxiproxy API call failed: `NotFound` (404), `Conflict` (409), `BadRequest` (400),
 * `ServerError` (5xx, e.g. a port in use), `Forbidden` (401/403: a missing or wrong API
 * token, or a request the server refuses, like a proxy listening beyond loopback), `Unavailable` (no answer), `BadResponse` (an
 * answer that does not decode), `Unsupported` (a fault this driver does not know).
 *
 * @since 0.1.0
 */
export class ToxiproxyError extends Schema.TaggedError<ToxiproxyError>()("ToxiproxyError", {
  reason: Schema.Literals(["NotFound", "Conflict", "BadRequest", "Forbidden", "ServerError", "Unavailable", "BadResponse", "Unsupported"]),
  target: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `toxiproxy ${this.operation} on ${this.target}: ${this.reason}${this.detail ? ` (${this.detail})` : ""}`
  }
}

/**
 * The Toxiproxy boundary of `DriverError` (a 400 is `InvalidInput`; a 5xx or an answer that
 * does not decode is `Unknown`, with the Toxiproxy reason at the head of the detail).
 *
 * @since 0.1.0
 */
export const toDriverError = Driver.boundary<ToxiproxyError["reason"]>("toxiproxy", {
  NotFound: "NotFound",
  Conflict: "Conflict",
  BadRequest: "InvalidInput",
  ServerError: "Unknown",
  Forbidden: "AccessDenied",
  Unavailable: "Unavailable",
  BadResponse: "Unknown",
  Unsupported: "Unsupported"
})
