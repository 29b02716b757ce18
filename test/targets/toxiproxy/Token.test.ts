/**
 * The embedded proxy's write token, end to end: the in-process start returns it, the driver
 * sends it (given, from a `/token/TOKEN` base URL, found in-process, or from
 * $FAULTLINE_PROXY_TOKEN), a client without it is refused, and the ledger never sees it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Toxiproxy as Client } from "toxiproxy-node-client"
import { start } from "../../../src/proxy/EmbeddedProxy.ts"
import * as Toxiproxy from "../../../src/targets/toxiproxy/index.ts"

const createAndList = Effect.gen(function*() {
  const d = yield* Toxiproxy.ToxiproxyDriver
  yield* d.createProxy({ name: "tok", upstream: "127.0.0.1:1" })
  yield* d.addToxic("tok", { type: "latency", attributes: { latency: 5 } })
  return (yield* d.proxies).map((p) => `${p.name}:${p.toxics.length}`)
})

describe("the embedded proxy's API token", () => {
  it.live("the in-process start returns a token; a driver given it can write, a wrong one gets Forbidden", () =>
    Effect.gen(function*() {
      const { server, token, url } = yield* start("127.0.0.1:0")
      assert.isString(token)
      assert.strictEqual(token, server.token)
      const wrong = yield* Effect.flip(Effect.provide(createAndList, Toxiproxy.ToxiproxyDriver.layerConfig({ url, token: "not-the-token" })))
      assert.strictEqual(wrong.reason, "Forbidden")
      assert.include(wrong.detail, "HTTP 401")
      assert.strictEqual(server.proxies.size, 0)
      assert.deepStrictEqual(yield* Effect.provide(createAndList, Toxiproxy.ToxiproxyDriver.layerConfig({ url, token: token! })), ["tok:1"])
    }))

  it.live("a bare POST without the token is 401 while layerEmbedded's driver writes", () =>
    Effect.gen(function*() {
      const { token, url } = yield* Toxiproxy.EmbeddedProxy
      assert.isString(token)
      const bare = yield* Effect.promise(() =>
        fetch(`${url}/proxies`, { method: "POST", body: JSON.stringify({ name: "x", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" }) })
      )
      assert.strictEqual(bare.status, 401)
      assert.deepStrictEqual(yield* createAndList, ["tok:1"])
    }).pipe(Effect.provide(Toxiproxy.layerEmbedded())))

  it.live("a driver made from the URL alone finds the token of a proxy in the same process", () =>
    Effect.gen(function*() {
      const { url } = yield* start("127.0.0.1:0")
      assert.deepStrictEqual(yield* Effect.provide(createAndList, Toxiproxy.ToxiproxyDriver.layerConfig({ url })), ["tok:1"])
    }))

  it.live("a /token/TOKEN base URL works, and the driver's connection (what the ledger records) holds no token", () =>
    Effect.gen(function*() {
      const { token, url } = yield* start("127.0.0.1:0", { token: "given-token-0123456789" })
      assert.strictEqual(token, "given-token-0123456789")
      // `localhost` is not the URL the server registered in-process: only the URL's token can work.
      const base = `${url.replace("127.0.0.1", "localhost")}/token/${token}`
      const driver = Toxiproxy.make(base)
      assert.deepStrictEqual(driver.connection, { url: url.replace("127.0.0.1", "localhost") })
      assert.notInclude(JSON.stringify(driver.connection), token!)
      assert.deepStrictEqual(yield* Effect.provide(createAndList, Layer.succeed(Toxiproxy.ToxiproxyDriver, driver)), ["tok:1"])
    }))

  it.live("out of process the token comes from $FAULTLINE_PROXY_TOKEN", () =>
    Effect.gen(function*() {
      const { url } = yield* start("127.0.0.1:0", { token: "env-token-0123456789" })
      // Another spelling of the URL, so the in-process lookup cannot find it: as in `faultline recover`.
      const other = url.replace("127.0.0.1", "localhost")
      const before = process.env.FAULTLINE_PROXY_TOKEN
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (before === undefined) delete process.env.FAULTLINE_PROXY_TOKEN
          else process.env.FAULTLINE_PROXY_TOKEN = before
        })
      )
      delete process.env.FAULTLINE_PROXY_TOKEN
      const without = yield* Effect.flip(Effect.provide(createAndList, Toxiproxy.ToxiproxyDriver.layerConfig({ url: other })))
      assert.strictEqual(without.reason, "Forbidden")
      process.env.FAULTLINE_PROXY_TOKEN = "env-token-0123456789"
      assert.deepStrictEqual(yield* Effect.provide(createAndList, Toxiproxy.ToxiproxyDriver.layerConfig({ url: other })), ["tok:1"])
    }))

  it.live("toxiproxy-node-client (no headers) is refused on the plain URL and works on the /token/TOKEN URL", () =>
    Effect.gen(function*() {
      const { server, token, url } = yield* start("127.0.0.1:0")
      const plain = yield* Effect.promise(() =>
        new Client(url).createProxy({ name: "c", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" }).then(() => "created", (e: Error) => e.message)
      )
      assert.include(plain, "401")
      assert.strictEqual(server.proxies.size, 0)
      const created = yield* Effect.promise(() =>
        new Client(`${url}/token/${token}`).createProxy({ name: "c", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" })
      )
      assert.match(created.listen, /^127\.0\.0\.1:\d+$/)
    }))

  it.live("started without a token, writes need none, and the API must listen on loopback", () =>
    Effect.gen(function*() {
      const { token, url } = yield* start("127.0.0.1:0", { token: null })
      assert.isNull(token)
      const r = yield* Effect.promise(() => fetch(`${url}/reset`, { method: "POST" }))
      assert.strictEqual(r.status, 204)
      const wide = yield* Effect.flip(start("0.0.0.0:0", { token: null }))
      assert.strictEqual(wide._tag, "EmbeddedProxyError")
      assert.include(wide.detail, "loopback")
    }))
})
