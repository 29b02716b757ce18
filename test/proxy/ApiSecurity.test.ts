/**
 * What the embedded proxy's API refuses: requests a browser page or a rebinding DNS name can
 * send (User-Agent, Host, Origin), writes without the API token, oversized bodies, broken
 * path escapes, and proxies that would listen beyond loopback. Every request goes to
 * 127.0.0.1; raw `http.request` is used so the Host header can be set.
 */
import * as http from "node:http"
import * as net from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { EmbeddedServer } from "../../src/proxy/Server.ts"
import { echoServer } from "./servers.ts"

interface Raw {
  readonly status: number
  readonly text: string
  readonly headers: http.IncomingHttpHeaders
}

/** One request to the API at `url` with exactly the headers given (plus Node's defaults). */
const raw = (url: string, method: string, p: string, options: { headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {}) =>
  new Promise<Raw>((resolve, reject) => {
    const u = new URL(url)
    const req = http.request({ host: "127.0.0.1", port: Number(u.port), method, path: p, headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), headers: res.headers }))
      res.on("error", reject)
    })
    // A server that answers before the whole body is sent may close the socket under us;
    // the answer is what the test checks, so a late EPIPE is not a failure.
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)))
    if (options.body !== undefined) {
      if (options.chunked) {
        const b = Buffer.from(options.body)
        for (let i = 0; i < b.length; i += 64 * 1024) req.write(b.subarray(i, i + 64 * 1024))
      } else {
        req.setHeader("Content-Length", Buffer.byteLength(options.body))
        req.write(options.body)
      }
    }
    req.end()
  })

const servers: Array<EmbeddedServer> = []
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await Promise.all(closers.splice(0).map((c) => c()))
})

const startServer = async (options?: ConstructorParameters<typeof EmbeddedServer>[0], listen = "127.0.0.1:0") => {
  const s = new EmbeddedServer(options)
  servers.push(s)
  const url = await s.listen(listen)
  return { s, url, port: Number(new URL(url).port) }
}

const upstream = async () => {
  const e = await echoServer()
  closers.push(e.close)
  return e.addr
}

const auth = (s: EmbeddedServer) => ({ Authorization: `Bearer ${s.token}` })
const proxyBody = (up: string, listen = "127.0.0.1:0", name = "p") => JSON.stringify({ name, listen, upstream: up })

/** True when something accepts TCP connections on `host:port`. */
const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect({ host, port })
    c.once("connect", () => {
      c.destroy()
      resolve(true)
    })
    c.once("error", () => resolve(false))
  })

describe("embedded proxy API: the reproduced cross-site request", () => {
  it("a text/plain POST with a browser User-Agent, a foreign Origin and a rebinding Host is 403 and opens nothing", async () => {
    const { s, url, port } = await startServer()
    const up = await upstream()
    const r = await raw(url, "POST", "/proxies", {
      headers: {
        "Content-Type": "text/plain",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        Origin: "http://attacker.example",
        Host: `rebind.attacker.example:${port}`
      },
      body: proxyBody(up, "0.0.0.0:0", "evil")
    })
    expect(r.status).toBe(403)
    expect(s.proxies.size).toBe(0)
    const list = await raw(url, "GET", "/proxies")
    expect(JSON.parse(list.text)).toEqual({})
  })
})

describe("embedded proxy API: browsers (as Toxiproxy 2.12)", () => {
  it("a Mozilla/ User-Agent gets 403 `User agent not allowed`, on reads and on writes with the token", async () => {
    const { s, url } = await startServer()
    const ua = { "User-Agent": "Mozilla/5.0 (compatible)" }
    for (const [method, p, headers] of [["GET", "/version", ua], ["GET", "/proxies", ua], ["POST", "/reset", { ...ua, ...auth(s) }]] as const) {
      const r = await raw(url, method, p, { headers })
      expect(r.status, `${method} ${p}`).toBe(403)
      expect(r.text).toBe("User agent not allowed\n")
      expect(r.headers["content-type"]).toBe("text/plain; charset=utf-8")
    }
    // Other agents are served.
    expect((await raw(url, "GET", "/version", { headers: { "User-Agent": "curl/8.5.0" } })).status).toBe(200)
  })
})

describe("embedded proxy API: Host (DNS rebinding)", () => {
  it("refuses a Host that is not loopback, localhost or the listen address; accepts those with or without a port", async () => {
    const { url, port } = await startServer()
    for (const host of [`attacker.example:${port}`, "attacker.example", `localhost.attacker.example:${port}`, `10.1.2.3:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await raw(url, "GET", "/proxies", { headers: { Host: host } })
      expect(r.status, host).toBe(403)
    }
    for (const host of [`127.0.0.1:${port}`, "127.0.0.1", `127.9.8.7:${port}`, `localhost:${port}`, "localhost", "LOCALHOST", `[::1]:${port}`, "[::1]"]) {
      const r = await raw(url, "GET", "/proxies", { headers: { Host: host } })
      expect(r.status, host).toBe(200)
    }
  })
})

describe("embedded proxy API: Origin", () => {
  it("refuses any Origin but the server's own", async () => {
    const { s, url, port } = await startServer()
    const up = await upstream()
    for (const origin of ["http://attacker.example", "null", `http://localhost:${port}`, `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`]) {
      expect((await raw(url, "GET", "/proxies", { headers: { Origin: origin } })).status, origin).toBe(403)
      expect((await raw(url, "POST", "/proxies", { headers: { Origin: origin, ...auth(s) }, body: proxyBody(up) })).status, origin).toBe(403)
    }
    expect(s.proxies.size).toBe(0)
    expect((await raw(url, "POST", "/proxies", { headers: { Origin: url, ...auth(s) }, body: proxyBody(up) })).status).toBe(201)
  })
})

describe("embedded proxy API: the write token", () => {
  it("a write without the token, or with a wrong one, is 401 and changes nothing; reads need none", async () => {
    const { s, url } = await startServer()
    const up = await upstream()
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{32,}$/)
    const none = await raw(url, "POST", "/proxies", { body: proxyBody(up) })
    expect(none.status).toBe(401)
    expect(JSON.parse(none.text)).toMatchObject({ status: 401 })
    expect((await raw(url, "POST", "/proxies", { headers: { Authorization: "Bearer wrong" }, body: proxyBody(up) })).status).toBe(401)
    expect((await raw(url, "POST", "/proxies", { headers: { Authorization: `Basic ${s.token}` }, body: proxyBody(up) })).status).toBe(401)
    expect((await raw(url, "POST", "/token/wrong/proxies", { body: proxyBody(up) })).status).toBe(401)
    expect(s.proxies.size).toBe(0)
    expect((await raw(url, "GET", "/proxies")).status).toBe(200)
    expect((await raw(url, "GET", "/version")).status).toBe(200)
  })

  it("the token works as a Bearer header or as a /token/TOKEN base path, for every write", async () => {
    const { s, url } = await startServer()
    const up = await upstream()
    expect((await raw(url, "POST", "/proxies", { headers: auth(s), body: proxyBody(up, "127.0.0.1:0", "a") })).status).toBe(201)
    expect((await raw(url, "POST", `/token/${s.token}/proxies`, { body: proxyBody(up, "127.0.0.1:0", "b") })).status).toBe(201)
    expect((await raw(url, "GET", `/token/${s.token}/proxies/b`)).status).toBe(200)
    expect((await raw(url, "DELETE", "/proxies/a")).status).toBe(401)
    expect((await raw(url, "POST", "/reset")).status).toBe(401)
    expect((await raw(url, "POST", "/populate", { body: "[]" })).status).toBe(401)
    expect((await raw(url, "POST", "/proxies/a/toxics", { body: JSON.stringify({ type: "latency" }) })).status).toBe(401)
    expect((await raw(url, "PATCH", "/proxies/a", { body: JSON.stringify({ enabled: false }) })).status).toBe(401)
    expect([...s.proxies.keys()].sort()).toEqual(["a", "b"])
    expect(s.proxies.get("a")!.toxics.length).toBe(0)
    expect((await raw(url, "DELETE", "/proxies/a", { headers: auth(s) })).status).toBe(204)
  })

  it("a given token is used; token null lets writes through, and then only on a loopback listen", async () => {
    const given = await startServer({ token: "s3cret-token-for-tests" })
    expect(given.s.token).toBe("s3cret-token-for-tests")
    expect((await raw(given.url, "POST", "/reset", { headers: { Authorization: "Bearer s3cret-token-for-tests" } })).status).toBe(204)
    const open = await startServer({ token: null })
    expect(open.s.token).toBeNull()
    expect((await raw(open.url, "POST", "/reset")).status).toBe(204)
    for (const bad of ["", "has space", "tab\there", "é-accent"]) {
      expect(() => new EmbeddedServer({ token: bad }), JSON.stringify(bad)).toThrow(/printable ASCII/)
    }
    const wide = new EmbeddedServer({ token: null })
    servers.push(wide)
    await expect(wide.listen("0.0.0.0:0")).rejects.toThrow(/loopback/)
  })
})

describe("embedded proxy API: bodies and paths", () => {
  it("a body over 1 MiB is 413 (with Content-Length or chunked) and creates nothing", async () => {
    const { s, url } = await startServer()
    const up = await upstream()
    // Valid JSON that a truncating reader would still accept: the proxy object, then padding.
    const big = `{"name":"big","listen":"127.0.0.1:0","upstream":"${up}"}${" ".repeat(2 << 20)}`
    const sized = await raw(url, "POST", "/proxies", { headers: auth(s), body: big })
    expect(sized.status).toBe(413)
    expect(JSON.parse(sized.text)).toMatchObject({ status: 413 })
    const chunked = await raw(url, "POST", "/proxies", { headers: auth(s), body: big, chunked: true })
    expect(chunked.status).toBe(413)
    expect(s.proxies.size).toBe(0)
    // Just under the limit is parsed as usual.
    const fits = `{"name":"fits","listen":"127.0.0.1:0","upstream":"${up}"}${" ".repeat((1 << 20) - 200)}`
    expect((await raw(url, "POST", "/proxies", { headers: auth(s), body: fits })).status).toBe(201)
  })

  it("a malformed % escape in the path is 400, not 500", async () => {
    const { s, url } = await startServer()
    for (const p of ["/proxies/%zz", "/proxies/%", "/proxies/a%2", "/proxies/%E0%A4%A"]) {
      const r = await raw(url, "GET", p)
      expect(r.status, p).toBe(400)
      expect(r.text).toBe("400 Bad Request")
    }
    expect((await raw(url, "DELETE", "/proxies/%zz", { headers: auth(s) })).status).toBe(400)
    // A well-formed escape still decodes.
    expect((await raw(url, "GET", "/proxies/%6E%6F")).text).toContain("proxy not found")
  })
})

describe("embedded proxy API: where proxies may listen", () => {
  it("refuses a non-loopback listen on create, update and populate (403) and opens nothing", async () => {
    const { s, url } = await startServer()
    const up = await upstream()
    for (const listen of ["0.0.0.0:0", ":0", "[::]:0"]) {
      const r = await raw(url, "POST", "/proxies", { headers: auth(s), body: proxyBody(up, listen) })
      expect(r.status, listen).toBe(403)
      expect(JSON.parse(r.text).error).toMatch(/loopback/)
    }
    expect(s.proxies.size).toBe(0)
    const pop = await raw(url, "POST", "/populate", { headers: auth(s), body: JSON.stringify([{ name: "w", listen: "0.0.0.0:0", upstream: up }]) })
    expect(pop.status).toBe(403)
    expect(s.proxies.size).toBe(0)
    // localhost and other loopback addresses are fine.
    expect((await raw(url, "POST", "/proxies", { headers: auth(s), body: proxyBody(up, "localhost:0", "l") })).status).toBe(201)
    const p = s.proxies.get("l")!
    const before = p.listen
    const moved = await raw(url, "PATCH", "/proxies/l", { headers: auth(s), body: JSON.stringify({ listen: "0.0.0.0:0" }) })
    expect(moved.status).toBe(403)
    // The refused update left the proxy where it was, still serving.
    expect(p.listen).toBe(before)
    expect(p.enabled).toBe(true)
    expect(await accepts("127.0.0.1", Number(before.split(":")[1]))).toBe(true)
  })

  it("allowNonLoopbackProxies lets a proxy listen on all interfaces", async () => {
    const { s, url } = await startServer({ allowNonLoopbackProxies: true })
    const up = await upstream()
    const r = await raw(url, "POST", "/proxies", { headers: auth(s), body: proxyBody(up, "0.0.0.0:0") })
    expect(r.status).toBe(201)
    expect(JSON.parse(r.text).listen).toMatch(/^0\.0\.0\.0:\d+$/)
  })
})

describe("embedded proxy API: its own listen address", () => {
  it("an empty host means loopback, and the URL names the address really bound", async () => {
    const { s, url, port } = await startServer(undefined, ":0")
    expect(url).toBe(`http://127.0.0.1:${port}`)
    expect(s.address()).toEqual({ address: "127.0.0.1", port })
    // Bound to IPv4 loopback only: nothing answers on ::1 at that port.
    expect(await accepts("::1", port)).toBe(false)
  })
})
