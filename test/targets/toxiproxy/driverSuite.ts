/**
 * The Toxiproxy driver's behaviour, defined once and run against the embedded proxy (always)
 * and the real Toxiproxy (integration suite): the same code path drives both.
 */
import { Effect, Exit, Layer } from "effect"
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest"
import * as Fault from "../../../src/core/Fault.ts"
import * as Probe from "../../../src/core/Probe.ts"
import * as Run from "../../../src/core/Run.ts"
import * as Selector from "../../../src/core/Selector.ts"
import * as Toxiproxy from "../../../src/targets/toxiproxy/index.ts"
import { type ApiServer, clear, echoServer } from "../../proxy/servers.ts"

export const defineDriverSuite = (start: () => Promise<ApiServer>) => {
  let api: ApiServer
  let echo: Awaited<ReturnType<typeof echoServer>>
  let layer: Layer.Layer<Toxiproxy.ToxiproxyDriver | Run.Run>
  beforeAll(async () => {
    api = await start()
    echo = await echoServer()
    layer = Layer.merge(Toxiproxy.ToxiproxyDriver.layerConfig({ url: api.url }), Run.layerTest())
  })
  afterAll(async () => {
    await api?.stop()
    await echo?.close()
  })
  beforeEach(async () => clear(api.url))

  const run = <A, E>(eff: Effect.Effect<A, E, Toxiproxy.ToxiproxyDriver | Run.Run>) => Effect.runPromise(Effect.provide(eff, layer))
  const setup = Effect.gen(function*() {
    const d = yield* Toxiproxy.ToxiproxyDriver
    yield* d.createProxy({ name: "kv", upstream: echo.addr })
    return d
  })
  const target = Selector.name("kv")

  it("discovers proxies as targets", async () => {
    const targets = await run(Effect.gen(function*() {
      const d = yield* setup
      return yield* d.discover(Toxiproxy.down({ target }))
    }))
    expect(targets.map((t) => [t.kind, t.name, t.labels.upstream])).toEqual([["toxiproxy", "kv", echo.addr]])
  })

  it("every toxic fault lands as its toxic, and the scope's close removes it", async () => {
    const faults = [
      [Toxiproxy.latency({ target, latency: 100, jitter: 5 }), "latency", { latency: 100, jitter: 5 }],
      [Toxiproxy.bandwidth({ target, rate: 50, stream: "upstream" }), "bandwidth", { rate: 50 }],
      [Toxiproxy.timeout({ target, timeout: 250 }), "timeout", { timeout: 250 }],
      [Toxiproxy.resetPeer({ target, timeout: 10 }), "reset_peer", { timeout: 10 }],
      [Toxiproxy.slicer({ target, averageSize: 10, sizeVariation: 2, delayMicros: 100 }), "slicer", { average_size: 10, size_variation: 2, delay: 100 }],
      [Toxiproxy.limitData({ target, bytes: 99, toxicity: 0.5 }), "limit_data", { bytes: 99 }]
    ] as const
    for (const [fault, type, attributes] of faults) {
      const [during, after] = await run(Effect.gen(function*() {
        const d = yield* setup
        const during = yield* Effect.scoped(Effect.gen(function*() {
          const [inj] = yield* Fault.inject(fault)
          expect(inj!.revert.data).toMatchObject({ kind: "toxic", proxy: "kv" })
          return yield* d.proxy("kv")
        }))
        const after = yield* d.proxy("kv")
        yield* d.deleteProxy("kv")
        return [during, after] as const
      }))
      expect(during.toxics).toEqual([{ name: `faultline_${type}_${fault.stream}`, type, stream: fault.stream, toxicity: fault.toxicity, attributes }])
      expect(after.toxics).toEqual([])
    }
  })

  it("network.down disables the proxy; reverting enables it; reverts are idempotent", async () => {
    await run(Effect.gen(function*() {
      const d = yield* setup
      const inj = yield* Effect.scoped(Effect.gen(function*() {
        const [inj] = yield* Fault.inject(Toxiproxy.down({ target }))
        expect((yield* d.proxy("kv")).enabled).toBe(false)
        return inj!
      }))
      expect((yield* d.proxy("kv")).enabled).toBe(true)
      // Reverting again (another process, a recover run) is a no-op.
      yield* d.revert(inj.revert)
      expect((yield* d.proxy("kv")).enabled).toBe(true)
      // A proxy that was already down stays down when the fault is reverted.
      yield* d.setEnabled("kv", false)
      const inj2 = yield* Effect.scoped(Effect.map(Fault.inject(Toxiproxy.down({ target })), (x) => x[0]!))
      expect(inj2.revert.data).toEqual({ kind: "down", proxy: "kv", wasEnabled: false })
      expect((yield* d.proxy("kv")).enabled).toBe(false)
      // The proxy is gone: nothing to revert, and no error.
      yield* d.deleteProxy("kv")
      yield* d.revert(inj.revert)
    }))
  })

  it("removing a toxic that is already gone is a no-op", async () => {
    await run(Effect.gen(function*() {
      const d = yield* setup
      const inj = yield* Effect.scoped(Effect.gen(function*() {
        const [inj] = yield* Fault.inject(Toxiproxy.latency({ target, latency: 5 }))
        yield* d.removeToxic("kv", "faultline_latency_downstream")
        return inj!
      }))
      yield* d.revert(inj.revert)
      yield* d.deleteProxy("kv")
      yield* d.revert(inj.revert)
    }))
  })

  it("errors are ToxiproxyErrors with a reason: 404, 409, unreachable", async () => {
    const exit = await run(Effect.exit(Effect.gen(function*() {
      const d = yield* Toxiproxy.ToxiproxyDriver
      return yield* d.proxy("missing")
    })))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("NotFound")
    const conflict = await run(Effect.flip(Effect.gen(function*() {
      const d = yield* setup
      return yield* d.createProxy({ name: "kv", upstream: echo.addr })
    })))
    expect(conflict.reason).toBe("Conflict")
    expect(conflict.detail).toContain("proxy already exists")
    const down = await Effect.runPromise(Effect.flip(
      Effect.gen(function*() {
        const d = yield* Toxiproxy.ToxiproxyDriver
        return yield* d.proxies
      }).pipe(Effect.provide(Toxiproxy.ToxiproxyDriver.layerConfig({ url: "http://127.0.0.1:1" })))
    ))
    expect(down.reason).toBe("Unavailable")
  })

  it("a fault on a proxy that vanished fails the injection (DriverError NotFound)", async () => {
    const err = await run(Effect.flip(Effect.gen(function*() {
      const d = yield* Toxiproxy.ToxiproxyDriver
      const [t] = yield* Effect.orDie(d.discover(Toxiproxy.down({ target })))
      expect(t).toBeUndefined()
      return yield* d.inject(Toxiproxy.latency({ target, latency: 1 }), { kind: "toxiproxy", id: "ghost", name: "ghost", labels: {} } as any)
    })))
    expect(err.reason).toBe("NotFound")
  })

  it("probes: enabled and clean", async () => {
    const [a, b, c] = await run(Effect.gen(function*() {
      const d = yield* setup
      const a = yield* Probe.sample(Toxiproxy.proxyClean("kv"))
      yield* d.addToxic("kv", { type: "latency" })
      const b = yield* Probe.sample(Toxiproxy.proxyClean("kv"))
      yield* d.setEnabled("kv", false)
      const c = yield* Probe.sample(Toxiproxy.proxyEnabled("kv"))
      return [a, b, c] as const
    }))
    expect([a.ok, b.ok, c.ok]).toEqual([true, false, false])
    expect(b.error).toContain("latency_downstream")
  })
}
