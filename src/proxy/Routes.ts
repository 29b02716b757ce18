/**
 * The routes of the embedded proxy's HTTP API, as Toxiproxy 2.12 answers them: the same
 * paths, methods, status codes, error bodies and defaults.
 *
 * @since 0.1.0
 */
import type * as http from "node:http"
import { listenRefused, parseListen, ProxyState } from "./Proxy.ts"
import { ApiError, decodeNew, decodeUpdate, goKind, toJSON as toxicJSON } from "./Toxics.ts"

/**
 * The Toxiproxy version the API reports and follows.
 *
 * @since 0.1.0
 */
export const VERSION = "2.12.0"

/**
 * What the routes act on: the server's proxies, and whether they may listen beyond loopback.
 *
 * @since 0.1.0
 */
export interface Api {
  readonly proxies: Map<string, ProxyState>
  readonly allowNonLoopbackProxies: boolean
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const data = JSON.stringify(body)
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) })
  res.end(data)
}

export const apiError = (res: http.ServerResponse, e: ApiError, extra?: Record<string, unknown>) => {
  const data = JSON.stringify({ error: e.error, status: e.status, ...extra }) + "\n"
  res.writeHead(e.status, { "Content-Type": extra ? "application/json" : "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(data) })
  res.end(data)
}

const noContent = (res: http.ServerResponse) => {
  res.writeHead(204)
  res.end()
}

/** Parses a body like Go's json.Decoder: empty is EOF, a syntax error is a 400. */
const parseBody = (text: string): { ok: true; value: unknown } | { ok: false; error: ApiError } => {
  if (text.trim() === "") return { ok: false, error: new ApiError(400, "bad request body: EOF") }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (e) {
    return { ok: false, error: new ApiError(400, `bad request body: ${(e as Error).message}`) }
  }
}

const proxyFields = (b: Record<string, unknown>, struct: string): ApiError | null => {
  for (const k of ["name", "listen", "upstream"]) {
    const v = b[k]
    if (v !== undefined && v !== null && typeof v !== "string") {
      return new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(v, false)} into Go struct field ${struct}.${k} of type string`)
    }
  }
  if (b.enabled !== undefined && b.enabled !== null && typeof b.enabled !== "boolean") {
    return new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(b.enabled, false)} into Go struct field ${struct}.enabled of type bool`)
  }
  return null
}

export const text = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body), ...headers })
  res.end(body)
}

// Answers 405 when the method is not among those the route takes.
const allowed = (method: string, res: http.ServerResponse, ...methods: Array<string>) => {
  if (methods.includes(method)) return true
  res.writeHead(405)
  res.end()
  return false
}

const notFound = (res: http.ServerResponse) => {
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" })
  res.end("404 page not found\n")
}

/**
 * Answers one request whose path (`parts`, after any `/token/TOKEN` prefix) and body the
 * server has accepted.
 *
 * @since 0.1.0
 */
export const route = async (api: Api, method: string, parts: Array<string>, body: string, res: http.ServerResponse): Promise<void> => {
  if (parts.length === 1 && parts[0] === "version") {
    if (!allowed(method, res, "GET")) return
    const data = JSON.stringify({ version: VERSION }) + "\n"
    res.writeHead(200, { "Content-Type": "application/json;charset=utf-8" })
    res.end(data)
    return
  }
  if (parts.length === 1 && parts[0] === "reset") {
    if (!allowed(method, res, "POST")) return
    for (const p of api.proxies.values()) {
      for (const t of Array.from(p.toxics)) p.removeToxic(t)
      if (!p.enabled) await p.start("")
    }
    return noContent(res)
  }
  if (parts.length === 1 && parts[0] === "populate") {
    if (!allowed(method, res, "POST")) return
    return populate(api, body, res)
  }
  if (parts[0] !== "proxies" || parts.length > 4) return notFound(res)
  if (parts.length === 1) {
    if (!allowed(method, res, "GET", "POST")) return
    if (method === "GET") return json(res, 200, Object.fromEntries([...api.proxies].map(([k, p]) => [k, p.toJSON()])))
    return create(api, body, res)
  }
  const proxy = api.proxies.get(parts[1]!)
  if (parts.length === 2) return routeProxy(api, method, proxy, body, res)
  if (parts[2] !== "toxics") return notFound(res)
  if (parts.length === 3) return routeToxics(method, proxy, body, res)
  return routeToxic(method, proxy, parts[3], body, res)
}

// /proxies/{proxy}
const routeProxy = async (api: Api, method: string, proxy: ProxyState | undefined, body: string, res: http.ServerResponse): Promise<void> => {
  if (!allowed(method, res, "GET", "POST", "PATCH", "DELETE")) return
  if (proxy === undefined) return apiError(res, new ApiError(404, "proxy not found"))
  if (method === "GET") return json(res, 200, proxy.toJSON())
  if (method === "DELETE") {
    await proxy.stop()
    api.proxies.delete(proxy.name)
    return noContent(res)
  }
  return update(proxy, body, res)
}

// /proxies/{proxy}/toxics
const routeToxics = (method: string, proxy: ProxyState | undefined, body: string, res: http.ServerResponse): void => {
  if (!allowed(method, res, "GET", "POST")) return
  if (proxy === undefined) return apiError(res, new ApiError(404, "proxy not found"))
  if (method === "GET") return json(res, 200, proxy.toJSON().toxics)
  const parsed = parseBody(body)
  if (!parsed.ok) return apiError(res, parsed.error)
  const t = decodeNew(parsed.value)
  if (t instanceof ApiError) return apiError(res, t)
  if (proxy.toxics.some((x) => x.name === t.name)) return apiError(res, new ApiError(409, "toxic already exists"))
  proxy.addToxic(t)
  return json(res, 200, toxicJSON(t))
}

// /proxies/{proxy}/toxics/{toxic}
const routeToxic = (method: string, proxy: ProxyState | undefined, name: string | undefined, body: string, res: http.ServerResponse): void => {
  if (!allowed(method, res, "GET", "POST", "PATCH", "DELETE")) return
  if (proxy === undefined) return apiError(res, new ApiError(404, "proxy not found"))
  const toxic = proxy.toxics.find((t) => t.name === name)
  if (toxic === undefined) return apiError(res, new ApiError(404, "toxic not found"))
  if (method === "GET") return json(res, 200, toxicJSON(toxic))
  if (method === "DELETE") {
    proxy.removeToxic(toxic)
    return noContent(res)
  }
  const parsed = parseBody(body)
  if (!parsed.ok) return apiError(res, parsed.error)
  const bad = decodeUpdate(toxic, parsed.value)
  if (bad) return apiError(res, bad)
  return json(res, 200, toxicJSON(toxic))
}

const create = async (api: Api, body: string, res: http.ServerResponse) => {
  const parsed = parseBody(body)
  if (!parsed.ok) return apiError(res, parsed.error)
  const b = parsed.value
  if (typeof b !== "object" || b === null || Array.isArray(b)) {
    return apiError(res, new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(b, false)} into Go value of type toxiproxy.Proxy`))
  }
  const r = await createOne(api, b as Record<string, unknown>, "Proxy", "")
  if (r instanceof ApiError) return apiError(res, r)
  return json(res, 201, r.toJSON())
}

/** A well-formed listen address beyond loopback, refused even for a disabled proxy (403). */
const refusedListen = (api: Api, listen: unknown): ApiError | null => {
  if (typeof listen !== "string") return null
  const addr = parseListen(listen)
  return typeof addr === "string" ? null : listenRefused(listen, addr, api.allowNonLoopbackProxies)
}

const createOne = async (api: Api, b: Record<string, unknown>, struct: string, suffix: string, replace = false): Promise<ProxyState | ApiError> => {
  const bad = proxyFields(b, struct)
  if (bad) return bad
  const name = typeof b.name === "string" ? b.name : ""
  const upstream = typeof b.upstream === "string" ? b.upstream : ""
  if (name === "") return new ApiError(400, `missing required field: name${suffix}`)
  if (upstream === "") return new ApiError(400, `missing required field: upstream${suffix}`)
  const refused = refusedListen(api, b.listen)
  if (refused !== null) return refused
  const existing = api.proxies.get(name)
  if (existing !== undefined) {
    if (!replace) return new ApiError(409, "proxy already exists")
    await existing.stop()
    api.proxies.delete(name)
  }
  const p = new ProxyState(name, typeof b.listen === "string" ? b.listen : "", upstream, api.allowNonLoopbackProxies)
  if (b.enabled !== false) {
    const err = await p.start("listen tcp: ")
    if (err) return err
  }
  api.proxies.set(name, p)
  return p
}

const populate = async (api: Api, body: string, res: http.ServerResponse) => {
  const parsed = parseBody(body)
  if (!parsed.ok) return apiError(res, parsed.error, { proxies: null })
  const list = parsed.value
  if (!Array.isArray(list)) {
    return apiError(
      res,
      new ApiError(
        400,
        `bad request body: json: cannot unmarshal ${goKind(list, false)} into Go value of type []struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }`
      ),
      { proxies: null }
    )
  }
  // Toxiproxy validates every entry before it touches any proxy.
  for (let i = 0; i < list.length; i++) {
    const b = list[i]
    if (typeof b !== "object" || b === null || Array.isArray(b)) {
      return apiError(
        res,
        new ApiError(
          400,
          `bad request body: json: cannot unmarshal ${goKind(b, false)} into Go value of type struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }`
        ),
        { proxies: null }
      )
    }
    const bad = proxyFields(b, "Proxy")
    if (bad) return apiError(res, bad, { proxies: null })
    if (typeof b.name !== "string" || b.name === "") {
      return apiError(res, new ApiError(400, `missing required field: name at proxy ${i + 1}`), { proxies: null })
    }
    if (typeof b.upstream !== "string" || b.upstream === "") {
      return apiError(res, new ApiError(400, `missing required field: upstream at proxy ${i + 1}`), { proxies: null })
    }
    const refused = refusedListen(api, b.listen)
    if (refused !== null) return apiError(res, refused, { proxies: null })
  }
  const done: Array<ProxyState> = []
  for (const b of list as Array<Record<string, unknown>>) {
    const existing = api.proxies.get(b.name as string)
    if (existing && existing.upstream === b.upstream && (b.listen === undefined || b.listen === existing.listen)) {
      done.push(existing)
      continue
    }
    const r = await createOne(api, b, "Proxy", "", true)
    if (r instanceof ApiError) return apiError(res, r, { proxies: done.length === 0 ? null : done.map((p) => p.toJSON()) })
    done.push(r)
  }
  return json(res, 201, { proxies: done.length === 0 ? null : done.map((p) => p.toJSON()) })
}

const update = async (proxy: ProxyState, body: string, res: http.ServerResponse) => {
  const parsed = parseBody(body)
  if (!parsed.ok) return apiError(res, parsed.error)
  const b = parsed.value
  if (typeof b !== "object" || b === null || Array.isArray(b)) {
    return apiError(res, new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(b, false)} into Go value of type toxiproxy.Proxy`))
  }
  const bad = proxyFields(b as Record<string, unknown>, "Proxy")
  if (bad) return apiError(res, bad)
  const { listen, upstream, enabled } = b as { listen?: string; upstream?: string; enabled?: boolean }
  const newListen = typeof listen === "string" && listen !== "" ? listen : proxy.listen
  const newUpstream = typeof upstream === "string" && upstream !== "" ? upstream : proxy.upstream
  const wantEnabled = typeof enabled === "boolean" ? enabled : proxy.enabled
  if (newListen !== proxy.listen || newUpstream !== proxy.upstream) {
    // Checked before the proxy stops, so a refused address leaves it where it was.
    const bad = proxy.checkListen(newListen)
    if (bad !== null) return apiError(res, bad)
    const wasEnabled = proxy.enabled
    await proxy.stop()
    proxy.listen = newListen
    proxy.upstream = newUpstream
    if (wasEnabled && wantEnabled) {
      const err = await proxy.start("")
      if (err) return apiError(res, err)
    }
  }
  if (wantEnabled && !proxy.enabled) {
    const err = await proxy.start("")
    if (err) return apiError(res, err)
  } else if (!wantEnabled && proxy.enabled) {
    await proxy.stop()
  }
  return json(res, 200, proxy.toJSON())
}
