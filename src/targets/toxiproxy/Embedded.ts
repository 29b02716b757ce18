/**
 * The Toxiproxy driver wired to a fresh embedded proxy.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { EmbeddedProxy, type EmbeddedProxyError, type StartOptions } from "../../proxy/EmbeddedProxy.ts"
import { ToxiproxyDriver } from "./ToxiproxyDriver.ts"

/**
 * Starts an embedded proxy for the life of the layer and provides the driver talking to
 * it with its API token (and the proxy itself, for its URL and token).
 *
 * @example
 * ```ts
 * Effect.provide(program, layerEmbedded({ listen: "127.0.0.1:0" }))
 * ```
 * @since 0.1.0
 */
export const layerEmbedded = (options?: StartOptions): Layer.Layer<ToxiproxyDriver | EmbeddedProxy, EmbeddedProxyError> =>
  Layer.unwrap(Effect.gen(function*() {
    const { token, url } = yield* EmbeddedProxy
    return ToxiproxyDriver.layerConfig(token === null ? { url } : { url, token })
  })).pipe(
    Layer.provideMerge(EmbeddedProxy.layer(options))
  )
