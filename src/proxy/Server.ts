/**
 * The embedded, Toxiproxy-compatible fault proxy: TCP proxies with toxics, and Toxiproxy
 * 2.12's HTTP API (same routes, status codes, error bodies and defaults), so that the same
 * client code drives it and the real Toxiproxy.
 *
 * @since 0.1.0
 */
import * as http from "node:http"
import * as net from "node:net"
import { bearer, hostAllowed, isBrowser, isLoopback, MAX_BODY, newToken, originAllowed, pathSegments, tokenMatches } from "./ApiGuard.ts"
import { Link } from "./Link.ts"
import { ApiError, decodeNew, decodeUpdate, direction, goKind, type Toxic, toJSON as toxicJSON } from "./Toxics.ts"

/**
 * The Toxiproxy version the API reports and follows.
 *
 * @since 0.1.0
 */
export const VERSION = "2.12.0"

const READ_BUFFER = 64 * 1024

interface Listen {
  readonly host: string
  readonly port: number
}

/**
 * Parses a listen address like Go's `net.Listen("tcp", addr)` would, with its messages.
 * Only IP literals and `localhost` resolve (the proxy never asks DNS).
 *
 * @since 0.1.0
 */
export const parseListen = (addr: string): Listen | string => {
  let host: string
  let port: string
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]")
    if (end < 0) return `address ${addr}: missing ']' in address`
    host = addr.slice(1, end)
    const rest = addr.slice(end + 1)
    if (!rest.startsWith(":")) return `address ${addr}: missing port in address`
    port = rest.slice(1)
  } else {
    const i = addr.lastIndexOf(":")
    if (i < 0) return `address ${addr}: missing port in address`
    host = addr.slice(0, i)
    if (host.includes(":")) return `address ${addr}: too many colons in address`
    port = addr.slice(i + 1)
  }
  let portNum = 0
  if (port !== "") {
    if (/^-?\d+$/.test(port)) {
      portNum = Number(port)
      if (portNum < 0 || portNum > 65535) return `address ${port}: invalid port`
    } else {
      return `lookup tcp/${port}: unknown port`
    }
  }
  if (host === "") return { host: "::", port: portNum }
  if (host === "localhost") return { host: "127.0.0.1", port: portNum }
  if (net.isIP(host) === 0) return `lookup ${host}: no such host`
  return { host, port: portNum }
}

/**
 * Why a proxy may not listen on `addr` (a 403), or null. Unless the server allows it, a proxy
 * listens on loopback only: a proxy on every interface would let other machines reach the
 * upstream through this one.
 */
const listenRefused = (listen: string, addr: Listen, allowNonLoopback: boolean): ApiError | null =>
  allowNonLoopback || isLoopback(addr.host)
    ? null
    : new ApiError(403, `listen ${listen}: not a loopback address; this proxy server only opens proxies on 127.0.0.0/8, ::1 or localhost (start it with --allow-non-loopback-proxies to allow others)`)

const formatAddress = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`)

const parseUpstream = (addr: string): Listen | null => {
  const p = parseListen(addr)
  if (typeof p === "string") {
    // Upstreams may be host names (resolved at connect time, like Toxiproxy).
    const i = addr.lastIndexOf(":")
    const port = Number(addr.slice(i + 1))
    return i > 0 && Number.isInteger(port) ? { host: addr.slice(0, i), port } : null
  }
  return { host: p.host === "::" ? "127.0.0.1" : p.host, port: p.port }
}

/**
 * One proxy of the embedded server.
 *
 * @since 0.1.0
 */
export class ProxyState {
  listen: string
  enabled = false
  readonly toxics: Array<Toxic> = []
  readonly links = new Set<Link>()
  private server: net.Server | null = null
  readonly name: string
  upstream: string
  /** Whether this proxy may listen beyond loopback (the server's `allowNonLoopbackProxies`). */
  readonly allowNonLoopback: boolean

  constructor(name: string, listen: string, upstream: string, allowNonLoopback = false) {
    this.name = name
    this.listen = listen
    this.upstream = upstream
    this.allowNonLoopback = allowNonLoopback
  }

  /** Why this proxy may not listen on `listen` (bad address: 500; beyond loopback: 403), or null. */
  checkListen(listen: string, prefix = ""): ApiError | null {
    const addr = parseListen(listen)
    if (typeof addr === "string") return new ApiError(500, `${prefix}${addr}`)
    return listenRefused(listen, addr, this.allowNonLoopback)
  }

  toJSON() {
    const up = this.toxics.filter((t) => direction(t) === "upstream")
    const down = this.toxics.filter((t) => direction(t) === "downstream")
    // `Logger` is a field Toxiproxy 2.12 leaks into its JSON; kept for byte compatibility.
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, Logger: {}, toxics: [...up, ...down].map(toxicJSON) }
  }

  /** Starts listening; resolves `listen` to the bound address. Fails with Go's message. */
  async start(prefix: string): Promise<ApiError | null> {
    if (this.server !== null) return null
    const bad = this.checkListen(this.listen, prefix)
    if (bad !== null) return bad
    const addr = parseListen(this.listen) as Listen
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (client) => this.accept(client))
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once("error", resolve)
      server.listen({ host: addr.host, port: addr.port, ipv6Only: false }, () => {
        server.off("error", resolve)
        resolve(null)
      })
    })
    if (err !== null) {
      const what = err.code === "EADDRINUSE" ? "address already in use" : err.code === "EACCES" ? "permission denied" : err.code === "EADDRNOTAVAIL" ? "cannot assign requested address" : err.message
      return new ApiError(500, `listen tcp ${formatAddress(addr.host, addr.port)}: bind: ${what}`)
    }
    const bound = server.address() as net.AddressInfo
    this.server = server
    this.listen = formatAddress(addr.host, bound.port)
    this.enabled = true
    return null
  }

  /** Stops listening and closes every connection; toxics are kept. */
  async stop() {
    this.enabled = false
    for (const l of Array.from(this.links)) l.close()
    const s = this.server
    this.server = null
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  private accept(client: net.Socket) {
    const up = parseUpstream(this.upstream)
    if (up === null) {
      client.destroy()
      return
    }
    // Server-to-client data (the bulk direction of most protocols) is read into one buffer
    // per connection and handed to the link; see Pipe.onRead.
    let link: Link | null = null
    const server = net.connect({
      host: up.host,
      port: up.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n, buf) => (link === null ? false : link.down.onRead(n, buf)) }
    })
    server.pause()
    const fail = () => {
      client.destroy()
      server.destroy()
    }
    server.once("error", fail)
    client.once("error", fail)
    server.once("connect", () => {
      server.off("error", fail)
      client.off("error", fail)
      if (!this.enabled) return fail()
      link = new Link(client, server, this.toxics, (l) => this.links.delete(l), true)
      this.links.add(link)
    })
  }

  addToxic(t: Toxic) {
    this.toxics.push(t)
    for (const l of this.links) l.add(t)
  }

  removeToxic(t: Toxic) {
    const i = this.toxics.indexOf(t)
    if (i >= 0) this.toxics.splice(i, 1)
    for (const l of Array.from(this.links)) l.remove(t)
  }
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const data = JSON.stringify(body)
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) })
  res.end(data)
}

const apiError = (res: http.ServerResponse, e: ApiError, extra?: Record<string, unknown>) => {
  const data = JSON.stringify({ error: e.error, status: e.status, ...extra }) + "\n"
  res.writeHead(e.status, { "Content-Type": extra ? "application/json" : "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(data) })
  res.end(data)
}

const noContent = (res: http.ServerResponse) => {
  res.writeHead(204)
  res.end()
}

/** Parses a body like Go's json.Decoder: empty is EOF, a syntax error is a 400. */
const parseBody = (text: string): { ok: true; value: unknown } | { ok: false; error: ApiError } => {
  if (text.trim() === "") return { ok: false, error: new ApiError(400, "bad request body: EOF") }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (e) {
    return { ok: false, error: new ApiError(400, `bad request body: ${(e as Error).message}`) }
  }
}

const proxyFields = (b: Record<string, unknown>, struct: string): ApiError | null => {
  for (const k of ["name", "listen", "upstream"]) {
    const v = b[k]
    if (v !== undefined && v !== null && typeof v !== "string") {
      return new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(v, false)} into Go struct field ${struct}.${k} of type string`)
    }
  }
  if (b.enabled !== undefined && b.enabled !== null && typeof b.enabled !== "boolean") {
    return new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(b.enabled, false)} into Go struct field ${struct}.enabled of type bool`)
  }
  return null
}

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

const text = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body), ...headers })
  res.end(body)
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
      apiError(res, new ApiError(401, `${presented === null ? "missing" : "wrong"} API token: send Authorization: Bearer TOKEN, or use the base URL .../token/TOKEN`))
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
        this.route(req.method ?? "GET", parts, Buffer.concat(chunks).toString("utf8"), res).catch((e) =>
          apiError(res, new ApiError(500, e instanceof Error ? e.message : String(e)))
        )
      )
    })
  }

  private async route(method: string, parts: Array<string>, body: string, res: http.ServerResponse): Promise<void> {
    const allow = (...methods: Array<string>) => {
      if (methods.includes(method)) return true
      res.writeHead(405)
      res.end()
      return false
    }
    const notFound = () => {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" })
      res.end("404 page not found\n")
    }
    if (parts.length === 1 && parts[0] === "version") {
      if (!allow("GET")) return
      const data = JSON.stringify({ version: VERSION }) + "\n"
      res.writeHead(200, { "Content-Type": "application/json;charset=utf-8" })
      res.end(data)
      return
    }
    if (parts.length === 1 && parts[0] === "reset") {
      if (!allow("POST")) return
      for (const p of this.proxies.values()) {
        for (const t of Array.from(p.toxics)) p.removeToxic(t)
        if (!p.enabled) await p.start("")
      }
      return noContent(res)
    }
    if (parts.length === 1 && parts[0] === "populate") {
      if (!allow("POST")) return
      return this.populate(body, res)
    }
    if (parts[0] !== "proxies" || parts.length > 4) return notFound()
    if (parts.length === 1) {
      if (!allow("GET", "POST")) return
      if (method === "GET") return json(res, 200, Object.fromEntries([...this.proxies].map(([k, p]) => [k, p.toJSON()])))
      return this.create(body, res)
    }
    const proxy = this.proxies.get(parts[1]!)
    if (parts.length === 2) {
      if (!allow("GET", "POST", "PATCH", "DELETE")) return
      if (proxy === undefined) return apiError(res, new ApiError(404, "proxy not found"))
      if (method === "GET") return json(res, 200, proxy.toJSON())
      if (method === "DELETE") {
        await proxy.stop()
        this.proxies.delete(proxy.name)
        return noContent(res)
      }
      return this.update(proxy, body, res)
    }
    if (parts[2] !== "toxics") return notFound()
    if (parts.length === 3) {
      if (!allow("GET", "POST")) return
      if (proxy === undefined) return apiError(res, new ApiError(404, "proxy not found"))
      if (method === "GET") return json(res, 200, proxy.toJSON().toxics)
      const parsed = parseBody(body)
      if (!parsed.ok) return apiError(res, parsed.error)
      const t = decodeNew(parsed.value)
      if (t instanceof ApiError) return apiError(res, t)
      if (proxy.toxics.some((x) => x.name === t.name)) return apiError(res, new ApiError(409, "toxic already exists"))
      proxy.addToxic(t)
      return json(res, 200, toxicJSON(t))
    }
    if (!allow("GET", "POST", "PATCH", "DELETE")) return
    if (proxy === undefined) return apiError(res, new ApiError(404, "proxy not found"))
    const toxic = proxy.toxics.find((t) => t.name === parts[3])
    if (toxic === undefined) return apiError(res, new ApiError(404, "toxic not found"))
    if (method === "GET") return json(res, 200, toxicJSON(toxic))
    if (method === "DELETE") {
      proxy.removeToxic(toxic)
      return noContent(res)
    }
    const parsed = parseBody(body)
    if (!parsed.ok) return apiError(res, parsed.error)
    const bad = decodeUpdate(toxic, parsed.value)
    if (bad) return apiError(res, bad)
    return json(res, 200, toxicJSON(toxic))
  }

  private async create(body: string, res: http.ServerResponse) {
    const parsed = parseBody(body)
    if (!parsed.ok) return apiError(res, parsed.error)
    const b = parsed.value
    if (typeof b !== "object" || b === null || Array.isArray(b)) {
      return apiError(res, new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(b, false)} into Go value of type toxiproxy.Proxy`))
    }
    const r = await this.createOne(b as Record<string, unknown>, "Proxy", "")
    if (r instanceof ApiError) return apiError(res, r)
    return json(res, 201, r.toJSON())
  }

  /** A well-formed listen address beyond loopback, refused even for a disabled proxy (403). */
  private refusedListen(listen: unknown): ApiError | null {
    if (typeof listen !== "string") return null
    const addr = parseListen(listen)
    return typeof addr === "string" ? null : listenRefused(listen, addr, this.allowNonLoopbackProxies)
  }

  private async createOne(b: Record<string, unknown>, struct: string, suffix: string, replace = false): Promise<ProxyState | ApiError> {
    const bad = proxyFields(b, struct)
    if (bad) return bad
    const name = typeof b.name === "string" ? b.name : ""
    const upstream = typeof b.upstream === "string" ? b.upstream : ""
    if (name === "") return new ApiError(400, `missing required field: name${suffix}`)
    if (upstream === "") return new ApiError(400, `missing required field: upstream${suffix}`)
    const refused = this.refusedListen(b.listen)
    if (refused !== null) return refused
    const existing = this.proxies.get(name)
    if (existing !== undefined) {
      if (!replace) return new ApiError(409, "proxy already exists")
      await existing.stop()
      this.proxies.delete(name)
    }
    const p = new ProxyState(name, typeof b.listen === "string" ? b.listen : "", upstream, this.allowNonLoopbackProxies)
    if (b.enabled !== false) {
      const err = await p.start("listen tcp: ")
      if (err) return err
    }
    this.proxies.set(name, p)
    return p
  }

  private async populate(body: string, res: http.ServerResponse) {
    const parsed = parseBody(body)
    if (!parsed.ok) return apiError(res, parsed.error, { proxies: null })
    const list = parsed.value
    if (!Array.isArray(list)) {
      return apiError(res, new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(list, false)} into Go value of type []struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }`), { proxies: null })
    }
    // Toxiproxy validates every entry before it touches any proxy.
    for (let i = 0; i < list.length; i++) {
      const b = list[i]
      if (typeof b !== "object" || b === null || Array.isArray(b)) {
        return apiError(res, new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(b, false)} into Go value of type struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }`), { proxies: null })
      }
      const bad = proxyFields(b, "Proxy")
      if (bad) return apiError(res, bad, { proxies: null })
      if (typeof b.name !== "string" || b.name === "") return apiError(res, new ApiError(400, `missing required field: name at proxy ${i + 1}`), { proxies: null })
      if (typeof b.upstream !== "string" || b.upstream === "") return apiError(res, new ApiError(400, `missing required field: upstream at proxy ${i + 1}`), { proxies: null })
      const refused = this.refusedListen(b.listen)
      if (refused !== null) return apiError(res, refused, { proxies: null })
    }
    const done: Array<ProxyState> = []
    for (const b of list as Array<Record<string, unknown>>) {
      const existing = this.proxies.get(b.name as string)
      if (existing && existing.upstream === b.upstream && (b.listen === undefined || b.listen === existing.listen)) {
        done.push(existing)
        continue
      }
      const r = await this.createOne(b, "Proxy", "", true)
      if (r instanceof ApiError) return apiError(res, r, { proxies: done.length === 0 ? null : done.map((p) => p.toJSON()) })
      done.push(r)
    }
    return json(res, 201, { proxies: done.length === 0 ? null : done.map((p) => p.toJSON()) })
  }

  private async update(proxy: ProxyState, body: string, res: http.ServerResponse) {
    const parsed = parseBody(body)
    if (!parsed.ok) return apiError(res, parsed.error)
    const b = parsed.value
    if (typeof b !== "object" || b === null || Array.isArray(b)) {
      return apiError(res, new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(b, false)} into Go value of type toxiproxy.Proxy`))
    }
    const bad = proxyFields(b as Record<string, unknown>, "Proxy")
    if (bad) return apiError(res, bad)
    const { listen, upstream, enabled } = b as { listen?: string; upstream?: string; enabled?: boolean }
    const newListen = typeof listen === "string" && listen !== "" ? listen : proxy.listen
    const newUpstream = typeof upstream === "string" && upstream !== "" ? upstream : proxy.upstream
    const wantEnabled = typeof enabled === "boolean" ? enabled : proxy.enabled
    if (newListen !== proxy.listen || newUpstream !== proxy.upstream) {
      // Checked before the proxy stops, so a refused address leaves it where it was.
      const bad = proxy.checkListen(newListen)
      if (bad !== null) return apiError(res, bad)
      const wasEnabled = proxy.enabled
      await proxy.stop()
      proxy.listen = newListen
      proxy.upstream = newUpstream
      if (wasEnabled && wantEnabled) {
        const err = await proxy.start("")
        if (err) return apiError(res, err)
      }
    }
    if (wantEnabled && !proxy.enabled) {
      const err = await proxy.start("")
      if (err) return apiError(res, err)
    } else if (!wantEnabled && proxy.enabled) {
      await proxy.stop()
    }
    return json(res, 200, proxy.toJSON())
  }
}
