/**
 * One proxy of the embedded server: its listener, its upstream, its toxics and its live
 * links, and the listen addresses it accepts.
 *
 * @since 0.1.0
 */
import * as net from "node:net"
import { isLoopback } from "./ApiGuard.ts"
import { Link } from "./Link.ts"
import { ApiError, direction, type Toxic, toJSON as toxicJSON } from "./Toxics.ts"

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
export const listenRefused = (listen: string, addr: Listen, allowNonLoopback: boolean): ApiError | null =>
  allowNonLoopback || isLoopback(addr.host)
    ? null
    : new ApiError(
      403,
      `listen ${listen}: not a loopback address; this proxy server only opens proxies on 127.0.0.0/8, ::1 or localhost (start it with --allow-non-loopback-proxies to allow others)`
    )

export const formatAddress = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`)

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
      const what = err.code === "EADDRINUSE"
        ? "address already in use"
        : err.code === "EACCES"
        ? "permission denied"
        : err.code === "EADDRNOTAVAIL"
        ? "cannot assign requested address"
        : err.message
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
