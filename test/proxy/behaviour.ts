/**
 * Toxic behaviour on real sockets, defined once and run against any Toxiproxy-compatible
 * server (the embedded proxy always; the real Toxiproxy in the integration suite). Bounds
 * are generous: these are functional checks on a possibly loaded machine; accuracy figures
 * live in the benchmarks.
 */
import type * as net from "node:net"
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest"
import { type ApiServer, blastServer, call, clear, connect, echoServer, readAll, roundTrip } from "./servers.ts"

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export const defineBehaviour = (start: () => Promise<ApiServer>) => {
  let api: ApiServer
  let echo: Awaited<ReturnType<typeof echoServer>>
  let blast: Awaited<ReturnType<typeof blastServer>>
  const BLAST = 1_000_000
  beforeAll(async () => {
    api = await start()
    echo = await echoServer()
    blast = await blastServer(BLAST)
  })
  afterAll(async () => {
    await api?.stop()
    await echo?.close()
    await blast?.close()
  })
  beforeEach(async () => clear(api.url))

  const proxy = async (upstream: string, name = "p") => {
    const r = await call(api.url, "POST", "/proxies", { name, listen: "127.0.0.1:0", upstream })
    expect(r.status).toBe(201)
    return (r.body as { listen: string }).listen
  }
  const toxic = async (body: object, name = "p") => {
    const r = await call(api.url, "POST", `/proxies/${name}/toxics`, body)
    expect(r.status).toBe(200)
  }
  const sockets: Array<net.Socket> = []
  const open = async (addr: string) => {
    const c = await connect(addr)
    sockets.push(c)
    c.on("error", () => {})
    return c
  }
  afterAll(() => sockets.forEach((s) => s.destroy()))

  it("no toxic: bytes pass unchanged both ways", async () => {
    const c = await open(await proxy(echo.addr))
    const payload = Buffer.alloc(200_000, 7)
    // Toxiproxy closes both sides on a client's FIN, so read the echo before ending.
    const data = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Array<Buffer> = []
      let n = 0
      const timer = setTimeout(() => reject(new Error(`only ${n} bytes echoed`)), 20_000)
      c.on("data", (d: Buffer) => {
        chunks.push(d)
        n += d.length
        if (n >= payload.length) {
          clearTimeout(timer)
          resolve(Buffer.concat(chunks))
        }
      })
      c.write(payload)
    })
    expect(data.equals(payload)).toBe(true)
  })

  it("latency adds latency +- jitter (+10 ms) to a round trip", async () => {
    const c = await open(await proxy(echo.addr))
    const base: Array<number> = []
    for (let i = 0; i < 5; i++) base.push(await roundTrip(c))
    await toxic({ type: "latency", attributes: { latency: 60, jitter: 10 } })
    const slow: Array<number> = []
    for (let i = 0; i < 7; i++) slow.push(await roundTrip(c))
    const added = median(slow) - median(base)
    expect(added).toBeGreaterThanOrEqual(60 - 10 - 1)
    expect(added).toBeLessThanOrEqual(60 + 10 + 10)
  })

  it("bandwidth limits throughput to the rate within 10%", async () => {
    const addr = await proxy(blast.addr)
    await toxic({ type: "bandwidth", attributes: { rate: 1000 } }) // 1000 KB/s: 1 MB takes 1 s
    const c = await open(addr)
    const t0 = performance.now()
    const r = await readAll(c, 20_000)
    const ms = performance.now() - t0
    expect(r.data.length).toBe(BLAST)
    expect(ms).toBeGreaterThanOrEqual(900)
    expect(ms).toBeLessThanOrEqual(1100)
  })

  it("reset_peer resets the connection (ECONNRESET)", async () => {
    const addr = await proxy(echo.addr)
    await toxic({ type: "reset_peer", attributes: { timeout: 0 } })
    const c = await open(addr)
    const r = readAll(c, 10_000)
    c.write("hello")
    const out = await r
    expect(out.end).toBe("error")
    expect(out.code).toBe("ECONNRESET")
  })

  it("limit_data truncates at the byte and closes", async () => {
    const addr = await proxy(blast.addr)
    await toxic({ type: "limit_data", attributes: { bytes: 12_345 } })
    const c = await open(addr)
    const r = await readAll(c, 10_000)
    expect(r.end).not.toBe("timeout")
    expect(r.data.length).toBe(12_345)
  })

  it("toxicity is rolled per connection: 0 never, 1 always, 0.5 some of the time", async () => {
    const addr = await proxy(blast.addr)
    const truncated = async (n: number) => {
      let count = 0
      for (let i = 0; i < n; i++) {
        const r = await readAll(await open(addr), 10_000)
        if (r.data.length === 10) count++
        else expect(r.data.length).toBe(BLAST)
      }
      return count
    }
    await toxic({ type: "limit_data", name: "ld", attributes: { bytes: 10 }, toxicity: 0 })
    expect(await truncated(5)).toBe(0)
    await call(api.url, "PATCH", "/proxies/p/toxics/ld", { toxicity: 1 })
    expect(await truncated(5)).toBe(5)
    await call(api.url, "PATCH", "/proxies/p/toxics/ld", { toxicity: 0.5 })
    // 40 fair coin flips land outside [5, 35] with probability ~2e-6.
    const some = await truncated(40)
    expect(some).toBeGreaterThanOrEqual(5)
    expect(some).toBeLessThanOrEqual(35)
  })

  it("timeout 0 holds data; removing it closes the connection", async () => {
    const addr = await proxy(echo.addr)
    await toxic({ type: "timeout", attributes: { timeout: 0 } })
    const c = await open(addr)
    let got = 0
    c.on("data", (d: Buffer) => (got += d.length))
    const closed = new Promise<void>((r) => c.once("close", () => r()))
    c.write("held")
    await new Promise((r) => setTimeout(r, 300))
    expect(got).toBe(0)
    expect((await call(api.url, "DELETE", "/proxies/p/toxics/timeout_downstream")).status).toBe(204)
    await closed
    expect(got).toBe(0)
  })

  it("disable closes live connections and keeps toxics", async () => {
    const addr = await proxy(echo.addr)
    await toxic({ type: "latency", attributes: { latency: 1 } })
    const c = await open(addr)
    await roundTrip(c)
    const closed = new Promise<void>((r) => c.once("close", () => r()))
    const r = await call(api.url, "POST", "/proxies/p", { enabled: false })
    expect(r.status).toBe(200)
    expect((r.body as { toxics: Array<unknown> }).toxics.length).toBe(1)
    await closed
  })

  it("65,535 ordered writes arrive intact while toxics are added and removed", async () => {
    const c = await open(await proxy(echo.addr))
    const N = 65_535
    const sent = Buffer.alloc(N * 2)
    for (let i = 0; i < N; i++) sent.writeUInt16BE(i, i * 2)
    const got = new Promise<Buffer>((resolve, reject) => {
      const chunks: Array<Buffer> = []
      let n = 0
      const timer = setTimeout(() => reject(new Error(`only ${n} bytes echoed`)), 60_000)
      c.on("data", (d: Buffer) => {
        chunks.push(d)
        n += d.length
        if (n >= sent.length) {
          clearTimeout(timer)
          resolve(Buffer.concat(chunks))
        }
      })
    })
    let churn = true
    const churner = (async () => {
      const kinds = [
        { type: "latency", attributes: { latency: 1, jitter: 1 } },
        { type: "slicer", attributes: { average_size: 64, size_variation: 32, delay: 10 } },
        { type: "bandwidth", attributes: { rate: 100_000 } },
        { type: "noop" }
      ]
      for (let i = 0; churn && i < 2000; i++) {
        const k = kinds[i % kinds.length]!
        const stream = i % 2 === 0 ? "downstream" : "upstream"
        await call(api.url, "POST", "/proxies/p/toxics", { ...k, name: `t${i}`, stream })
        if (i >= 2) await call(api.url, "DELETE", `/proxies/p/toxics/t${i - 2}`)
      }
    })()
    // In 64 paced batches, so that toxics come and go while the bytes flow.
    for (let b = 0; b < 64; b++) {
      for (let i = b * 1024; i < Math.min(N, (b + 1) * 1024); i++) c.write(sent.subarray(i * 2, i * 2 + 2))
      await new Promise((r) => setTimeout(r, 5))
    }
    const data = await got
    churn = false
    await churner
    expect(data.length).toBe(sent.length)
    expect(data.equals(sent)).toBe(true)
  })
}
