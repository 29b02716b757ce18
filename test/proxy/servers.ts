/**
 * Test helpers: start the embedded proxy or the real Toxiproxy (on 127.0.0.1, a free port),
 * a tiny HTTP client for the API, and TCP fixtures (echo, blast) on loopback.
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { EmbeddedServer } from "../../src/proxy/Server.ts"

/**
 * Where the real toxiproxy-server binary is, or null. An explicit TOXIPROXY_SERVER is the
 * only candidate, so a wrong one reads as missing (which is how the skip path is tested).
 */
export const findToxiproxy = (): string | null => {
  const candidates: Array<string> = []
  if (process.env.TOXIPROXY_SERVER) {
    candidates.push(process.env.TOXIPROXY_SERVER)
  } else {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir) candidates.push(path.join(dir, "toxiproxy-server"))
    try {
      const gopath = execFileSync("go", ["env", "GOPATH"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim()
      if (gopath) candidates.push(path.join(gopath, "bin", "server"))
    } catch {
      // no Go toolchain: fall through to the usual place
    }
    candidates.push(path.join(os.homedir(), "go", "bin", "server"))
  }
  return candidates.find((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  }) ?? null
}

export const TOXIPROXY = findToxiproxy()
export const TOXIPROXY_MISSING = TOXIPROXY === null
  ? "the toxiproxy-server binary was not found (set TOXIPROXY_SERVER, or `go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0`)"
  : null

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

export interface ApiServer {
  readonly kind: "embedded" | "real"
  readonly url: string
  /** The embedded server's write token (the real Toxiproxy has none). */
  readonly token?: string
  readonly stop: () => Promise<void>
}

/** The write token of each embedded server the tests started, by URL; `call` sends it. */
const tokens = new Map<string, string>()

export const startEmbedded = async (): Promise<ApiServer> => {
  const server = new EmbeddedServer()
  const url = await server.listen("127.0.0.1:0")
  if (server.token !== null) tokens.set(url, server.token)
  return {
    kind: "embedded",
    url,
    ...(server.token === null ? {} : { token: server.token }),
    stop: async () => {
      tokens.delete(url)
      await server.close()
    }
  }
}

export const startReal = async (bin = TOXIPROXY!): Promise<ApiServer> => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const child = spawn(bin, ["-host", "127.0.0.1", "-port", String(port)], { stdio: "ignore" })
    const url = `http://127.0.0.1:${port}`
    const stop = () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once("exit", () => resolve())
        child.kill("SIGTERM")
      })
    for (let i = 0; i < 200 && child.exitCode === null; i++) {
      try {
        const r = await fetch(`${url}/version`)
        if (r.ok) return { kind: "real", url, stop }
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    await stop()
  }
  throw new Error("toxiproxy-server did not start")
}

export interface Reply {
  readonly status: number
  readonly body: unknown
}

/**
 * One API call; the body is parsed as JSON when it is JSON, else kept as text. An embedded
 * server's write token is sent as a client of it would (the real Toxiproxy ignores it).
 */
export const call = async (url: string, method: string, p: string, body?: string | object, headers: Record<string, string> = {}): Promise<Reply> => {
  const token = tokens.get(url)
  const r = await fetch(`${url}${p}`, {
    method,
    headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
  })
  const text = await r.text()
  let parsed: unknown = text
  try {
    parsed = text === "" ? "" : JSON.parse(text)
  } catch {
    // keep the text
  }
  return { status: r.status, body: parsed }
}

/** Deletes every proxy. */
export const clear = async (url: string) => {
  const all = await call(url, "GET", "/proxies")
  for (const name of Object.keys(all.body as object)) await call(url, "DELETE", `/proxies/${name}`)
}

/** A TCP echo server on 127.0.0.1. */
export const echoServer = async () => {
  const sockets = new Set<net.Socket>()
  const s = net.createServer({ allowHalfOpen: true }, (c) => {
    sockets.add(c)
    c.on("close", () => sockets.delete(c))
    c.on("error", () => {})
    c.pipe(c)
  })
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r))
  const port = (s.address() as net.AddressInfo).port
  return {
    port,
    addr: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy()
        s.close(() => r())
      })
  }
}

/** A TCP server that sends `bytes` bytes to each client, then ends. */
export const blastServer = async (bytes: number) => {
  const sockets = new Set<net.Socket>()
  const payload = Buffer.alloc(bytes, 0x61)
  const s = net.createServer((c) => {
    sockets.add(c)
    c.on("close", () => sockets.delete(c))
    c.on("error", () => {})
    c.end(payload)
  })
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r))
  const port = (s.address() as net.AddressInfo).port
  return {
    port,
    addr: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy()
        s.close(() => r())
      })
  }
}

/** Connects to a `host:port` on loopback. */
export const connect = (addr: string) =>
  new Promise<net.Socket>((resolve, reject) => {
    const i = addr.lastIndexOf(":")
    const c = net.connect({ host: "127.0.0.1", port: Number(addr.slice(i + 1)), noDelay: true })
    c.once("connect", () => {
      c.off("error", reject)
      resolve(c)
    })
    c.once("error", reject)
  })

/** Reads until the socket ends, errors or `limitMs` passes; returns what arrived and how it ended. */
export const readAll = (c: net.Socket, limitMs = 20_000) =>
  new Promise<{ data: Buffer; end: "end" | "error" | "timeout"; code?: string; firstByteMs: number; lastByteMs: number }>((resolve) => {
    const t0 = performance.now()
    let first = -1
    let last = -1
    const chunks: Array<Buffer> = []
    const done = (end: "end" | "error" | "timeout", code?: string) => {
      clearTimeout(timer)
      c.removeAllListeners("data")
      resolve({ data: Buffer.concat(chunks), end, ...(code ? { code } : {}), firstByteMs: first, lastByteMs: last })
    }
    const timer = setTimeout(() => done("timeout"), limitMs)
    c.on("data", (d: Buffer) => {
      const now = performance.now() - t0
      if (first < 0) first = now
      last = now
      chunks.push(d)
    })
    c.once("end", () => done("end"))
    c.once("close", () => done("end"))
    c.once("error", (e: NodeJS.ErrnoException) => done("error", e.code))
  })

/** Round trip of one small message through an echo path, in ms. */
export const roundTrip = (c: net.Socket, msg = Buffer.from("ping")) =>
  new Promise<number>((resolve, reject) => {
    const t0 = performance.now()
    let got = 0
    const onData = (d: Buffer) => {
      got += d.length
      if (got >= msg.length) {
        c.off("data", onData)
        c.off("error", reject)
        resolve(performance.now() - t0)
      }
    }
    c.on("data", onData)
    c.once("error", reject)
    c.write(msg)
  })
