/**
 * The Toxiproxy driver: applies and reverts `network.*` faults through the Toxiproxy HTTP
 * API, against the real Toxiproxy or faultline's embedded proxy (same code path).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { Driver } from "../../core/Driver.ts"
import type { Revert } from "../../core/Journal.ts"
import * as Target from "../../core/Target.ts"
import { ProxyJson, request, ToxicJson } from "./Api.ts"
import { toToxic } from "./Toxic.ts"
import { toDriverError, ToxiproxyError } from "./ToxiproxyError.ts"

/**
 * The Toxiproxy driver service: the generic Driver plus the API operations tests, probes
 * and set-up code need.
 *
 * @since 0.1.0
 */
export class ToxiproxyDriver extends Context.Service<ToxiproxyDriver, Driver & {
  /** The API's base URL. */
  readonly url: string
  readonly proxies: Effect.Effect<ReadonlyArray<ProxyJson>, ToxiproxyError>
  readonly proxy: (name: string) => Effect.Effect<ProxyJson, ToxiproxyError>
  /** Creates a proxy (`listen` defaults to `127.0.0.1:0`); returns it with `listen` resolved. */
  readonly createProxy: (p: { readonly name: string; readonly upstream: string; readonly listen?: string; readonly enabled?: boolean }) => Effect.Effect<ProxyJson, ToxiproxyError>
  /** Deletes a proxy; deleting a missing proxy is a no-op. */
  readonly deleteProxy: (name: string) => Effect.Effect<void, ToxiproxyError>
  readonly setEnabled: (name: string, enabled: boolean) => Effect.Effect<ProxyJson, ToxiproxyError>
  readonly addToxic: (proxy: string, toxic: { readonly name?: string; readonly type: string; readonly stream?: string; readonly toxicity?: number; readonly attributes?: Record<string, number> }) => Effect.Effect<ToxicJson, ToxiproxyError>
  /** Removes a toxic; removing a missing toxic (or one of a missing proxy) is a no-op. */
  readonly removeToxic: (proxy: string, toxic: string) => Effect.Effect<void, ToxiproxyError>
  /** Enables every proxy and removes every toxic. */
  readonly reset: Effect.Effect<void, ToxiproxyError>
}>()("faultline/ToxiproxyDriver") {
  /**
   * The driver against the API at `url`.
   *
   * @example
   * ```ts
   * Effect.provide(program, ToxiproxyDriver.layerConfig({ url: "http://127.0.0.1:8474" }))
   * ```
   * @since 0.1.0
   */
  static readonly layerConfig = (options: { readonly url: string }): Layer.Layer<ToxiproxyDriver> =>
    Layer.succeed(ToxiproxyDriver, make(options.url.replace(/\/+$/, "")))

  /** The driver against `$TOXIPROXY_URL`, or Toxiproxy's default `http://127.0.0.1:8474`. @since 0.1.0 */
  static readonly layer: Layer.Layer<ToxiproxyDriver> = Layer.suspend(() =>
    ToxiproxyDriver.layerConfig({ url: process.env.TOXIPROXY_URL ?? "http://127.0.0.1:8474" })
  )
}

const RevertData = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("toxic"), proxy: Schema.String, toxic: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("down"), proxy: Schema.String, wasEnabled: Schema.Boolean })
])

/**
 * The driver for the Toxiproxy API at `url` (the real server or the embedded one).
 *
 * @since 0.1.0
 */
export const make = (url: string) => {
  const at = (operation: string, target: string) => ({ target, operation })
  const enc = encodeURIComponent
  const proxies = Effect.map(
    request(url, "GET", "/proxies", { schema: Schema.Record(Schema.String, ProxyJson), ...at("list", url) }),
    (r) => Object.values(r!)
  ).pipe(Effect.withSpan("ToxiproxyDriver.proxies"))
  const proxy = Effect.fn("ToxiproxyDriver.proxy")((name: string) =>
    Effect.map(request(url, "GET", `/proxies/${enc(name)}`, { schema: ProxyJson, ...at("get", name) }), (p) => p!))
  const createProxy = Effect.fn("ToxiproxyDriver.createProxy")((p: { readonly name: string; readonly upstream: string; readonly listen?: string; readonly enabled?: boolean }) =>
    Effect.map(request(url, "POST", "/proxies", { body: { listen: "127.0.0.1:0", enabled: true, ...p }, schema: ProxyJson, ...at("create", p.name) }), (x) => x!))
  const deleteProxy = Effect.fn("ToxiproxyDriver.deleteProxy")((name: string) =>
    request(url, "DELETE", `/proxies/${enc(name)}`, at("delete", name)).pipe(
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void),
      Effect.asVoid
    ))
  const setEnabled = Effect.fn("ToxiproxyDriver.setEnabled")((name: string, enabled: boolean) =>
    Effect.map(request(url, "POST", `/proxies/${enc(name)}`, { body: { enabled }, schema: ProxyJson, ...at(enabled ? "enable" : "disable", name) }), (x) => x!))
  const addToxic = Effect.fn("ToxiproxyDriver.addToxic")((name: string, toxic: { readonly name?: string; readonly type: string; readonly stream?: string; readonly toxicity?: number; readonly attributes?: Record<string, number> }) =>
    Effect.map(request(url, "POST", `/proxies/${enc(name)}/toxics`, { body: toxic, schema: ToxicJson, ...at("addToxic", name) }), (x) => x!))
  const removeToxic = Effect.fn("ToxiproxyDriver.removeToxic")((name: string, toxic: string) =>
    request(url, "DELETE", `/proxies/${enc(name)}/toxics/${enc(toxic)}`, at("removeToxic", `${name}/${toxic}`)).pipe(
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void),
      Effect.asVoid
    ))
  const reset = request(url, "POST", "/reset", at("reset", url)).pipe(Effect.asVoid, Effect.withSpan("ToxiproxyDriver.reset"))

  const driverError = (operation: string, target: string) => (e: ToxiproxyError) => toDriverError(e, { operation, target })

  const toTarget = (p: ProxyJson) =>
    Target.make({ kind: "toxiproxy", id: p.name, name: p.name, labels: { listen: p.listen, upstream: p.upstream, enabled: String(p.enabled) } })

  const inject = (fault: any, target: Target.Target) =>
    Effect.gen(function*() {
      if (fault._tag === "network.down") {
        const before = yield* proxy(target.name)
        if (before.enabled) yield* setEnabled(target.name, false)
        return { kind: "down", proxy: target.name, wasEnabled: before.enabled }
      }
      if (typeof fault._tag !== "string" || !fault._tag.startsWith("network.")) {
        return yield* new ToxiproxyError({ reason: "Unsupported", target: target.name, operation: "inject", detail: `unknown fault ${fault._tag}` })
      }
      const toxic = toToxic(fault)
      yield* addToxic(target.name, toxic)
      return { kind: "toxic", proxy: target.name, toxic: toxic.name }
    }).pipe(Effect.mapError(driverError("inject", target.name)))

  const revert = (r: Revert) =>
    Effect.gen(function*() {
      const data = yield* Schema.decodeUnknownEffect(RevertData)(r.data).pipe(
        Effect.mapError((e) => new ToxiproxyError({ reason: "BadResponse", target: r.target.name, operation: "revert", detail: `revert data: ${e.message}` }))
      )
      if (data.kind === "toxic") return yield* removeToxic(data.proxy, data.toxic)
      if (!data.wasEnabled) return
      // Re-enabling an enabled proxy is a no-op; a deleted proxy has nothing to revert.
      yield* setEnabled(data.proxy, true).pipe(Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void))
    }).pipe(Effect.mapError(driverError("revert", r.target.name)))

  // Revert data known before anything is touched, so an intent whose injection may or may
  // not have landed reverts safely: the toxic's name is fixed by the fault; for `down`, the
  // proxy's state now.
  const prepare = (fault: any, target: Target.Target) =>
    Effect.gen(function*() {
      if (fault._tag === "network.down") {
        const before = yield* proxy(target.name)
        return { kind: "down", proxy: target.name, wasEnabled: before.enabled }
      }
      return { kind: "toxic", proxy: target.name, toxic: toToxic(fault).name }
    }).pipe(Effect.mapError(driverError("prepare", target.name)))

  return ToxiproxyDriver.of({
    name: "toxiproxy",
    url,
    // How the watchdog or `faultline recover` reaches the same server later.
    connection: { url },
    prepare,
    discover: () => Effect.map(proxies, (ps) => ps.map(toTarget)).pipe(Effect.mapError(driverError("discover", url))),
    inject,
    revert,
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
