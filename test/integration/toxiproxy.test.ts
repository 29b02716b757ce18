/**
 * Differential tests: every API case and every toxic behaviour runs against the real
 * Toxiproxy 2.12 and the embedded proxy; API replies must match after normalising ports,
 * versions and JSON syntax-error texts (Go's vs JavaScript's wording).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { cases, normalise } from "../proxy/apiCases.ts"
import { defineBehaviour } from "../proxy/behaviour.ts"
import { type ApiServer, clear, echoServer, type Reply, startEmbedded, startReal, TOXIPROXY_MISSING } from "../proxy/servers.ts"
import { defineDriverSuite } from "../targets/toxiproxy/driverSuite.ts"
import { describeWith } from "./require.ts"

describeWith("Toxiproxy (real server)", TOXIPROXY_MISSING, () => {
  describe("API: real Toxiproxy vs embedded proxy", () => {
    let real: ApiServer
    let embedded: ApiServer
    let echo: Awaited<ReturnType<typeof echoServer>>
    beforeAll(async () => {
      ;[real, embedded, echo] = await Promise.all([startReal(), startEmbedded(), echoServer()])
    })
    afterAll(async () => {
      await Promise.all([real?.stop(), embedded?.stop(), echo?.close()])
    })
    beforeEach(async () => {
      await Promise.all([clear(real.url), clear(embedded.url)])
    })

    for (const c of cases) {
      it(c.name, async () => {
        const a: Array<Reply> = await c.run({ url: real.url, upstream: echo.addr, busyPort: echo.port })
        const b: Array<Reply> = await c.run({ url: embedded.url, upstream: echo.addr, busyPort: echo.port })
        expect(a.map((r) => r.status)).toEqual(c.statuses)
        expect(b.map(normalise)).toEqual(a.map(normalise))
      })
    }
  })

  describe("toxics on real sockets: real Toxiproxy", () => {
    defineBehaviour(() => startReal())
  })
})

describeWith("Toxiproxy (real server): driver", TOXIPROXY_MISSING, () => {
  defineDriverSuite(() => startReal())
})
