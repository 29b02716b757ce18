import { describe, expect, it } from "vitest"
import { Toxiproxy as Client } from "toxiproxy-node-client"
import { startEmbedded } from "../../proxy/servers.ts"
import { defineDriverSuite } from "./driverSuite.ts"

describe("ToxiproxyDriver against the embedded proxy", () => {
  defineDriverSuite(startEmbedded)
})

describe("toxiproxy-node-client against the embedded proxy", () => {
  it("creates a proxy, adds and removes a toxic, reads the version", async () => {
    const api = await startEmbedded()
    try {
      // The client sends no headers: the token goes in its base URL.
      const client = new Client(`${api.url}/token/${api.token}`)
      const proxy = await client.createProxy({ name: "c", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" })
      expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/)
      const toxic = await proxy.addToxic({ name: "lat", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 5, jitter: 0 } })
      expect(toxic.attributes).toEqual({ latency: 5, jitter: 0 })
      await toxic.remove()
      const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream })
      expect(disabled.enabled).toBe(false)
      expect(JSON.parse(await client.getVersion())).toHaveProperty("version")
      await client.reset()
      expect(Object.keys(await client.getAll())).toEqual(["c"])
    } finally {
      await api.stop()
    }
  })
})
