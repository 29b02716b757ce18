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
import { Effect, Schema } from "effect"
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

/**
 * Starts the web live view; it stops with the scope. `changed` pushes the state to every
 * page (at most every 20 ms).
 *
 * @since 0.1.0
 */
export const serve = (options: {
  readonly host: string
  readonly port: number
  readonly state: DrillReport.DrillState
  readonly runner: Actor
  readonly title: string
  readonly runbook: Runbook | null
  readonly token?: string
}) =>
  Effect.gen(function*() {
    const token = options.token ?? newToken()
    const statics = staticsOf(options.runbook)
    const timeline = Timeline.live()
    // The SVG is redrawn once per push, not per entry (a drill samples many times a second).
    let svg = ""
    let svgStale = true
    const snap = () => {
      if (svgStale) {
        svg = timeline.svg()
        svgStale = false
      }
      return snapshot(options.state, statics, now(), svg)
    }
    const clients = new Set<http.ServerResponse>()
    let desk: Desk | null = null
    let origin = ""
    let lastEntryAt = performance.now()
    const now = () => options.state.lastMono === null ? null : options.state.lastMono + (performance.now() - lastEntryAt)
    const push = () => {
      const data = `event: state\ndata: ${JSON.stringify(snap())}\n\n`
      for (const c of clients) c.write(data)
    }
    let timer: NodeJS.Timeout | null = null
    const changed = (entry?: Entry) => {
      lastEntryAt = performance.now()
      if (entry !== undefined) {
        timeline.observe(entry)
        svgStale = true
      }
      if (timer === null) {
        timer = setTimeout(() => {
          timer = null
          push()
        }, 20)
      }
    }
    const tick = setInterval(push, 1000)
    const authorized = (req: http.IncomingMessage, url: URL) => {
      const presented = bearer(req) ?? url.searchParams.get("token")
      return presented !== null && tokenMatches(presented, token)
    }
    const write = (req: http.IncomingMessage, res: http.ServerResponse) => {
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
        if (desk === null) return send(res, 409, { error: "the drill has not started" })
        const refused = desk.submit(toResponse(decoded.value))
        // A refusal is the desk's answer to a well-formed request (the page shows it), not an HTTP error.
        return send(res, 200, refused === null ? { ok: true } : { ok: false, error: refused })
      })
    }
    const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
      // DNS rebinding and pages elsewhere: refused before anything is read or written.
      if (!hostAllowed(req.headers.host, options.host)) return send(res, 403, { error: "Host refused" })
      if (!originAllowed(req.headers.origin, origin)) return send(res, 403, { error: "Origin refused" })
      const url = new URL(req.url ?? "/", origin)
      if (req.method === "GET" && url.pathname === "/") return send(res, 200, PAGE(options.title), "text/html; charset=utf-8")
      if (req.method === "GET" && url.pathname === "/app.js") return send(res, 200, APP_JS, "text/javascript; charset=utf-8")
      if (req.method === "GET" && url.pathname === "/app.css") return send(res, 200, APP_CSS, "text/css; charset=utf-8")
      if (!authorized(req, url)) return send(res, 403, { error: "the join token is required" })
      if (req.method === "GET" && url.pathname === "/state") return send(res, 200, snap())
      if (req.method === "GET" && url.pathname === "/events") {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" })
        res.write(`event: state\ndata: ${JSON.stringify(snap())}\n\n`)
        clients.add(res)
        req.on("close", () => clients.delete(res))
        return
      }
      if (req.method === "POST" && url.pathname === "/api/respond") return write(req, res)
      return send(res, 404, { error: "not found" })
    }
    const server = http.createServer((req, res) => {
      res.setHeader("content-security-policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
      handle(req, res)
    })
    const address = yield* Effect.callback<{ port: number }, WebUnavailable>((resume) => {
      server.once("error", (e) => resume(Effect.fail(new WebUnavailable({ listen: `${options.host}:${options.port}`, detail: e.message }))))
      server.listen(options.port, options.host, () => resume(Effect.succeed(server.address() as { port: number })))
    })
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        clearInterval(tick)
        if (timer !== null) clearTimeout(timer)
        push()
        for (const c of clients) c.end()
        return new Promise<void>((r) => server.close(() => r()))
      })
    )
    const hostText = options.host.includes(":") ? `[${options.host}]` : options.host
    origin = `http://${hostText}:${address.port}`
    const facilitator = Facilitator.of({
      runner: options.runner,
      attach: (d) =>
        Effect.sync(() => {
          desk = d
          d.onPending(() => changed())
        })
    })
    return { url: `${origin}/#token=${token}`, origin, token, port: address.port, changed, facilitator }
  })
