/**
 * Toxiproxy API behaviours, each a short script of calls. The differential suite runs every
 * case against the real Toxiproxy and the embedded proxy and compares the normalised replies;
 * the embedded suite checks the statuses (and the pinned bodies) alone.
 */
import { call, type Reply } from "./servers.ts"

export interface Ctx {
  readonly url: string
  /** An upstream that accepts connections (an echo server). */
  readonly upstream: string
  /** A port that is certainly in use on 127.0.0.1. */
  readonly busyPort: number
}

export interface Case {
  readonly name: string
  readonly statuses: ReadonlyArray<number>
  readonly run: (ctx: Ctx) => Promise<Array<Reply>>
}

/** Ports and versions differ by nature; syntax-error texts are Go's vs JavaScript's. */
export const normalise = (r: Reply): Reply => {
  const text = JSON.stringify(r.body)
    .replace(/(127\.0\.0\.1|\[::\]):\d+/g, "$1:<port>")
    .replace(/"version":"[^"]*"/g, "\"version\":\"<version>\"")
    .replace(/"bad request body: (?!json:|EOF)[^"]*"/g, "\"bad request body: <syntax error>\"")
  return { status: r.status, body: JSON.parse(text) }
}

const P = (ctx: Ctx, name: string, extra: object = {}) => call(ctx.url, "POST", "/proxies", { name, listen: "127.0.0.1:0", upstream: ctx.upstream, ...extra })

export const cases: ReadonlyArray<Case> = [
  { name: "GET /version answers JSON with a version", statuses: [200], run: async (c) => [await call(c.url, "GET", "/version")] },
  { name: "GET /proxies is an empty object at first", statuses: [200], run: async (c) => [await call(c.url, "GET", "/proxies")] },
  { name: "POST /proxies creates (201) and resolves listen to the bound port", statuses: [201], run: async (c) => [await P(c, "p")] },
  { name: "POST /proxies with localhost resolves to 127.0.0.1", statuses: [201], run: async (c) => [await P(c, "p", { listen: "localhost:0" })] },
  { name: "duplicate proxy is 409", statuses: [201, 409], run: async (c) => [await P(c, "p"), await P(c, "p")] },
  { name: "malformed JSON is 400 bad request body", statuses: [400], run: async (c) => [await call(c.url, "POST", "/proxies", "{bad")] },
  { name: "empty body is 400 EOF", statuses: [400], run: async (c) => [await call(c.url, "POST", "/proxies", "")] },
  { name: "a JSON array for a proxy is 400", statuses: [400], run: async (c) => [await call(c.url, "POST", "/proxies", "[]")] },
  { name: "missing name is 400", statuses: [400], run: async (c) => [await call(c.url, "POST", "/proxies", { listen: "127.0.0.1:0", upstream: c.upstream })] },
  { name: "missing upstream is 400", statuses: [400], run: async (c) => [await call(c.url, "POST", "/proxies", { name: "p", listen: "127.0.0.1:0" })] },
  {
    name: "a number for name is 400 with Go's unmarshal message",
    statuses: [400],
    run: async (c) => [await call(c.url, "POST", "/proxies", { name: 5, listen: "127.0.0.1:0", upstream: c.upstream })]
  },
  { name: "a string for enabled is 400", statuses: [400], run: async (c) => [await P(c, "p", { enabled: "yes" })] },
  { name: "listen without a port is 500", statuses: [500], run: async (c) => [await P(c, "p", { listen: "nonsense" })] },
  { name: "listen with an out-of-range port is 500", statuses: [500], run: async (c) => [await P(c, "p", { listen: "127.0.0.1:99999" })] },
  { name: "listen with a named port is 500", statuses: [500], run: async (c) => [await P(c, "p", { listen: "127.0.0.1:abc" })] },
  { name: "listen on an unknown host is 500", statuses: [500], run: async (c) => [await P(c, "p", { listen: "256.1.1.1:0" })] },
  { name: "listen on a port in use is 500", statuses: [500], run: async (c) => [await P(c, "p", { listen: `127.0.0.1:${c.busyPort}` })] },
  {
    name: "created disabled keeps listen unresolved",
    statuses: [201, 200],
    run: async (c) => [await P(c, "p", { enabled: false }), await call(c.url, "GET", "/proxies/p")]
  },
  { name: "GET a missing proxy is 404", statuses: [404], run: async (c) => [await call(c.url, "GET", "/proxies/nope")] },
  {
    name: "missing proxy: update, delete, toxics list, toxic create, toxic delete are 404",
    statuses: [404, 404, 404, 404, 404],
    run: async (c) => [
      await call(c.url, "POST", "/proxies/nope", { enabled: false }),
      await call(c.url, "DELETE", "/proxies/nope"),
      await call(c.url, "GET", "/proxies/nope/toxics"),
      await call(c.url, "POST", "/proxies/nope/toxics", { type: "latency" }),
      await call(c.url, "DELETE", "/proxies/nope/toxics/x")
    ]
  },
  {
    name: "disable (POST) and enable (PATCH) keep toxics",
    statuses: [201, 200, 200, 200],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", attributes: { latency: 10 } }),
      await call(c.url, "POST", "/proxies/p", { enabled: false }),
      await call(c.url, "PATCH", "/proxies/p", { enabled: true })
    ]
  },
  {
    name: "update merges: upstream only keeps enabled and listen",
    statuses: [201, 200],
    run: async (c) => [await P(c, "p"), await call(c.url, "PATCH", "/proxies/p", { upstream: "127.0.0.1:2" })]
  },
  {
    name: "update with a bad listen is 500 without the listen tcp prefix",
    statuses: [201, 500],
    run: async (c) => [await P(c, "p"), await call(c.url, "PATCH", "/proxies/p", { listen: "nonsense" })]
  },
  { name: "update with malformed JSON is 400", statuses: [201, 400], run: async (c) => [await P(c, "p"), await call(c.url, "POST", "/proxies/p", "{bad")] },
  {
    name: "disabling a disabled proxy is 200",
    statuses: [201, 200],
    run: async (c) => [await P(c, "p", { enabled: false }), await call(c.url, "POST", "/proxies/p", { enabled: false })]
  },
  {
    name: "DELETE is 204, then 404",
    statuses: [201, 204, 404],
    run: async (c) => [await P(c, "p"), await call(c.url, "DELETE", "/proxies/p"), await call(c.url, "DELETE", "/proxies/p")]
  },
  {
    name: "toxic defaults: name <type>_<stream>, downstream, toxicity 1, zero attributes",
    statuses: [201, 200, 200, 200, 200, 200, 200, 200, 200],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "bandwidth" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "slow_close" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "timeout", stream: "upstream" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "reset_peer", stream: "upstream" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "slicer" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "limit_data" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "noop" })
    ]
  },
  {
    name: "toxics list: upstream first, each stream in insertion order",
    statuses: [201, 200, 200, 200, 200],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", name: "d1" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", name: "u1", stream: "upstream" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "noop", name: "d2" }),
      await call(c.url, "GET", "/proxies/p/toxics")
    ]
  },
  {
    name: "duplicate toxic name is 409, even on the other stream",
    statuses: [201, 200, 409],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", name: "l", stream: "upstream" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", name: "l" })
    ]
  },
  {
    name: "unknown or missing toxic type is 400",
    statuses: [201, 400, 400],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "bogus" }),
      await call(c.url, "POST", "/proxies/p/toxics", { name: "x" })
    ]
  },
  {
    name: "invalid stream is 400; stream case is kept",
    statuses: [201, 400, 400, 200],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", stream: "sideways" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", stream: "" }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", stream: "UPSTREAM", name: "u" })
    ]
  },
  {
    name: "bad toxic attributes are 400 with Go's messages",
    statuses: [201, 400, 400, 400, 400, 400, 400],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "bandwidth", attributes: { rate: "x" } }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", attributes: { latency: 1.5 } }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "slicer", attributes: { average_size: true } }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "limit_data", attributes: { bytes: {} } }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "limit_data", attributes: { bytes: [1] } }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", toxicity: "x" })
    ]
  },
  {
    name: "toxic attributes: unknown keys ignored, null keeps the default, negatives kept",
    statuses: [201, 200, 200, 200],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", name: "a", attributes: { bogus: 1, latency: -5 } }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "limit_data", name: "b", attributes: { bytes: null } }),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", name: "c", attributes: null, toxicity: 0.5 })
    ]
  },
  { name: "malformed toxic JSON is 400", statuses: [201, 400], run: async (c) => [await P(c, "p"), await call(c.url, "POST", "/proxies/p/toxics", "{bad")] },
  {
    name: "GET toxic; missing toxic is 404",
    statuses: [201, 200, 200, 404],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", attributes: { latency: 10 } }),
      await call(c.url, "GET", "/proxies/p/toxics/latency_downstream"),
      await call(c.url, "GET", "/proxies/p/toxics/nope")
    ]
  },
  {
    name: "toxic update merges attributes (PATCH and POST); name, type, stream unchanged",
    statuses: [201, 200, 200, 200, 200],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency", attributes: { latency: 10 } }),
      await call(c.url, "PATCH", "/proxies/p/toxics/latency_downstream", { attributes: { jitter: 5 } }),
      await call(c.url, "POST", "/proxies/p/toxics/latency_downstream", { toxicity: 0.5 }),
      await call(c.url, "PATCH", "/proxies/p/toxics/latency_downstream", { type: "timeout", stream: "upstream", name: "zz" })
    ]
  },
  {
    name: "toxic update errors: missing 404, malformed 400, bad attribute 400",
    statuses: [201, 200, 404, 400, 400],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "timeout", name: "t" }),
      await call(c.url, "PATCH", "/proxies/p/toxics/nope", { toxicity: 0.3 }),
      await call(c.url, "PATCH", "/proxies/p/toxics/t", "{bad"),
      await call(c.url, "PATCH", "/proxies/p/toxics/t", { attributes: { timeout: "x" } })
    ]
  },
  {
    name: "DELETE toxic is 204, then 404",
    statuses: [201, 200, 204, 404],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "noop" }),
      await call(c.url, "DELETE", "/proxies/p/toxics/noop_downstream"),
      await call(c.url, "DELETE", "/proxies/p/toxics/noop_downstream")
    ]
  },
  {
    name: "POST /populate creates (201) and replaces a changed proxy",
    statuses: [201, 201],
    run: async (c) => [
      await call(c.url, "POST", "/populate", [{ name: "a", listen: "127.0.0.1:0", upstream: c.upstream }, {
        name: "b",
        listen: "127.0.0.1:0",
        upstream: c.upstream
      }]),
      await call(c.url, "POST", "/populate", [{ name: "a", listen: "127.0.0.1:0", upstream: "127.0.0.1:3" }])
    ]
  },
  {
    name: "POST /populate errors: missing field at proxy N, malformed, not an array",
    statuses: [400, 400, 400],
    run: async (c) => [
      await call(c.url, "POST", "/populate", [{ name: "p5", upstream: "" }]),
      await call(c.url, "POST", "/populate", "{bad"),
      await call(c.url, "POST", "/populate", { name: "x" })
    ]
  },
  { name: "POST /populate with an empty list is 201 with null proxies", statuses: [201], run: async (c) => [await call(c.url, "POST", "/populate", [])] },
  {
    name: "POST /reset removes toxics and enables proxies (204)",
    statuses: [201, 200, 200, 204, 200],
    run: async (c) => [
      await P(c, "p"),
      await call(c.url, "POST", "/proxies/p/toxics", { type: "latency" }),
      await call(c.url, "POST", "/proxies/p", { enabled: false }),
      await call(c.url, "POST", "/reset"),
      await call(c.url, "GET", "/proxies/p")
    ]
  },
  {
    name: "a browser User-Agent is 403 `User agent not allowed` on every route, and creates nothing",
    statuses: [403, 403, 403, 403, 403, 403, 200],
    run: async (c) => {
      const ua = { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" }
      return [
        await call(c.url, "GET", "/version", undefined, ua),
        await call(c.url, "GET", "/proxies", undefined, ua),
        await call(c.url, "POST", "/proxies", { name: "p", listen: "127.0.0.1:0", upstream: c.upstream }, { ...ua, "Content-Type": "text/plain" }),
        await call(c.url, "POST", "/reset", undefined, ua),
        await call(c.url, "DELETE", "/proxies/p", undefined, ua),
        await call(c.url, "GET", "/proxies/p/toxics", undefined, ua),
        await call(c.url, "GET", "/proxies")
      ]
    }
  },
  {
    name: "a malformed % escape in the path is 400",
    statuses: [400, 400],
    run: async (c) => [
      await call(c.url, "GET", "/proxies/%zz"),
      await call(c.url, "DELETE", "/proxies/a%2")
    ]
  },
  {
    name: "wrong method is 405; unknown path is 404",
    statuses: [405, 405, 404],
    run: async (c) => [
      await call(c.url, "DELETE", "/reset"),
      await call(c.url, "POST", "/version"),
      await call(c.url, "GET", "/nope")
    ]
  }
]
