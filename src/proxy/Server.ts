/**
 * The embedded, Toxiproxy-compatible fault proxy: TCP proxies with toxics, and Toxiproxy
 * 2.12's HTTP API (same routes, status codes, error bodies and defaults), so that the same
 * client code drives it and the real Toxiproxy.
 *
 * @since 0.1.0
 */
import * as http from "node:http"
import type * as net from "node:net"
import { bearer, hostAllowed, isBrowser, isLoopback, MAX_BODY, newToken, originAllowed, pathSegments, tokenMatches } from "./ApiGuard.ts"
import { formatAddress, parseListen, type ProxyState } from "./Proxy.ts"
import { apiError, route, text } from "./Routes.ts"
import { ApiError } from "./Toxics.ts"

export { parseListen, ProxyState } from "./Proxy.ts"
export { VERSION } from "./Routes.ts"

// The tokens of the servers running in this process, by API URL, so that a driver in the same
// process finds the token of an embedded proxy from its URL alone (see `localToken`).
const localTokens = new Map<string, string>()

/**
 * The write token of an embedded server running in this process at `url`, if any.
 *
 * @since 0.1.0
 */
export const localToken = (url: string): string | undefined => localTokens.get(url.replace(/\/+$/, ""))

/**
 * How the embedded server guards its API.
 *
 * @since 0.1.0
 */
export interface ServerOptions {
  /**
   * The token every write (any method but GET and HEAD) must present, as
   * `Authorization: Bearer TOKEN` or as the base path `/token/TOKEN` (for clients that take
   * only a base URL). Default: a fresh random token. `null`: writes need no token — for
   * Toxiproxy clients that can send neither; the API must then listen on loopback.
   */
  readonly token?: string | null
  /** Let API clients create proxies that listen beyond loopback (e.g. `0.0.0.0:0`). Default false. */
  readonly allowNonLoopbackProxies?: boolean
}

/**
 * The embedded proxy: its proxies and its HTTP API.
 *
 * Besides Toxiproxy 2.12's API, the server refuses, before routing: a malformed `%` escape
 * in the path (400, as Go's server does); a browser's User-Agent `Mozilla/...` (403 `User
 * agent not allowed`, as Toxiproxy 2.12 does — here on unknown routes too); a `Host` other
 * than loopback, `localhost` or the listen address (403: DNS rebinding); an `Origin` other
 * than the server's own URL (403); a write without the token (401); a body over 1 MiB (413).
 * Proxies listen on loopback only unless `allowNonLoopbackProxies` (403 otherwise).
 *
 * @since 0.1.0
 */
export class EmbeddedServer {
  readonly proxies = new Map<string, ProxyState>()
  private api: http.Server | null = null
  private queue: Promise<void> = Promise.resolve()
  private listenHost = "127.0.0.1"
  /** The API's base URL once listening, e.g. `http://127.0.0.1:8474`: the address really bound. */
  url = ""
  /** The token writes need, or null when they need none. */
  readonly token: string | null
  readonly allowNonLoopbackProxies: boolean

  constructor(options: ServerOptions = {}) {
    this.token = options.token === undefined ? newToken() : options.token
    // A header value and a path segment must be able to carry it as it is.
    if (this.token !== null && !/^[\x21-\x7e]+$/.test(this.token)) throw new Error("the API token must be printable ASCII without spaces, and not empty")
    this.allowNonLoopbackProxies = options.allowNonLoopbackProxies ?? false
  }

  /**
   * Starts the HTTP API on `listen` (`host:port`; port 0 picks a free one). Unlike Go's
   * `net.Listen`, an empty host (`:8474`) means 127.0.0.1, not every interface: listening
   * beyond loopback takes an explicit host (`0.0.0.0:8474`), and a token.
   */
  async listen(listen: string): Promise<string> {
    const addr = parseListen(listen)
    if (typeof addr === "string") throw new Error(addr)
    const host = listen.startsWith(":") || listen.startsWith("[]") ? "127.0.0.1" : addr.host
    if (this.token === null && !isLoopback(host)) {
      throw new Error(`address ${listen}: an API that takes writes without a token must listen on a loopback address`)
    }
    const api = http.createServer((req, res) => this.handle(req, res))
    api.keepAliveTimeout = 60_000
    await new Promise<void>((resolve, reject) => {
      api.once("error", reject)
      api.listen({ host, port: addr.port }, () => {
        api.off("error", reject)
        resolve()
      })
    })
    this.api = api
    const bound = api.address() as net.AddressInfo
    this.listenHost = bound.address
    this.url = `http://${formatAddress(bound.address, bound.port)}`
    if (this.token !== null) localTokens.set(this.url, this.token)
    return this.url
  }

  /** The address and port the API is bound to, or null before `listen`. */
  address(): { readonly address: string; readonly port: number } | null {
    const a = this.api?.address()
    return a && typeof a === "object" ? { address: a.address, port: a.port } : null
  }

  /** Closes the API, every proxy and every connection. */
  async close() {
    if (localTokens.get(this.url) === this.token) localTokens.delete(this.url)
    await Promise.all([...this.proxies.values()].map((p) => p.stop()))
    this.proxies.clear()
    const api = this.api
    this.api = null
    if (api) {
      api.closeAllConnections()
      await new Promise<void>((resolve) => api.close(() => resolve()))
    }
  }

  /** The answer to a request that must not reach the routes, or null when it may. */
  private refuse(req: http.IncomingMessage, res: http.ServerResponse, parts: Array<string> | null): Array<string> | null {
    if (parts === null) {
      // What Go's HTTP server answers to a request target it cannot unescape.
      text(res, 400, "400 Bad Request", { Connection: "close" })
      return null
    }
    if (isBrowser(req.headers["user-agent"])) {
      text(res, 403, "User agent not allowed\n", { "X-Content-Type-Options": "nosniff" })
      return null
    }
    if (!hostAllowed(req.headers.host, this.listenHost)) {
      apiError(res, new ApiError(403, `host ${JSON.stringify(req.headers.host)} not allowed: use a loopback address, localhost or ${this.url.slice(7)}`))
      return null
    }
    if (!originAllowed(req.headers.origin, this.url)) {
      apiError(res, new ApiError(403, `origin ${JSON.stringify(req.headers.origin)} not allowed`))
      return null
    }
    let presented = bearer(req)
    let rest = parts
    const inPath = parts[0] === "token" && parts.length >= 2
    if (inPath) {
      presented = parts[1]!
      rest = parts.slice(2)
    }
    const write = req.method !== "GET" && req.method !== "HEAD"
    if (this.token !== null && (write || inPath) && (presented === null || !tokenMatches(presented, this.token))) {
      res.setHeader("WWW-Authenticate", "Bearer")
      apiError(
        res,
        new ApiError(401, `${presented === null ? "missing" : "wrong"} API token: send Authorization: Bearer TOKEN, or use the base URL .../token/TOKEN`)
      )
      return null
    }
    return rest
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const parts = this.refuse(req, res, pathSegments(req.url ?? "/"))
    if (parts === null) {
      req.resume()
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let answered = false
    req.on("data", (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY) chunks.push(c)
      else if (size > 16 * MAX_BODY && !answered) {
        // Far beyond the limit: answer now and stop reading, rather than drain it all.
        answered = true
        res.setHeader("Connection", "close")
        apiError(res, new ApiError(413, `request body too large: the limit is ${MAX_BODY} bytes`))
        req.destroy()
      }
    })
    req.on("end", () => {
      if (answered) return
      // A body over the limit is refused whole; parsing its first MiB could succeed and act.
      if (size > MAX_BODY) return apiError(res, new ApiError(413, `request body too large: the limit is ${MAX_BODY} bytes`))
      // One request at a time, like Toxiproxy's lock on its proxy collection: a request that
      // awaits a listener must not interleave with another that changes the same proxy.
      this.queue = this.queue.then(() =>
        route(this, req.method ?? "GET", parts, Buffer.concat(chunks).toString("utf8"), res).catch((e) =>
          apiError(res, new ApiError(500, e instanceof Error ? e.message : String(e)))
        )
      )
    })
  }
}
