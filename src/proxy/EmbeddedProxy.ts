/**
 * The embedded proxy as an Effect service: a scoped Layer that starts the Toxiproxy-compatible
 * API (and its proxies) and closes everything when the scope closes.
 *
 * The API is not an open door (see `EmbeddedServer`): it refuses browsers, DNS-rebinding
 * hosts and foreign origins, and every write needs the API token — random per start unless
 * given. A `ToxiproxyDriver` in the same process finds the token by itself; other clients send
 * `Authorization: Bearer TOKEN`, or use `${url}/token/${token}` as their base URL.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { EmbeddedServer, parseListen, type ServerOptions } from "./Server.ts"

/**
 * The embedded proxy could not start (bad listen address, port in use).
 *
 * @since 0.1.0
 */
export class EmbeddedProxyError extends Schema.TaggedError<EmbeddedProxyError>()("EmbeddedProxyError", {
  listen: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `embedded proxy on ${this.listen}: ${this.detail}`
  }
}

/**
 * How to start the embedded proxy: its API's listen address and how it guards the API.
 *
 * @since 0.1.0
 */
export interface StartOptions extends ServerOptions {
  /** `host:port` of the API (default `127.0.0.1:0`, a free port); an empty host is 127.0.0.1. */
  readonly listen?: string
}

/**
 * A running embedded proxy: the base URL of its Toxiproxy API, its write token and the
 * server itself.
 *
 * @since 0.1.0
 */
export class EmbeddedProxy extends Context.Service<EmbeddedProxy, {
  /** The API's base URL, e.g. `http://127.0.0.1:8474`; give it to `ToxiproxyDriver.layerConfig`. */
  readonly url: string
  /** The token writes need (`Authorization: Bearer TOKEN`), or null when started with `token: null`. */
  readonly token: string | null
  readonly server: EmbeddedServer
}>()("faultline/EmbeddedProxy") {
  /**
   * Starts the embedded proxy's API on `listen` (default `127.0.0.1:0`, a free port) for the
   * life of the layer's scope.
   *
   * @example
   * ```ts
   * const program = Effect.gen(function*() {
   *   const { url } = yield* EmbeddedProxy
   * }).pipe(Effect.provide(EmbeddedProxy.layer({ listen: "127.0.0.1:0" })))
   * ```
   * @since 0.1.0
   */
  static readonly layer = (options?: StartOptions): Layer.Layer<EmbeddedProxy, EmbeddedProxyError> =>
    Layer.effect(EmbeddedProxy, start(options?.listen ?? "127.0.0.1:0", options))
}

/**
 * Starts an embedded proxy in the current scope; its `token` (random unless given) is what
 * writes need.
 *
 * @example
 * ```ts
 * const { url, token } = yield* start("127.0.0.1:0")
 * // ToxiproxyDriver.layerConfig({ url, token })
 * ```
 * @since 0.1.0
 */
export const start = (listen: string, options: ServerOptions = {}) =>
  Effect.gen(function*() {
    const bad = validateListen(listen)
    if (bad !== null) return yield* new EmbeddedProxyError({ listen, detail: bad })
    const server = yield* Effect.try({
      try: () => new EmbeddedServer(options),
      catch: (e) => new EmbeddedProxyError({ listen, detail: e instanceof Error ? e.message : String(e) })
    })
    const url = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => server.listen(listen),
        catch: (e) => new EmbeddedProxyError({ listen, detail: e instanceof Error ? e.message : String(e) })
      }),
      () => Effect.promise(() => server.close())
    )
    return EmbeddedProxy.of({ url, token: server.token, server })
  })

/**
 * Checks a `host:port` listen address; returns the problem, or null when it is usable.
 * A port is required, and the host must be an IP address or `localhost`.
 *
 * @since 0.1.0
 */
export const validateListen = (listen: string): string | null => {
  const p = parseListen(listen)
  if (typeof p === "string") return p
  if (!/:\d+$/.test(listen)) return `address ${listen}: missing port in address`
  return null
}

/**
 * Where `faultline proxy` writes its API token by default: `~/.faultline/proxy-PORT.token`.
 *
 * @since 0.1.0
 */
export const defaultTokenFile = (port: number): string => path.join(os.homedir(), ".faultline", `proxy-${port}.token`)

/**
 * Writes `token` to `file`, readable by its owner only (0600, in a folder created 0700), for
 * the life of the scope; the file is removed when the scope closes. A file already there is
 * replaced; a symlink at `file` is never followed (`O_EXCL`).
 *
 * @since 0.1.0
 */
export const writeTokenFile = (file: string, token: string): Effect.Effect<void, EmbeddedProxyError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
        fs.rmSync(file, { force: true })
        const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600)
        try {
          fs.writeSync(fd, `${token}\n`)
        } finally {
          fs.closeSync(fd)
        }
      },
      catch: (e) => new EmbeddedProxyError({ listen: file, detail: `cannot write the token file: ${e instanceof Error ? e.message : String(e)}` })
    }),
    () =>
      Effect.try(() => {
        // Only our own file: another proxy may have taken the name since.
        const now = fs.readFileSync(file, { encoding: "utf8", flag: fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW })
        if (now.trim() === token) fs.rmSync(file, { force: true })
      }).pipe(Effect.ignore)
  )
