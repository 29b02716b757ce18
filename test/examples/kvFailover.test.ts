// Integration test of examples/kv-failover: real child processes on 127.0.0.1.
import { afterEach, describe, expect, it } from "vitest"
import { startOutageFixture, startSystem } from "../../examples/kv-failover/system.mjs"

type Stoppable = { stop(): Promise<void> }
const running: Stoppable[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()))
})

async function track<T extends Stoppable>(p: Promise<T>): Promise<T> {
  const s = await p
  running.push(s)
  return s
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

async function put(base: string, key: string, value: string): Promise<Response> {
  return fetch(`${base}/kv/${encodeURIComponent(key)}`, { method: "PUT", body: value })
}

async function get(base: string, key: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}/kv/${encodeURIComponent(key)}`)
  return { status: res.status, body: await res.text() }
}

/** Poll `fn` every `everyMs` until it returns true; fail after `withinMs`. */
async function until(fn: () => Promise<boolean>, withinMs: number, everyMs = 10): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await fn().catch(() => false)) return performance.now() - start
    if (performance.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`)
    await sleep(everyMs)
  }
}

/** Kill the primary, then poll writes through the router until one succeeds (≤ 3 s, every 10 ms). */
async function killPrimaryAndAwaitWrite(sys: { routerUrl: string; pids: { primary: number } }) {
  process.kill(sys.pids.primary, "SIGKILL")
  const failures: number[] = []
  let attempt = 0
  const elapsed = await until(async () => {
    const res = await put(sys.routerUrl, `after-failover-${attempt++}`, "x")
    await res.body?.cancel()
    if (res.status !== 200) failures.push(res.status)
    return res.status === 200
  }, 3000)
  return { elapsed, failures }
}

describe("examples/kv-failover", () => {
  it("replicates, fails over to the standby after the primary is killed", async () => {
    const stderr: string[] = []
    const sys = await track(
      startSystem({ lagMs: 50, checkMs: 20, failAfter: 2, onStderr: (line, name) => stderr.push(`${name}: ${line}`) })
    )
    for (const u of [sys.routerUrl, sys.primaryUrl, sys.standbyUrl]) expect(new URL(u).hostname).toBe("127.0.0.1")

    const health = await (await fetch(`${sys.standbyUrl}/health`)).json()
    expect(health).toEqual({ ok: true, role: "standby" })
    expect(await (await fetch(`${sys.routerUrl}/router/status`)).json()).toEqual({ active: "primary", failovers: 0 })

    const seqs: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await put(sys.routerUrl, `k${i}`, `v${i}`)
      expect(res.status).toBe(200)
      const body = (await res.json()) as { ok: boolean; seq: number }
      expect(body.ok).toBe(true)
      seqs.push(body.seq)
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5])
    for (let i = 0; i < 5; i++) expect(await get(sys.routerUrl, `k${i}`)).toEqual({ status: 200, body: `v${i}` })
    expect((await get(sys.routerUrl, "missing")).status).toBe(404)

    // The standby is read-only until promoted.
    const rejected = await put(sys.standbyUrl, "direct", "nope")
    expect(rejected.status).toBe(503)
    expect(await rejected.json()).toEqual({ error: "read-only standby" })

    // Replication reaches the standby after the lag.
    await until(async () => (await get(sys.standbyUrl, "k4")).status === 200, 2000)
    for (let i = 0; i < 5; i++) expect(await get(sys.standbyUrl, `k${i}`)).toEqual({ status: 200, body: `v${i}` })

    const { elapsed, failures } = await killPrimaryAndAwaitWrite(sys)
    expect(elapsed).toBeLessThan(3000)
    for (const status of failures) expect(status).toBe(502)

    expect(await (await fetch(`${sys.routerUrl}/router/status`)).json()).toEqual({ active: "standby", failovers: 1 })
    expect(await (await fetch(`${sys.standbyUrl}/health`)).json()).toEqual({ ok: true, role: "primary" })
    await until(async () => stderr.some((l) => /^router: FAILOVER \d+(\.\d+)?$/.test(l)), 1000)
    // Replicated data survived the failover.
    for (let i = 0; i < 5; i++) expect(await get(sys.routerUrl, `k${i}`)).toEqual({ status: 200, body: `v${i}` })

    await sys.stop()
    await sys.stop() // safe to call twice
    for (const pid of Object.values(sys.pids)) expect(() => process.kill(pid, 0)).toThrow()
  }, 20_000)

  it("loses writes acknowledged inside the replication lag window (RPO)", async () => {
    const sys = await track(startSystem({ lagMs: 2000, checkMs: 20, failAfter: 2, onStderr: () => {} }))

    expect((await put(sys.routerUrl, "old", "survives")).status).toBe(200)
    // Wait until the old write has been shipped (≈ 2 s lag).
    await until(async () => (await get(sys.standbyUrl, "old")).status === 200, 5000, 25)

    // This write is acknowledged by the primary but is certainly not shipped for another 2 s.
    const res = await put(sys.routerUrl, "new", "lost")
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, seq: 2 })
    expect(await get(sys.routerUrl, "new")).toEqual({ status: 200, body: "lost" })

    const { elapsed } = await killPrimaryAndAwaitWrite(sys)
    expect(elapsed).toBeLessThan(3000)
    expect(await (await fetch(`${sys.routerUrl}/router/status`)).json()).toEqual({ active: "standby", failovers: 1 })

    expect(await get(sys.routerUrl, "old")).toEqual({ status: 200, body: "survives" })
    expect((await get(sys.routerUrl, "new")).status).toBe(404)
  }, 20_000)

  it("outage fixture records the true outage interval", async () => {
    const fx = await track(startOutageFixture())
    expect(new URL(fx.url).hostname).toBe("127.0.0.1")
    expect((await fetch(`${fx.url}/health`)).status).toBe(200)
    expect(await (await fetch(`${fx.url}/outages`)).json()).toEqual([])

    const posted = await fetch(`${fx.url}/outage?ms=100`, { method: "POST" })
    expect(posted.status).toBe(200)
    await posted.body?.cancel()

    const first = await fetch(`${fx.url}/health`)
    await first.body?.cancel()
    expect(first.status).toBe(503)

    await until(
      async () => {
        const res = await fetch(`${fx.url}/health`)
        await res.body?.cancel()
        return res.status === 200
      },
      1000,
      5
    )

    const outages = (await (await fetch(`${fx.url}/outages`)).json()) as Array<{
      startMs: number
      endMs: number
      durationMs: number
    }>
    expect(outages).toHaveLength(1)
    const [o] = outages
    expect(o.durationMs).toBeGreaterThanOrEqual(100)
    expect(o.durationMs).toBeLessThan(150)
    expect(o.endMs - o.startMs).toBeCloseTo(o.durationMs, 6)
  }, 10_000)
})
