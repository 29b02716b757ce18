/**
 * The HTTP probe.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { Agent, type Dispatcher } from "undici"
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

interface Target {
  readonly origin: string
  readonly path: string
}

// Probes send the same few URLs a thousand times a second: parse each once.
const targets = new Map<string, Target>()
const targetOf = (url: string): Target => {
  let t = targets.get(url)
  if (t === undefined) {
    const u = new URL(url)
    t = { origin: u.origin, path: u.pathname + u.search }
    if (targets.size >= 256) targets.clear()
    targets.set(url, t)
  }
  return t
}

const plainHeaders = (headers: Record<string, string | Redacted.Redacted<string>> | undefined): Record<string, string> | undefined => {
  if (headers === undefined) return undefined
  const out: Record<string, string> = {}
  for (const k in headers) {
    const v = headers[k]!
    out[k] = Redacted.isRedacted(v) ? Redacted.value(v) : v
  }
  return out
}

const timeoutError = (e: Error & { code?: string }, ms: number): Error =>
  // undici says "Headers Timeout Error": a probe's timeout reads the same whatever the client.
  e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT" ? new Error(`request timed out after ${ms} ms`, { cause: e }) : e

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
): Effect.Effect<HttpResponse, Error> => exchange(url, options, true)

// undici's handler API, not `request()`: no body stream and no promise per request, which is
// most of a probe's cost at a thousand requests a second (bench row hypothesis.cpu_overhead_http).
const exchange = (
  url: string,
  options: Parameters<typeof request>[1],
  keepBody: boolean
): Effect.Effect<HttpResponse, Error> =>
  Effect.callback<HttpResponse, Error>((resume) => {
    const ms = options?.timeout === undefined ? 5000 : Duration.toMillis(Duration.fromInputUnsafe(options.timeout))
    let t: Target
    try {
      t = targetOf(url)
    } catch (e) {
      // A malformed URL is the request's failure, not a defect.
      resume(Effect.fail(e as Error))
      return
    }
    let status = 0
    let chunks: Array<Buffer> | undefined
    let controller: Dispatcher.DispatchController | undefined
    let interrupted = false
    try {
      dispatch()
    } catch (e) {
      // undici throws on arguments it refuses (a method or a header value): the request fails.
      resume(Effect.fail(e as Error))
      return
    }
    // Interruption (a probe's timeout, the run's end) aborts the request.
    return Effect.sync(() => {
      interrupted = true
      controller?.abort(new Error("interrupted"))
    })
    function dispatch() {
      dispatcher.dispatch({
        origin: t.origin,
        path: t.path,
        method: (options?.method ?? "GET") as Dispatcher.HttpMethod,
        headers: plainHeaders(options?.headers),
        body: options?.body,
        headersTimeout: ms,
        bodyTimeout: ms
      }, {
        onRequestStart: (c) => {
          controller = c
          if (interrupted) c.abort(new Error("interrupted"))
        },
        onResponseStart: (_c, statusCode) => {
          status = statusCode
        },
        onResponseData: (_c, chunk) => {
          if (keepBody) (chunks ??= []).push(chunk)
        },
        onResponseEnd: () => {
          const body = chunks === undefined ? "" : chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")
          resume(Effect.succeed({ status, body }))
        },
        onResponseError: (_c, e) => resume(Effect.fail(timeoutError(e, ms)))
      })
    }
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
        // The probe's value is the status: the body is read and dropped.
        exchange(u, { method: options?.method ?? "GET", timeout: options?.timeout ?? "5 seconds", headers: options?.headers }, false)),
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
