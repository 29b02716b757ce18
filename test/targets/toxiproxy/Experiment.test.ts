/**
 * An experiment end to end through the embedded proxy (live clock: real sockets): a TCP
 * hypothesis through the proxy, `network.down` injected mid-run, reverted by the run.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { Experiment, Fault, Hypothesis, Selector, Stopwatch, Tolerance } from "../../../src/index.ts"
import * as Probes from "../../../src/probes/index.ts"
import * as Toxiproxy from "../../../src/targets/toxiproxy/index.ts"

const echo = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<net.Server>((resolve) => {
      const s = net.createServer((c) => {
        c.on("error", () => {})
        c.pipe(c)
      })
      s.listen(0, "127.0.0.1", () => resolve(s))
    })
  ),
  (s) => Effect.promise(() => new Promise<void>((r) => s.close(() => r())))
)

describe("network faults in an experiment", () => {
  layer(Toxiproxy.layerEmbedded(), { excludeTestServices: true })((it) => {
    it.effect("network.down makes the hypothesis fail during the fault; the run reverts it and passes", () =>
      Effect.gen(function*() {
        const server = yield* echo
        const driver = yield* Toxiproxy.ToxiproxyDriver
        const p = yield* driver.createProxy({ name: "svc", upstream: `127.0.0.1:${(server.address() as net.AddressInfo).port}` })
        const port = Number(p.listen.split(":")[1])
        const reachable = Hypothesis.make("svc reachable", {
          probe: Probes.tcp("127.0.0.1", port, { timeout: "1 second" }),
          every: "20 millis",
          samples: 10,
          tolerance: Tolerance.successRatio({ atLeast: 0.5, confidence: 0.5 })
        })
        const exp = Experiment.make({
          name: "svc down",
          hypothesis: reachable,
          method: Effect.gen(function*() {
            yield* Fault.inject(Toxiproxy.down({ target: Selector.name("svc") }))
            yield* Effect.sleep("300 millis")
          }),
          stopwatches: { rto: Stopwatch.rto(reachable, { stableFor: 3, from: "network.down" }) },
          objectives: { rto: "5 seconds" }
        })
        const result = yield* Experiment.run(exp)
        assert.strictEqual(result.verdict.status, "passed", result.verdict.reason)
        assert.strictEqual(result.verdict.cleanup, "ok")
        const bad = result.entries.filter((e) => e.event._tag === "Sample" && e.event.phase === "during" && !e.event.sample.ok)
        assert.isAbove(bad.length, 0)
        assert.isTrue((yield* driver.proxy("svc")).enabled)
        yield* driver.deleteProxy("svc")
      }).pipe(Effect.scoped))

    it.effect("a toxic fault reverted early by Fault.revert is not reverted twice", () =>
      Effect.gen(function*() {
        const driver = yield* Toxiproxy.ToxiproxyDriver
        yield* driver.createProxy({ name: "svc2", upstream: "127.0.0.1:1" })
        const exp = Experiment.make({
          name: "early revert",
          hypothesis: Hypothesis.make("enabled", {
            probe: Toxiproxy.proxyEnabled("svc2"),
            every: "20 millis",
            samples: 5,
            tolerance: Tolerance.successRatio({ atLeast: 0.5, confidence: 0.5 })
          }),
          method: Effect.gen(function*() {
            const inj = yield* Fault.inject(Toxiproxy.latency({ target: Selector.name("svc2"), latency: 50 }))
            assert.strictEqual((yield* driver.proxy("svc2")).toxics.length, 1)
            yield* Effect.forEach(inj, Fault.revert, { discard: true })
            assert.strictEqual((yield* driver.proxy("svc2")).toxics.length, 0)
          })
        })
        const result = yield* Experiment.run(exp)
        assert.strictEqual(result.verdict.status, "passed", result.verdict.reason)
        const reverted = result.entries.filter((e) => e.event._tag === "FaultReverted")
        assert.strictEqual(reverted.length, 1)
        yield* driver.deleteProxy("svc2")
      }))
  })
})
