/**
 * A Prometheus SLI against a real Prometheus (Debian's `prometheus`), started by this test on
 * loopback with a generated config, scraping the `/metrics` endpoint of the kv-failover
 * example's router. 90 requests succeed and 10 miss (404): with an objective of 0.8 the
 * budget is half spent and the burn rate is 0.5, which the error-budget guard judges.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, it } from "@effect/vitest"
import { Effect } from "effect"
import { startSystem } from "../../../examples/kv-failover/system.mjs"
import { Guard, Slo, SloSources } from "../../../src/index.ts"
import { describeWith } from "../require.ts"

const PROMETHEUS = "/usr/bin/prometheus"
const missing = fs.existsSync(PROMETHEUS) ? null : `${PROMETHEUS} is not installed (apt-get install prometheus)`

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const waitFor = async <A>(what: string, f: () => Promise<A | null>, timeoutMs: number): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const v = await f().catch(() => null)
    if (v !== null) return v
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

describeWith("Prometheus SLI", missing, () => {
  let dir = ""
  let prom: ChildProcess | null = null
  let sys: Awaited<ReturnType<typeof startSystem>> | null = null
  let promUrl = ""

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-prom-"))
    sys = await startSystem({ lagMs: 10, onStderr: () => {} })
    const port = await freePort()
    promUrl = `http://127.0.0.1:${port}`
    const target = new URL(sys!.routerUrl).host
    fs.writeFileSync(
      path.join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: kv-router",
        "    static_configs:",
        `      - targets: ["${target}"]`,
        ""
      ].join("\n")
    )
    prom = spawn(PROMETHEUS, [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`
    ], { stdio: "ignore" })
    await waitFor("Prometheus to be ready", async () => (await fetch(`${promUrl}/-/ready`)).ok ? true : null, 30_000)
    // 90 good requests and 10 misses, through the router.
    for (let i = 0; i < 90; i++) await (await fetch(`${sys!.routerUrl}/health`)).text()
    for (let i = 0; i < 10; i++) await (await fetch(`${sys!.routerUrl}/kv/missing-${i}`)).text()
    // Prometheus has scraped them all.
    await waitFor("Prometheus to scrape 100 requests", async () => {
      const u = new URL("/api/v1/query", promUrl)
      u.searchParams.set("query", "sum(kv_router_requests_total)")
      const body = await (await fetch(u)).json() as { data: { result: Array<{ value: [number, string] }> } }
      return Number(body.data.result[0]?.value[1]) === 100 ? true : null
    }, 30_000)
  }, 90_000)

  afterAll(async () => {
    prom?.kill("SIGTERM")
    await sys?.stop()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  // Counters started at zero with the router: the highest value in the window is the count.
  const slo = () =>
    Slo.make({
      name: "router availability",
      sli: {
        prometheus: {
          url: promUrl,
          good: `sum(max_over_time(kv_router_requests_total{code=~"2.."}[$window]))`,
          total: `sum(max_over_time(kv_router_requests_total[$window]))`
        }
      },
      objective: 0.8,
      window: "1 hour"
    })

  it.live("reads good and total from Prometheus: 10 bad of 100 spend half of a 20% budget", () =>
    Effect.gen(function*() {
      const source = SloSources.make()
      const b = yield* source.budget(slo())
      assert.strictEqual(b.total, 100)
      assert.strictEqual(b.good, 90)
      assert.closeTo(b.remaining, 0.5, 1e-9)
      const burn = yield* source.burnRate(slo(), 600_000)
      assert.closeTo(burn.rate, 0.5, 1e-9)
    }))

  it.live("Guard.errorBudget judges the Prometheus budget: 50% left passes 0.4 and refuses 0.6", () =>
    Effect.gen(function*() {
      const ok = yield* Guard.check(Guard.errorBudget({ slo: slo(), minRemaining: 0.4 }), [])
      assert.include(ok, "50.0% of the error budget left (10 bad of 100 events)")
      const refused = yield* Effect.flip(Guard.check(Guard.errorBudget({ slo: slo(), minRemaining: 0.6 }), []))
      assert.include(refused.reason, "needs 60.0%")
    }).pipe(Effect.provide(SloSources.layer())))

  it.live("a query Prometheus rejects is SloUnavailable naming the query, and the guard refuses", () =>
    Effect.gen(function*() {
      const bad = Slo.make({ ...slo(), sli: { prometheus: { url: promUrl, good: "sum(rate(", total: "1" } } })
      const e = yield* Effect.flip(SloSources.make().budget(bad))
      assert.strictEqual(e._tag, "SloUnavailable")
      assert.include(e.message, "query sum(rate(")
      const refused = yield* Effect.flip(Guard.check(Guard.errorBudget({ slo: bad, minRemaining: 0 }), []))
      assert.include(refused.reason, "Prometheus")
    }).pipe(Effect.provide(SloSources.layer())))
})
