/**
 * The Toxiproxy 2.x HTTP API as Schema-decoded shapes, and a small client over `fetch`.
 * The same client drives the real Toxiproxy and faultline's embedded proxy.
 *
 * Why not `toxiproxy-node-client`: its HTTP layer throws away the status code and the error
 * body (every failure is "Request failed with status code N"), so a 404 on an idempotent
 * revert could only be told apart by parsing a message; its `Proxy` drops the `toxics` of
 * a GET, so the state probes could not see them; and it has no typed errors to map.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToxiproxyError } from "./ToxiproxyError.ts"

/** A toxic as the API returns it. @since 0.1.0 */
export const ToxicJson = Schema.Struct({
  name: Schema.String,
  type: Schema.String,
  stream: Schema.String,
  toxicity: Schema.Number,
  attributes: Schema.Record(Schema.String, Schema.Unknown)
})
/** @since 0.1.0 */
export type ToxicJson = typeof ToxicJson.Type

/** A proxy as the API returns it. @since 0.1.0 */
export const ProxyJson = Schema.Struct({
  name: Schema.String,
  listen: Schema.String,
  upstream: Schema.String,
  enabled: Schema.Boolean,
  toxics: Schema.Array(ToxicJson)
})
/** @since 0.1.0 */
export type ProxyJson = typeof ProxyJson.Type

/** The error body: `{"error": "...", "status": N}`. @since 0.1.0 */
export const ErrorJson = Schema.Struct({ error: Schema.String, status: Schema.Number })

const reasonOf = (status: number): ToxiproxyError["reason"] =>
  status === 404 ? "NotFound" : status === 409 ? "Conflict" : status === 400 ? "BadRequest" : status === 401 || status === 403 ? "Forbidden" : "ServerError"

/**
 * One API call: the decoded body on 2xx, a ToxiproxyError otherwise. A `token` is sent as
 * `Authorization: Bearer TOKEN` (faultline's embedded proxy needs it for writes; the real
 * Toxiproxy ignores it).
 *
 * @since 0.1.0
 */
export const request = <A>(
  base: string,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  path: string,
  options: {
    readonly body?: unknown
    readonly schema?: Schema.Codec<A, unknown>
    readonly target: string
    readonly operation: string
    readonly token?: string | undefined
  }
): Effect.Effect<A | undefined, ToxiproxyError> =>
  Effect.gen(function*() {
    const fail = (reason: ToxiproxyError["reason"], detail: string) =>
      new ToxiproxyError({ reason, target: options.target, operation: options.operation, detail })
    const res = yield* Effect.tryPromise({
      try: async (signal) => {
        const headers: Record<string, string> = {}
        if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`
        if (options.body !== undefined) headers["Content-Type"] = "application/json"
        const r = await fetch(`${base}${path}`, {
          method,
          signal,
          headers,
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) })
        })
        return { status: r.status, text: await r.text() }
      },
      catch: (e) =>
        fail("Unavailable", `${method} ${base}${path}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`)
    })
    if (res.status >= 300) {
      let detail = res.text.trim()
      try {
        detail = Schema.decodeUnknownSync(ErrorJson)(JSON.parse(res.text)).error
      } catch {
        // not Toxiproxy's error shape: keep the text
      }
      return yield* fail(reasonOf(res.status), `HTTP ${res.status}: ${detail}`)
    }
    if (options.schema === undefined || res.status === 204) return undefined
    const json = yield* Effect.try({ try: () => JSON.parse(res.text) as unknown, catch: () => fail("BadResponse", `not JSON: ${res.text.slice(0, 200)}`) })
    return yield* Schema.decodeUnknownEffect(options.schema)(json).pipe(Effect.mapError((e) => fail("BadResponse", e.message)))
  })
