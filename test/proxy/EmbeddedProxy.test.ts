import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { cases, normalise } from "./apiCases.ts"
import { defineBehaviour } from "./behaviour.ts"
import { type ApiServer, call, clear, echoServer, startEmbedded } from "./servers.ts"

describe("embedded proxy API (Toxiproxy 2.12 statuses and bodies)", () => {
  let api: ApiServer
  let echo: Awaited<ReturnType<typeof echoServer>>
  beforeAll(async () => {
    api = await startEmbedded()
    echo = await echoServer()
  })
  afterAll(async () => {
    await api.stop()
    await echo.close()
  })
  beforeEach(async () => clear(api.url))

  for (const c of cases) {
    it(c.name, async () => {
      const replies = await c.run({ url: api.url, upstream: echo.addr, busyPort: echo.port })
      expect(replies.map((r) => r.status)).toEqual(c.statuses)
      for (const r of replies) {
        if (r.status >= 400 && r.status !== 405 && typeof r.body === "object") {
          expect(normalise(r).body).toMatchObject({ status: r.status })
        }
      }
    })
  }

  it("pins the exact bodies of the main defaults", async () => {
    const [created, toxic] = await cases.find((c) => c.name.startsWith("toxic defaults"))!.run({ url: api.url, upstream: echo.addr, busyPort: echo.port })
    expect(normalise(created!).body).toEqual({ name: "p", listen: "127.0.0.1:<port>", upstream: "127.0.0.1:<port>", enabled: true, Logger: {}, toxics: [] })
    expect(toxic!.body).toEqual({ attributes: { latency: 0, jitter: 0 }, name: "latency_downstream", type: "latency", stream: "downstream", toxicity: 1 })
  })
})

describe("embedded proxy toxics on real sockets", () => {
  defineBehaviour(startEmbedded)
})

describe("embedded proxy API under concurrent requests", () => {
  it("creating the same proxy 10 times at once gives one 201 and nine 409s", async () => {
    const api = await startEmbedded()
    try {
      const replies = await Promise.all(
        Array.from(
          { length: 10 },
          () => call(api.url, "POST", "/proxies", { name: "same", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" }).then((r) => r.status)
        )
      )
      expect(replies.filter((s) => s === 201).length).toBe(1)
      expect(replies.filter((s) => s === 409).length).toBe(9)
    } finally {
      await api.stop()
    }
  })
})
