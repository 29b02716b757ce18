/**
 * The terminal live view: steps with status and elapsed vs planned time, the current
 * instructions, hypothesis status, faults open and the RTO clock, redrawn as the journal
 * grows; keys to complete, approve, refuse, decide, add a note and abort. Ctrl-C interrupts
 * the drill (every fault is reverted).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Actor } from "../core/Journal.ts"
import * as DrillReport from "../report/DrillReport.ts"
import type { Desk, Pending, Response } from "./Desk.ts"
import { Facilitator } from "./Desk.ts"

interface Field {
  readonly key: string
  readonly label: string
  readonly fallback?: string
}

interface Form {
  readonly title: string
  readonly fields: ReadonlyArray<Field>
  readonly values: Record<string, string>
  i: number
  buffer: string
  readonly submit: (values: Record<string, string>) => Response
}

const ICON: Record<string, string> = {
  pending: " ",
  running: ">",
  done: "v",
  approved: "v",
  go: "v",
  refused: "x",
  "no-go": "x",
  failed: "x",
  aborted: "!"
}

/**
 * Renders the live state as terminal lines (no colours: it must read in any terminal and in
 * a captured pane).
 *
 * @since 0.1.0
 */
export const render = (s: DrillReport.DrillState, nowMono: number | null, extra: ReadonlyArray<string> = [], width = 100): string => {
  const rto = DrillReport.rtoMs(s, nowMono)
  const cut = (t: string) => t.length > width ? `${t.slice(0, width - 1)}…` : t
  const lines = [
    `faultline drill: ${s.runbook} (service ${s.service}, tier ${s.tier})  run ${s.runId}  status ${s.status}`,
    `RTO clock ${s.rto.startMono === null ? "not started" : DrillReport.clock(rto)}${s.rto.stopMono !== null ? " (stopped)" : ""}` +
    `${s.objectives.rtoMs === null ? "" : ` / objective ${DrillReport.clock(s.objectives.rtoMs)}`}` +
    `   faults open: ${s.faultsOpen.length === 0 ? "none" : s.faultsOpen.map((f) => `${f.fault} on ${f.target}`).join(", ")}`,
    `hypotheses: ${Object.entries(s.hypotheses).map(([n, h]) => `${n} ${h.ok ? "OK" : "FAILING"} (${h.good}/${h.total} good)`).join("; ") || "none declared"}`,
    "-".repeat(Math.min(width, 80))
  ]
  s.steps.forEach((st, i) => {
    const actual = DrillReport.actualMs(st, nowMono)
    const who = st.actor ? ` ${st.actor.name ?? st.actor.user}` : ""
    lines.push(
      `${ICON[st.status] ?? "?"} ${String(i + 1).padStart(2)} ${st.title.padEnd(34).slice(0, 34)} ${st.kind.padEnd(10)} ${st.status.padEnd(8)} ${
        DrillReport.clock(actual).padStart(8)
      } / ${DrillReport.clock(st.plannedMs).padEnd(8)}${st.branch ? ` [${st.branch}]` : ""}${who}`
    )
  })
  lines.push("-".repeat(Math.min(width, 80)))
  const cur = s.steps.find((x) => x.stepId === s.current)
  lines.push(cur ? `NOW: ${cur.title} — ${cur.instructions}` : s.status === "running" ? "NOW: —" : `ENDED: ${s.status} — ${s.reason}`)
  for (const n of s.notes.slice(-3)) lines.push(`note ${n.actor.name ?? n.actor.user}: ${n.text}`)
  lines.push(...extra)
  return lines.map(cut).join("\n")
}

const KEYS = "keys: [c] complete  [a] approve  [r] refuse  [g] go  [n] no-go  [o] note  [x] abort  [Ctrl-C] interrupt"

// The form a key opens for the step waiting (or a message when the key does nothing now).
const formFor = (key: string, p: Pending | null, runner: Actor, actor: (name: string) => Actor): Form | string | null => {
  const id = p?.step.id ?? ""
  const spec = p?.step.spec
  const runnerName = runner.name ?? ""
  const open = (title: string, fields: ReadonlyArray<Field>, submit: Form["submit"]): Form => ({ title, fields, values: {}, i: 0, buffer: "", submit })
  if (key === "c" && spec?.kind === "manual") {
    const ev = spec.evidence ?? []
    return open(`complete ${id}`, [...ev.map((f) => ({ key: f.name, label: `${f.label ?? f.name} (${f.type === "checkbox" ? "y/n" : f.type})` })), {
      key: "by",
      label: "your name",
      fallback: runnerName
    }], (v) => ({
      _tag: "Complete",
      stepId: id,
      actor: actor(v.by ?? ""),
      evidence: Object.fromEntries(ev.map((f) => [f.name, f.type === "checkbox" ? /^y/i.test(v[f.name] ?? "") : v[f.name] ?? ""]))
    }))
  }
  if ((key === "a" || key === "r") && spec?.kind === "approve") {
    const approved = key === "a"
    return open(`${approved ? "approve" : "refuse"} ${id}`, [
      { key: "by", label: "approver's name" },
      ...(approved ? [] : [{ key: "reason", label: "reason" }])
    ], (v) => ({ _tag: "Approve", stepId: id, actor: actor(v.by ?? ""), approved, reason: v.reason ?? "" }))
  }
  if ((key === "g" || key === "n") && spec?.kind === "decision") {
    const go = key === "g"
    return open(
      `${go ? "go" : "no-go"} at ${id}`,
      [{ key: "by", label: "your name", fallback: runnerName }, { key: "reason", label: "reason", fallback: "" }],
      (v) => ({ _tag: "Decide", stepId: id, actor: actor(v.by ?? ""), go, reason: v.reason ?? "" })
    )
  }
  if (key === "o") {
    return open(
      "note",
      [{ key: "text", label: "note" }, { key: "by", label: "your name", fallback: runnerName }],
      (v) => ({ _tag: "Note", actor: actor(v.by ?? ""), text: v.text ?? "" })
    )
  }
  if (key === "x") {
    return open(
      "ABORT the drill (every fault is reverted)",
      [{ key: "reason", label: "reason" }],
      (v) => ({ _tag: "Abort", actor: actor(""), reason: v.reason || "aborted from the terminal" })
    )
  }
  return "carngox".includes(key) ? `[${key}] does nothing now${p ? ` (step ${id} is a ${spec?.kind} step)` : " (no step is waiting for people)"}` : null
}

// A key typed into an open form: the form stays open, closes (cancelled), or is submitted.
const formKey = (f: Form, ch: string): "open" | "cancel" | "submit" => {
  if (ch === "\x1b") return "cancel"
  if (ch === "\r" || ch === "\n") {
    const field = f.fields[f.i]!
    f.values[field.key] = f.buffer === "" ? field.fallback ?? "" : f.buffer
    f.buffer = ""
    f.i++
    return f.i >= f.fields.length ? "submit" : "open"
  }
  if (ch === "\x7f" || ch === "\b") f.buffer = f.buffer.slice(0, -1)
  else if (ch >= " ") f.buffer += ch
  return "open"
}

const formLine = (form: Form | null): string => {
  if (form === null) return KEYS
  const field = form.fields[form.i]!
  return `${form.title} — ${field.label}${field.fallback ? ` [${field.fallback}]` : ""}: ${form.buffer}_  (Enter: next, Esc: cancel)`
}

// Raw keys from the terminal for the drill's lifetime; the terminal is restored after.
const keysFrom = (input: NodeJS.ReadStream, onData: (data: Buffer) => void, stopPending: () => void, last: () => void) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      if (input.isTTY) input.setRawMode(true)
      input.resume()
      input.on("data", onData)
      last()
    }),
    () =>
      Effect.sync(() => {
        stopPending()
        input.off("data", onData)
        if (input.isTTY) input.setRawMode(false)
        input.pause()
        last()
      })
  )

/**
 * A terminal facilitator on the process' stdin/stdout. `state` is the live state the CLI
 * folds from the journal; `changed` is called by the CLI after each entry.
 *
 * @since 0.1.0
 */
export const make = (options: {
  readonly runner: Actor
  readonly state: DrillReport.DrillState
  readonly input?: NodeJS.ReadStream
  readonly output?: NodeJS.WriteStream
  readonly banner?: ReadonlyArray<string>
}) => {
  const input = options.input ?? process.stdin
  const output = options.output ?? process.stdout
  let desk: Desk | null = null
  let form: Form | null = null
  let message = ""
  let timer: NodeJS.Timeout | null = null
  let lastEntryAt = performance.now()
  const actor = (name: string): Actor => ({ name: name.trim() === "" ? options.runner.name : name.trim(), user: options.runner.user, via: "terminal" })
  const draw = () => {
    timer = null
    const now = options.state.lastMono === null ? null : options.state.lastMono + (performance.now() - lastEntryAt)
    const text = render(options.state, now, [...(options.banner ?? []), message, formLine(form)], Math.max(60, output.columns ?? 100))
    output.write(`\x1b[H\x1b[2J${text.replace(/\n/g, "\r\n")}\r\n`)
  }
  const changed = () => {
    lastEntryAt = performance.now()
    if (timer === null) timer = setTimeout(draw, 50)
  }
  const onChar = (ch: string) => {
    if (ch === "\x03") {
      message = "interrupted: reverting every fault"
      process.kill(process.pid, "SIGINT")
    } else if (form === null) {
      const opened = formFor(ch, desk?.pending() ?? null, options.runner, actor)
      if (typeof opened === "string") message = opened
      else if (opened !== null) form = opened
    } else {
      const f = form
      const next = formKey(f, ch)
      if (next === "cancel") [form, message] = [null, "cancelled"]
      if (next === "submit") {
        form = null
        const refused = desk?.submit(f.submit(f.values)) ?? "the drill has not started"
        message = refused === null ? `${f.title}: recorded` : `${f.title}: REFUSED — ${refused}`
      }
    }
  }
  const onData = (data: Buffer) => {
    for (const ch of data.toString("utf8")) onChar(ch)
    draw()
  }
  const attach = (d: Desk) =>
    Effect.andThen(
      Effect.sync(() => {
        desk = d
      }),
      keysFrom(input, onData, d.onPending(() => changed()), () => {
        if (timer !== null) clearTimeout(timer)
        draw()
      })
    )
  return { facilitator: Facilitator.of({ runner: options.runner, attach }), changed, redraw: draw }
}
