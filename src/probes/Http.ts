/**
 * The HTTP probe.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { Agent } from "undici"
import * as Probe from "../core/Probe.ts"

// undici (Node's own HTTP client, already a dependency of @effect/platform-node) costs less
// CPU per request than node:http with a keep-alive agent: hypotheses sampled every 10 ms
// send ~100 requests per second each (bench row hypothesis.cpu_overhead_http).
const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 })

/** @since 0.1.0 */
export interface HttpResponse {
  readonly status: number
  readonly body: string
}

/**
 * Sends one HTTP request over a keep-alive agent; fails on network errors and timeouts.
 * Interruption aborts the request.
 *
 * @since 0.1.0
 */
export const request = (
  url: string,
  options?: {
    readonly method?: string
    readonly body?: string
    readonly headers?: Record<string, string | Redacted.Redacted<string>>
    readonly timeout?: Duration.Input
  }
): Effect.Effect<HttpResponse, Error> =>
  Effect.callback<HttpResponse, Error>((resume, signal) => {
    const headers = Object.fromEntries(
      Object.entries(options?.headers ?? {}).map(([k, v]) => [k, Redacted.isRedacted(v) ? Redacted.value(v) : v])
    )
    const ms = Duration.toMillis(Duration.fromInputUnsafe(options?.timeout ?? "5 seconds"))
    const u = new URL(url)
    dispatcher.request({
      origin: u.origin,
      path: u.pathname + u.search,
      method: (options?.method ?? "GET") as "GET",
      headers,
      body: options?.body,
      signal,
      headersTimeout: ms,
      bodyTimeout: ms
    })
      .then((res) => res.body.text().then((body) => resume(Effect.succeed({ status: res.statusCode, body }))))
      .catch((e: Error & { code?: string }) =>
        resume(Effect.fail(
          // undici says "Headers Timeout Error": a probe's timeout reads the same whatever the client.
          e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT" ? new Error(`request timed out after ${ms} ms`, { cause: e }) : e
        ))
      )
  })

/**
 * A probe that GETs `url`; the sample's value is the status code and it is good when the
 * status is in `expect` (default: any 2xx).
 *
 * `url` may be `Dynamic`: resolved at every sample, so the probe follows an address that
 * changes during the run. The process target gives one for the port a process' `ready`
 * pattern captured, which a restart (the revert of `process.kill`) captures anew:
 *
 * @example
 * ```ts
 * Probe.http("http://127.0.0.1:8080/health", { timeout: "500 millis" })
 * // follows `backend` to whatever port it bound last (its `ready` pattern captures the port)
 * Probe.http(Process.url("http://127.0.0.1:${backend.port}/health"), { timeout: "500 millis" })
 * ```
 * @since 0.1.0
 */
export const http_ = <R = never>(
  url: string | Probe.Dynamic<string, R>,
  options?: {
    readonly timeout?: Duration.Input
    readonly method?: string
    readonly expect?: ReadonlyArray<number>
    readonly headers?: Record<string, string | Redacted.Redacted<string>>
  }
): Probe.Probe<R> =>
  Probe.make(
    `http ${options?.method ?? "GET"} ${Probe.textOf(url)}`,
    Effect.flatMap(
      Effect.flatMap(Probe.resolve(url), (u) =>
        request(u, {
          method: options?.method ?? "GET",
          timeout: options?.timeout ?? "5 seconds",
          headers: options?.headers ?? {}
        })),
      (res) => {
        const good = options?.expect ? options.expect.includes(res.status) : res.status >= 200 && res.status < 300
        return good ? Effect.succeed(res.status) : Effect.fail(new Error(`HTTP ${res.status}`))
      }
    ),
    {
      timeout: options?.timeout ?? "5 seconds",
      // Header values are never journaled: only their names.
      spec: {
        kind: "http",
        params: { url: Probe.textOf(url), method: options?.method ?? "GET", expect: options?.expect ?? "2xx", headers: Object.keys(options?.headers ?? {}) }
      }
    }
  )
