import * as http from "node:http"
import * as net from "node:net"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Probe } from "../../src/index.ts"

// Real loopback servers and a real child process: live clock on purpose.
const listen = (server: http.Server | net.Server) =>
  Effect.acquireRelease(
    Effect.callback<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
    }),
    () => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
  )

describe("probes", () => {
  layer(NodeServices.layer, { excludeTestServices: true })((it) => {
    it.effect("request: a body comes back whole; a malformed URL or a header undici refuses fails the request, it is no defect", () =>
      Effect.gen(function*() {
        const big = "y".repeat(200_000)
        const server = http.createServer((q, s) => {
          s.setHeader("content-type", "text/plain")
          s.end(q.url === "/big" ? big : "small")
        })
        const port = yield* listen(server)
        const res = yield* Probe.request(`http://127.0.0.1:${port}/big`)
        assert.strictEqual(res.status, 200)
        assert.strictEqual(res.body.length, big.length)
        const malformed = yield* Effect.exit(Probe.request("not a url"))
        assert.isTrue(malformed._tag === "Failure" && malformed.cause.reasons.length > 0 && malformed.cause.reasons.every((r) => r._tag === "Fail"))
        const badHeader = yield* Effect.exit(Probe.request(`http://127.0.0.1:${port}/`, { headers: { "x-bad": "a\r\nb" } }))
        assert.isTrue(badHeader._tag === "Failure" && badHeader.cause.reasons.length > 0 && badHeader.cause.reasons.every((r) => r._tag === "Fail"))
      }))

    it.effect("http: 2xx is good with the status as value; 503 is bad; a closed port is bad", () =>
      Effect.gen(function*() {
        let status = 200
        const server = http.createServer((_q, s) => {
          s.statusCode = status
          s.end("x")
        })
        const port = yield* listen(server)
        const probe = Probe.http(`http://127.0.0.1:${port}/health`, { timeout: "1 second" })
        const good = yield* Probe.sample(probe)
        assert.isTrue(good.ok)
        assert.strictEqual(good.value, 200)
        assert.isTrue(good.latencyMs >= 0)
        status = 503
        const bad = yield* Probe.sample(probe)
        assert.isFalse(bad.ok)
        assert.strictEqual(bad.error, "HTTP 503")
        const expect503 = yield* Probe.sample(Probe.http(`http://127.0.0.1:${port}/`, { expect: [503] }))
        assert.isTrue(expect503.ok)
        const closed = yield* Probe.sample(Probe.http(`http://127.0.0.1:1/`, { timeout: "1 second" }))
        assert.isFalse(closed.ok)
        assert.match(closed.error ?? "", /ECONNREFUSED/)
      }))

    it.effect("http: a server that never answers gives a bad sample at the probe timeout", () =>
      Effect.gen(function*() {
        const server = http.createServer(() => {})
        const port = yield* listen(server)
        const s = yield* Probe.sample(Probe.http(`http://127.0.0.1:${port}/`, { timeout: "150 millis" }))
        assert.isFalse(s.ok)
        assert.isTrue(s.latencyMs >= 140, `latency ${s.latencyMs}`)
        server.closeAllConnections()
      }))

    it.effect("tcp: connects to a listening port, fails on a closed one", () =>
      Effect.gen(function*() {
        const port = yield* listen(net.createServer((c) => c.end()))
        assert.isTrue((yield* Probe.sample(Probe.tcp("127.0.0.1", port))).ok)
        assert.isFalse((yield* Probe.sample(Probe.tcp("127.0.0.1", 1))).ok)
      }))

    it.effect("command: exit 0 is good and stdout is the value (numbers parsed); non-zero exit is bad", () =>
      Effect.gen(function*() {
        const n = yield* Probe.sample(Probe.command(process.execPath, ["-e", "console.log(42)"]))
        assert.isTrue(n.ok)
        assert.strictEqual(n.value, 42)
        const t = yield* Probe.sample(Probe.command(process.execPath, ["-e", "console.log('primary')"]))
        assert.strictEqual(t.value, "primary")
        const bad = yield* Probe.sample(Probe.command(process.execPath, ["-e", "process.exit(3)"]))
        assert.isFalse(bad.ok)
        assert.strictEqual(bad.error, "exit code 3")
      }))

    it.effect("credentials in a probe URL never reach the journal", () =>
      Effect.gen(function*() {
        const { Journal } = yield* Effect.promise(() => import("../../src/index.ts"))
        const j = yield* Journal.make({ runId: "r" })
        const p = Probe.http("http://admin:hunter2@127.0.0.1:1/", { headers: { authorization: "Bearer abc" } })
        yield* j.append({ _tag: "Note", message: JSON.stringify(p.spec) + " " + p.name })
        const text = JSON.stringify(j.snapshot())
        assert.notInclude(text, "hunter2")
        assert.notInclude(text, "Bearer abc")
      }))
  })
})
