/**
 * `upstream` toxics (client to server), against the embedded proxy and the real Toxiproxy:
 * the same cases for both. Every assertion is made on what the upstream server receives,
 * and timings are lower bounds only (a loaded machine makes things later, never earlier).
 */
import * as net from "node:net"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { describeWith } from "../integration/require.ts"
import { type ApiServer, call, clear, connect, startEmbedded, startReal, TOXIPROXY_MISSING } from "./servers.ts"

/** What the upstream server saw on one connection. */
interface Received {
  readonly acceptedAt: number
  readonly chunks: Array<{ readonly at: number; readonly bytes: number }>
  total: number
  closedAt: number | null
}

/** A TCP server on 127.0.0.1 that only records what arrives, and when. */
const sinkServer = async () => {
  const connections: Array<Received> = []
  const sockets = new Set<net.Socket>()
  const waiters: Array<() => void> = []
  const changed = () => waiters.splice(0).forEach((w) => w())
  const s = net.createServer((c) => {
    const rec: Received = { acceptedAt: performance.now(), chunks: [], total: 0, closedAt: null }
    connections.push(rec)
    sockets.add(c)
    c.on("data", (d: Buffer) => {
      rec.chunks.push({ at: performance.now(), bytes: d.length })
      rec.total += d.length
      changed()
    })
    c.on("error", () => {})
    c.on("close", () => {
      rec.closedAt = performance.now()
      sockets.delete(c)
      changed()
    })
    changed()
  })
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r))
  const port = (s.address() as net.AddressInfo).port
  /** Resolves when `pred` holds, or rejects after `limitMs`. */
  const until = (pred: () => boolean, what: string, limitMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), limitMs)
      const check = () => {
        if (pred()) {
          clearTimeout(timer)
          resolve()
        } else waiters.push(check)
      }
      check()
    })
  return {
    addr: `127.0.0.1:${port}`,
    connections,
    until,
    reset: () => connections.splice(0),
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy()
        s.close(() => r())
      })
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// Timers may round by a millisecond; nothing here may arrive earlier than that.
const SLACK_MS = 2

const defineUpstream = (start: () => Promise<ApiServer>) => {
  let api: ApiServer
  let sink: Awaited<ReturnType<typeof sinkServer>>
  const clients: Array<net.Socket> = []
  beforeAll(async () => {
    api = await start()
    sink = await sinkServer()
  })
  afterAll(async () => {
    clients.forEach((c) => c.destroy())
    await api?.stop()
    await sink?.close()
  })
  beforeEach(async () => {
    await clear(api.url)
    sink.reset()
  })

  // A proxy to the sink with one upstream toxic; returns a connected client and the sink's
  // record of the connection the proxy opened for it.
  const through = async (toxic: { type: string; attributes: Record<string, number> }) => {
    const created = await call(api.url, "POST", "/proxies", { name: "up", listen: "127.0.0.1:0", upstream: sink.addr })
    expect(created.status).toBe(201)
    const t = await call(api.url, "POST", "/proxies/up/toxics", { ...toxic, stream: "upstream" })
    expect(t.status).toBe(200)
    expect((t.body as { stream: string }).stream).toBe("upstream")
    const connectStarted = performance.now()
    const c = await connect((created.body as { listen: string }).listen)
    c.on("error", () => {})
    clients.push(c)
    await sink.until(() => sink.connections.length === 1, "the proxy's upstream connection")
    return { c, rec: sink.connections[0]!, connectStarted }
  }

  it("latency upstream: bytes reach the server no sooner than the latency after they were sent", async () => {
    const LATENCY = 300
    const { c, rec } = await through({ type: "latency", attributes: { latency: LATENCY, jitter: 0 } })
    const sent = performance.now()
    c.write("hello")
    await sink.until(() => rec.total >= 5, "the bytes at the server")
    const delay = rec.chunks[0]!.at - sent
    expect(delay).toBeGreaterThanOrEqual(LATENCY - SLACK_MS)
  })

  it("limit_data upstream: the server receives exactly the limit, then the connection is closed", async () => {
    const LIMIT = 100
    const { c, rec } = await through({ type: "limit_data", attributes: { bytes: LIMIT } })
    c.write(Buffer.alloc(5_000, 0x62))
    await sink.until(() => rec.closedAt !== null, "the upstream connection to close")
    expect(rec.total).toBe(LIMIT)
  })

  it("timeout upstream: nothing reaches the server, and the connection closes no sooner than the timeout", async () => {
    const TIMEOUT = 400
    const { c, rec, connectStarted } = await through({ type: "timeout", attributes: { timeout: TIMEOUT } })
    c.write("never delivered")
    await sink.until(() => rec.closedAt !== null, "the upstream connection to close")
    expect(rec.total).toBe(0)
    expect(rec.closedAt! - connectStarted).toBeGreaterThanOrEqual(TIMEOUT - SLACK_MS)
  })

  it("an upstream toxic leaves the other direction alone: a downstream limit_data does not cut what the server receives", async () => {
    // The control for the cases above: the direction is what makes the difference.
    const created = await call(api.url, "POST", "/proxies", { name: "up", listen: "127.0.0.1:0", upstream: sink.addr })
    expect(created.status).toBe(201)
    expect((await call(api.url, "POST", "/proxies/up/toxics", { type: "limit_data", stream: "downstream", attributes: { bytes: 100 } })).status).toBe(200)
    const c = await connect((created.body as { listen: string }).listen)
    c.on("error", () => {})
    clients.push(c)
    await sink.until(() => sink.connections.length === 1, "the proxy's upstream connection")
    c.write(Buffer.alloc(5_000, 0x63))
    await sink.until(() => sink.connections[0]!.total >= 5_000, "all 5000 bytes at the server")
    await sleep(50)
    expect(sink.connections[0]!.total).toBe(5_000)
  })
}

describe("embedded proxy: upstream toxics", () => {
  defineUpstream(startEmbedded)
})

describeWith("Toxiproxy (real server): upstream toxics", TOXIPROXY_MISSING, () => {
  defineUpstream(() => startReal())
})
