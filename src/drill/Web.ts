/**
 * The web live view for the room: the same facts as the terminal (steps, elapsed vs
 * planned, current instructions, hypotheses, faults open, RTO clock) and the steps'
 * timeline as SVG, pushed by server-sent events. Participants holding the run's join token
 * complete steps, approve, decide and add notes; each write is journaled with the name they
 * give (`via: web`). Loopback by default; a request whose `Host` is not this server's or
 * whose `Origin` is not the page's is refused (403), and so is any data request without the
 * token (403).
 *
 * @since 0.1.0
 */
import * as http from "node:http"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Actor, Entry } from "../core/Journal.ts"
import { bearer, hostAllowed, MAX_BODY, newToken, originAllowed, tokenMatches } from "../proxy/ApiGuard.ts"
import * as DrillReport from "../report/DrillReport.ts"
import { type Desk, Facilitator, type Response } from "./Desk.ts"
import { type Runbook, toHtml } from "./Runbook.ts"
import * as Timeline from "./Timeline.ts"
import { APP_CSS, APP_JS, PAGE } from "./WebPage.ts"

/**
 * The web server could not start (address in use, not an address).
 *
 * @since 0.1.0
 */
export class WebUnavailable extends Schema.TaggedError<WebUnavailable>()("WebUnavailable", { listen: Schema.String, detail: Schema.String }) {
  override get message() {
    return `--serve ${this.listen}: ${this.detail}`
  }
}

// What the page is sent: the live state, the rendered timeline and each step's static parts.
const snapshot = (s: DrillReport.DrillState, statics: ReadonlyArray<unknown>, nowMono: number | null, timeline: string) => ({
  state: s,
  nowMono,
  rtoMs: DrillReport.rtoMs(s, nowMono),
  steps: statics,
  timeline
})

const staticsOf = (rb: Runbook | null) =>
  (rb?.steps ?? []).map((st) => ({
    stepId: st.id,
    proseHtml: toHtml(st.prose),
    evidence: st.spec.kind === "manual" ? st.spec.evidence ?? [] : [],
    approvers: st.spec.kind === "approve" ? st.spec.approvers ?? 1 : 0
  }))

const WriteBody = Schema.Struct({
  action: Schema.Literals(["complete", "approve", "refuse", "go", "no-go", "note", "abort"]),
  name: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(80)),
  stepId: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(2000))),
  text: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(2000))),
  evidence: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Boolean])))
})

/** The response a web write makes. @since 0.1.0 */
export const toResponse = (b: typeof WriteBody.Type): Response => {
  const actor: Actor = { name: b.name.trim(), user: null, via: "web" }
  const stepId = b.stepId ?? ""
  switch (b.action) {
    case "complete":
      return { _tag: "Complete", stepId, actor, evidence: b.evidence ?? {} }
    case "approve":
    case "refuse":
      return { _tag: "Approve", stepId, actor, approved: b.action === "approve", reason: b.reason ?? "" }
    case "go":
    case "no-go":
      return { _tag: "Decide", stepId, actor, go: b.action === "go", reason: b.reason ?? "" }
    case "note":
      return { _tag: "Note", actor, text: b.text ?? "" }
    case "abort":
      return { _tag: "Abort", actor, reason: b.reason || "aborted from the web view" }
  }
}

const send = (res: http.ServerResponse, status: number, body: unknown, type = "application/json") => {
  const text = typeof body === "string" ? body : JSON.stringify(body)
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", "x-frame-options": "DENY" })
  res.end(text)
}

/** @since 0.1.0 */
export interface ServeOptions {
  readonly host: string
  readonly port: number
  readonly state: DrillReport.DrillState
  readonly runner: Actor
  readonly title: string
  readonly runbook: Runbook | null
  readonly token?: string
}

// The room: the live state, the timeline and the pages listening for changes.
const makeRoom = (options: ServeOptions) => {
  const statics = staticsOf(options.runbook)
  const timeline = Timeline.live()
  const clients = new Set<http.ServerResponse>()
  let lastEntryAt = performance.now()
  // The SVG is redrawn once per push, not per entry (a drill samples many times a second).
  let svg = ""
  let svgStale = true
  let timer: NodeJS.Timeout | null = null
  const room = {
    token: options.token ?? newToken(),
    origin: "",
    desk: null as Desk | null,
    clients,
    snap: () => {
      if (svgStale) [svg, svgStale] = [timeline.svg(), false]
      const now = options.state.lastMono === null ? null : options.state.lastMono + (performance.now() - lastEntryAt)
      return snapshot(options.state, statics, now, svg)
    },
    push: () => {
      const data = `event: state\ndata: ${JSON.stringify(room.snap())}\n\n`
      for (const c of clients) c.write(data)
    },
    changed: (entry?: Entry) => {
      lastEntryAt = performance.now()
      if (entry !== undefined) {
        timeline.observe(entry)
        svgStale = true
      }
      timer ??= setTimeout(() => {
        timer = null
        room.push()
      }, 20)
    },
    stop: () => {
      if (timer !== null) clearTimeout(timer)
      room.push()
      for (const c of clients) c.end()
    }
  }
  return room
}
type Room = ReturnType<typeof makeRoom>

// POST /api/respond: a participant's write, checked by the desk and journaled there.
const respond = (room: Room, req: http.IncomingMessage, res: http.ServerResponse) => {
  let body = ""
  let size = 0
  req.on("data", (c: Buffer) => {
    size += c.length
    if (size <= MAX_BODY) body += c.toString("utf8")
  })
  req.on("end", () => {
    if (size > MAX_BODY) return send(res, 413, { error: "body too large" })
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return send(res, 400, { error: "the body is not JSON" })
    }
    const decoded = Schema.decodeUnknownExit(WriteBody)(parsed, { onExcessProperty: "error" })
    if (decoded._tag === "Failure") return send(res, 400, { error: "expected { action, name, stepId?, reason?, text?, evidence? }" })
    if (room.desk === null) return send(res, 409, { error: "the drill has not started" })
    const refused = room.desk.submit(toResponse(decoded.value))
    // A refusal is the desk's answer to a well-formed request (the page shows it), not an HTTP error.
    return send(res, 200, refused === null ? { ok: true } : { ok: false, error: refused })
  })
}

const handler = (room: Room, host: string, title: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
  res.setHeader("content-security-policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
  // DNS rebinding and pages elsewhere: refused before anything is read or written.
  if (!hostAllowed(req.headers.host, host)) return send(res, 403, { error: "Host refused" })
  if (!originAllowed(req.headers.origin, room.origin)) return send(res, 403, { error: "Origin refused" })
  const url = new URL(req.url ?? "/", room.origin)
  if (req.method === "GET" && url.pathname === "/") return send(res, 200, PAGE(title), "text/html; charset=utf-8")
  if (req.method === "GET" && url.pathname === "/app.js") return send(res, 200, APP_JS, "text/javascript; charset=utf-8")
  if (req.method === "GET" && url.pathname === "/app.css") return send(res, 200, APP_CSS, "text/css; charset=utf-8")
  const presented = bearer(req) ?? url.searchParams.get("token")
  if (presented === null || !tokenMatches(presented, room.token)) return send(res, 403, { error: "the join token is required" })
  if (req.method === "GET" && url.pathname === "/state") return send(res, 200, room.snap())
  if (req.method === "GET" && url.pathname === "/events") {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" })
    res.write(`event: state\ndata: ${JSON.stringify(room.snap())}\n\n`)
    room.clients.add(res)
    req.on("close", () => room.clients.delete(res))
    return
  }
  if (req.method === "POST" && url.pathname === "/api/respond") return respond(room, req, res)
  return send(res, 404, { error: "not found" })
}

/**
 * Starts the web live view; it stops with the scope. `changed(entry)` feeds it each journal
 * entry and pushes the state to every page (at most every 20 ms; once a second anyway, so
 * the clocks move).
 *
 * @since 0.1.0
 */
export const serve = (options: ServeOptions) =>
  Effect.gen(function*() {
    const room = makeRoom(options)
    const server = http.createServer(handler(room, options.host, options.title))
    const address = yield* Effect.callback<{ port: number }, WebUnavailable>((resume) => {
      server.once("error", (e) => resume(Effect.fail(new WebUnavailable({ listen: `${options.host}:${options.port}`, detail: e.message }))))
      server.listen(options.port, options.host, () => resume(Effect.succeed(server.address() as { port: number })))
    })
    const tick = setInterval(room.push, 1000)
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        clearInterval(tick)
        room.stop()
        return new Promise<void>((r) => server.close(() => r()))
      })
    )
    room.origin = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${address.port}`
    const facilitator = Facilitator.of({
      runner: options.runner,
      attach: (d) =>
        Effect.sync(() => {
          room.desk = d
          d.onPending(() => room.changed())
        })
    })
    return { url: `${room.origin}/#token=${room.token}`, origin: room.origin, token: room.token, port: address.port, changed: room.changed, facilitator }
  })
