/**
 * The Toxiproxy driver: applies and reverts `network.*` faults through the Toxiproxy HTTP
 * API, against the real Toxiproxy or faultline's embedded proxy (same code path).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { Driver } from "../../core/Driver.ts"
import * as Handler from "../../core/Handler.ts"
import * as Target from "../../core/Target.ts"
import { localToken } from "../../proxy/Server.ts"
import { ProxyJson, request, ToxicJson } from "./Api.ts"
import { networkFaults, type ToxiproxyContext } from "./Handlers.ts"
import { toDriverError, type ToxiproxyError } from "./ToxiproxyError.ts"

/**
 * The Toxiproxy driver service: the generic Driver plus the API operations tests, probes
 * and set-up code need.
 *
 * @since 0.1.0
 */
export class ToxiproxyDriver extends Context.Service<
  ToxiproxyDriver,
  Driver & {
    /** The API's base URL. */
    readonly url: string
    readonly proxies: Effect.Effect<ReadonlyArray<ProxyJson>, ToxiproxyError>
    readonly proxy: (name: string) => Effect.Effect<ProxyJson, ToxiproxyError>
    /** Creates a proxy (`listen` defaults to `127.0.0.1:0`); returns it with `listen` resolved. */
    readonly createProxy: (
      p: { readonly name: string; readonly upstream: string; readonly listen?: string; readonly enabled?: boolean }
    ) => Effect.Effect<ProxyJson, ToxiproxyError>
    /** Deletes a proxy; deleting a missing proxy is a no-op. */
    readonly deleteProxy: (name: string) => Effect.Effect<void, ToxiproxyError>
    readonly setEnabled: (name: string, enabled: boolean) => Effect.Effect<ProxyJson, ToxiproxyError>
    readonly addToxic: (
      proxy: string,
      toxic: {
        readonly name?: string
        readonly type: string
        readonly stream?: string
        readonly toxicity?: number
        readonly attributes?: Record<string, number>
      }
    ) => Effect.Effect<ToxicJson, ToxiproxyError>
    /** Removes a toxic; removing a missing toxic (or one of a missing proxy) is a no-op. */
    readonly removeToxic: (proxy: string, toxic: string) => Effect.Effect<void, ToxiproxyError>
    /** Enables every proxy and removes every toxic. */
    readonly reset: Effect.Effect<void, ToxiproxyError>
  }
>()("faultline/ToxiproxyDriver") {
  /**
   * The driver against the API at `url`. The API token of faultline's embedded proxy (the
   * real Toxiproxy has none and ignores it) is, in order: `token`; the token in a base URL
   * `.../token/TOKEN`; the token of an embedded proxy running in this process at `url`;
   * `$FAULTLINE_PROXY_TOKEN`. The token is sent as a header and never recorded: the ledger
   * keeps only the URL, so an out-of-process revert reads `$FAULTLINE_PROXY_TOKEN`.
   *
   * @example
   * ```ts
   * Effect.provide(program, ToxiproxyDriver.layerConfig({ url: "http://127.0.0.1:8474" }))
   * ```
   * @since 0.1.0
   */
  static readonly layerConfig = (options: { readonly url: string; readonly token?: string }): Layer.Layer<ToxiproxyDriver> =>
    Layer.succeed(ToxiproxyDriver, make(options.url, options.token))

  /**
   * The driver against `$TOXIPROXY_URL`, or Toxiproxy's default `http://127.0.0.1:8474`, with
   * the token of `$FAULTLINE_PROXY_TOKEN` when set (see `layerConfig`).
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<ToxiproxyDriver> = Layer.suspend(() =>
    ToxiproxyDriver.layerConfig({ url: process.env.TOXIPROXY_URL ?? "http://127.0.0.1:8474" })
  )
}

/**
 * Splits a base URL into the API URL and the token of a `.../token/TOKEN` suffix, if any.
 *
 * @since 0.1.0
 */
export const splitTokenUrl = (url: string): { readonly url: string; readonly token: string | undefined } => {
  const trimmed = url.replace(/\/+$/, "")
  const m = /^(.*)\/token\/([^/]+)$/.exec(trimmed)
  return m ? { url: m[1]!, token: decodeURIComponent(m[2]!) } : { url: trimmed, token: undefined }
}

// The Toxiproxy API's calls at `url`, each a span, with the token looked up per call.
const apiAt = (url: string, given: string | undefined) => {
  // Looked up per call: an in-process proxy may start after the driver is made, and the
  // environment is read where the call is made (the watchdog, `faultline recover`).
  const tokenNow = () => {
    const t = given ?? localToken(url) ?? process.env.FAULTLINE_PROXY_TOKEN
    return t === "" ? undefined : t
  }
  const at = (operation: string, target: string) => ({ target, operation, token: tokenNow() })
  const enc = encodeURIComponent
  const proxies = Effect.suspend(() =>
    Effect.map(
      request(url, "GET", "/proxies", { schema: Schema.Record(Schema.String, ProxyJson), ...at("list", url) }),
      (r) => Object.values(r!)
    )
  ).pipe(Effect.withSpan("ToxiproxyDriver.proxies"))
  const proxy = Effect.fn("ToxiproxyDriver.proxy")((name: string) =>
    Effect.map(request(url, "GET", `/proxies/${enc(name)}`, { schema: ProxyJson, ...at("get", name) }), (p) => p!)
  )
  const createProxy = Effect.fn("ToxiproxyDriver.createProxy")((
    p: { readonly name: string; readonly upstream: string; readonly listen?: string; readonly enabled?: boolean }
  ) =>
    Effect.map(
      request(url, "POST", "/proxies", { body: { listen: "127.0.0.1:0", enabled: true, ...p }, schema: ProxyJson, ...at("create", p.name) }),
      (x) => x!
    )
  )
  const deleteProxy = Effect.fn("ToxiproxyDriver.deleteProxy")((name: string) =>
    request(url, "DELETE", `/proxies/${enc(name)}`, at("delete", name)).pipe(
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void),
      Effect.asVoid
    )
  )
  const setEnabled = Effect.fn("ToxiproxyDriver.setEnabled")((name: string, enabled: boolean) =>
    Effect.map(request(url, "POST", `/proxies/${enc(name)}`, { body: { enabled }, schema: ProxyJson, ...at(enabled ? "enable" : "disable", name) }), (x) => x!)
  )
  const addToxic = Effect.fn("ToxiproxyDriver.addToxic")((
    name: string,
    toxic: { readonly name?: string; readonly type: string; readonly stream?: string; readonly toxicity?: number; readonly attributes?: Record<string, number> }
  ) => Effect.map(request(url, "POST", `/proxies/${enc(name)}/toxics`, { body: toxic, schema: ToxicJson, ...at("addToxic", name) }), (x) => x!))
  const removeToxic = Effect.fn("ToxiproxyDriver.removeToxic")((name: string, toxic: string) =>
    request(url, "DELETE", `/proxies/${enc(name)}/toxics/${enc(toxic)}`, at("removeToxic", `${name}/${toxic}`)).pipe(
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void),
      Effect.asVoid
    )
  )
  const reset = Effect.suspend(() => request(url, "POST", "/reset", at("reset", url))).pipe(Effect.asVoid, Effect.withSpan("ToxiproxyDriver.reset"))
  return { proxies, proxy, createProxy, deleteProxy, setEnabled, addToxic, removeToxic, reset }
}

/**
 * The driver for the Toxiproxy API at `url` (the real server or the embedded one); `token`
 * as in `ToxiproxyDriver.layerConfig`.
 *
 * @since 0.1.0
 */
export const make = (baseUrl: string, token?: string) => {
  const split = splitTokenUrl(baseUrl)
  const url = split.url
  const { addToxic, createProxy, deleteProxy, proxies, proxy, removeToxic, reset, setEnabled } = apiAt(url, token ?? split.token)
  const toTarget = (p: ProxyJson) =>
    Target.make({ kind: "toxiproxy", id: p.name, name: p.name, labels: { listen: p.listen, upstream: p.upstream, enabled: String(p.enabled) } })

  const context: ToxiproxyContext = { proxies, proxy, setEnabled, addToxic, removeToxic, toTarget }

  return ToxiproxyDriver.of({
    name: "toxiproxy",
    url,
    // How the watchdog or `faultline recover` reaches the same server later.
    connection: { url },
    ...Handler.bind(
      networkFaults,
      context,
      (e, at) => toDriverError(e, { operation: at.operation, target: at.operation === "discover" ? url : at.target?.name ?? at.fault })
    ),
    proxies,
    proxy,
    createProxy,
    deleteProxy,
    setEnabled,
    addToxic,
    removeToxic,
    reset
  })
}
