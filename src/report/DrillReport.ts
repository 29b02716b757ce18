/**
 * The drill report and the live views' state: one fold over the journal. Per step: status,
 * planned vs actual time, who did it, what was recorded, who approved; the RTO clock and
 * the RPO measured against the runbook's objectives; the faults open; the hypotheses'
 * latest samples; the notes. Its size is bounded by the runbook, not by the drill's length.
 *
 * @since 0.1.0
 */
import type { Actor, Entry, Fold } from "../core/Journal.ts"

/** @since 0.1.0 */
export interface StepState {
  readonly stepId: string
  readonly title: string
  readonly kind: string
  readonly branch: string | null
  readonly plannedMs: number | null
  status: "pending" | "running" | "done" | "approved" | "refused" | "go" | "no-go" | "failed" | "aborted"
  instructions: string
  startedMono: number | null
  endedMono: number | null
  startedAt: number | null
  actor: Actor | null
  evidence: Record<string, unknown>
  approvers: Array<Actor>
  approvals: Array<{ readonly actor: Actor; readonly approved: boolean; readonly reason: string }>
  detail: string
}

/** @since 0.1.0 */
export interface DrillState {
  runId: string
  runbook: string
  service: string
  tier: string
  runner: Actor | null
  objectives: { rtoMs: number | null; rpoMs: number | null }
  status: string
  reason: string
  cleanup: string
  startedMono: number | null
  startedAt: number | null
  lastMono: number | null
  endedMono: number | null
  steps: Array<StepState>
  current: string | null
  rto: { startMono: number | null; stopMono: number | null }
  /** The worst RPO the drill's `run` steps measured; null when none did. */
  rpo: { windowMs: number; lostWrites: number } | null
  hypotheses: Record<string, { ok: boolean; good: number; total: number; lastAt: number; error: string | null }>
  faultsOpen: Array<{ faultId: string; fault: string; target: string; sinceMono: number }>
  notes: Array<{ mono: number; actor: Actor; text: string; stepId: string | null }>
  /** The journal entries folded so far. */
  entries: number
}

/** Notes kept by the live state (the journal keeps all of them). @since 0.1.0 */
export const MAX_NOTES = 50

/** Makes an empty state. @since 0.1.0 */
export const empty = (): DrillState => ({
  runId: "",
  runbook: "",
  service: "",
  tier: "",
  runner: null,
  objectives: { rtoMs: null, rpoMs: null },
  status: "running",
  reason: "",
  cleanup: "unknown",
  startedMono: null,
  startedAt: null,
  lastMono: null,
  endedMono: null,
  steps: [],
  current: null,
  rto: { startMono: null, stopMono: null },
  rpo: null,
  hypotheses: {},
  faultsOpen: [],
  notes: [],
  entries: 0
})

/**
 * Folds one entry into the state (mutating it: the live views fold thousands of samples).
 *
 * @since 0.1.0
 */
export const step = (s: DrillState, e: Entry): void => {
  s.entries++
  s.lastMono = e.mono
  if (!stepDrill(s, e)) stepRun(s, e)
}

const blankStep = (
  x: { readonly stepId: string; readonly title: string; readonly kind: string; readonly plannedMs: number | null; readonly branch: string | null }
): StepState => ({
  ...x,
  status: "pending",
  instructions: "",
  startedMono: null,
  endedMono: null,
  startedAt: null,
  actor: null,
  evidence: {},
  approvers: [],
  approvals: [],
  detail: ""
})

// The drill's own events; false when the entry is not one.
const stepDrill = (s: DrillState, e: Entry): boolean => {
  const ev = e.event
  const find = (id: string) => s.steps.find((x) => x.stepId === id)
  switch (ev._tag) {
    case "DrillStarted":
      Object.assign(s, { runbook: ev.runbook, service: ev.service, tier: ev.tier, runner: ev.runner, objectives: { ...ev.objectives } })
      s.steps = ev.steps.map(blankStep)
      return true
    case "StepStarted": {
      const st = find(ev.stepId)
      if (st) Object.assign(st, { status: "running", instructions: ev.instructions, startedMono: e.mono, startedAt: e.at })
      s.current = ev.stepId
      return true
    }
    case "StepEnded": {
      const st = find(ev.stepId)
      if (st) {
        Object.assign(st, { status: ev.outcome, endedMono: e.mono, actor: ev.actor, evidence: ev.evidence, approvers: [...ev.approvers], detail: ev.detail })
      }
      if (s.current === ev.stepId) s.current = null
      if (ev.rpo !== undefined && (s.rpo === null || ev.rpo.windowMs > s.rpo.windowMs)) s.rpo = { ...ev.rpo }
      return true
    }
    case "StepApproval":
      find(ev.stepId)?.approvals.push({ actor: ev.actor, approved: ev.approved, reason: ev.reason })
      return true
    case "DrillNote":
      s.notes.push({ mono: e.mono, actor: ev.actor, text: ev.text, stepId: ev.stepId })
      if (s.notes.length > MAX_NOTES) s.notes.shift()
      return true
    case "Checkpoint":
      if (ev.action === "start") s.rto.startMono = e.mono
      else if (s.rto.startMono !== null) s.rto.stopMono = e.mono
      return true
    default:
      return false
  }
}

// The run's events a drill shows: its start and end, samples, faults.
const stepRun = (s: DrillState, e: Entry): void => {
  const ev = e.event
  switch (ev._tag) {
    case "RunStarted":
      s.runId = e.runId
      s.startedMono = e.mono
      s.startedAt = e.at
      return
    case "Sample": {
      const h = s.hypotheses[ev.hypothesis] ?? { ok: true, good: 0, total: 0, lastAt: 0, error: null }
      h.ok = ev.sample.ok
      h.total++
      if (ev.sample.ok) h.good++
      h.lastAt = ev.sample.at
      h.error = ev.sample.ok ? null : ev.sample.error ?? null
      s.hypotheses[ev.hypothesis] = h
      return
    }
    case "FaultInjected":
      s.faultsOpen.push({ faultId: ev.faultId, fault: ev.fault, target: `${ev.revert.target.kind} ${ev.revert.target.name}`, sinceMono: ev.startedMono })
      return
    case "FaultReverted":
      s.faultsOpen = s.faultsOpen.filter((f) => f.faultId !== ev.faultId)
      return
    case "RunEnded":
      Object.assign(s, { status: ev.status, reason: ev.reason, cleanup: ev.cleanup, endedMono: e.mono })
      return
  }
}

/** The drill state as a fold. @since 0.1.0 */
export const fold = (): Fold<DrillState> => {
  const s = empty()
  return { step: (e) => step(s, e), result: () => s }
}

/** A step's actual time, ms (running steps: until `nowMono`). @since 0.1.0 */
export const actualMs = (st: StepState, nowMono: number | null): number | null =>
  st.startedMono === null ? null : (st.endedMono ?? nowMono ?? st.startedMono) - st.startedMono

/** The RTO clock's reading, ms (running: until `nowMono`). @since 0.1.0 */
export const rtoMs = (s: DrillState, nowMono: number | null): number | null =>
  s.rto.startMono === null ? null : (s.rto.stopMono ?? s.endedMono ?? nowMono ?? s.rto.startMono) - s.rto.startMono

/** Milliseconds as `1m 05s` (or `850 ms`). @since 0.1.0 */
export const clock = (ms: number | null): string => {
  if (ms === null) return "—"
  if (ms < 1000) return `${Math.round(ms)} ms`
  const t = Math.round(ms / 1000)
  const h = Math.floor(t / 3600)
  const m = Math.floor((t % 3600) / 60)
  const sec = String(t % 60).padStart(2, "0")
  return h > 0 ? `${h}h ${String(m).padStart(2, "0")}m ${sec}s` : `${m}m ${sec}s`
}

const who = (a: Actor | null) => a === null ? "" : `${a.name ?? a.user ?? "?"}${a.via === "web" ? " (web)" : ""}`

/**
 * The drill report as Markdown: verdict, objectives, and per step planned vs actual time,
 * who, evidence and approvers; the notes.
 *
 * @since 0.1.0
 */
export const toMarkdown = (s: DrillState): string => {
  const rto = rtoMs(s, null)
  const lines = [
    `# Drill: ${s.runbook}`,
    "",
    `- run: ${s.runId}; service ${s.service}, tier ${s.tier}; run by ${who(s.runner)}`,
    `- status: **${s.status}** — ${s.reason}; cleanup: ${s.cleanup}`,
    `- RTO (checkpoint clock): ${rto === null ? "not measured" : clock(rto)}${
      s.objectives.rtoMs === null
        ? ""
        : ` vs objective ${clock(s.objectives.rtoMs)} — ${rto === null ? "not measured" : rto <= s.objectives.rtoMs ? "met" : "missed"}`
    }`,
    `- RPO (run steps' heartbeats): ${s.rpo === null ? "not measured" : `${clock(s.rpo.windowMs)} (${s.rpo.lostWrites} acknowledged writes lost)`}` +
    `${
      s.objectives.rpoMs === null
        ? ""
        : ` vs objective ${clock(s.objectives.rpoMs)} — ${s.rpo === null ? "not measured" : s.rpo.windowMs <= s.objectives.rpoMs ? "met" : "missed"}`
    }`,
    "",
    "| # | step | kind | status | planned | actual | who | evidence / approvers / detail |",
    "|---|---|---|---|---|---|---|---|"
  ]
  s.steps.forEach((st, i) => {
    const extra = [
      Object.keys(st.evidence).length ? `evidence: ${Object.entries(st.evidence).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}` : "",
      st.approvals.length ? `approvals: ${st.approvals.map((a) => `${who(a.actor)} ${a.approved ? "yes" : `no (${a.reason})`}`).join(", ")}` : "",
      st.detail
    ].filter((x) => x !== "").join("; ").replace(/\|/g, "\\|")
    lines.push(
      `| ${i + 1} | ${st.title.replace(/\|/g, "\\|")}${st.branch ? ` (${st.branch})` : ""} | ${st.kind} | ${st.status} | ${clock(st.plannedMs)} | ${
        clock(actualMs(st, null))
      } | ${who(st.actor)} | ${extra} |`
    )
  })
  if (s.notes.length) {
    lines.push("", "## Notes", "")
    for (const n of s.notes) lines.push(`- ${clock(n.mono - (s.startedMono ?? n.mono))} ${who(n.actor)}${n.stepId ? ` (step ${n.stepId})` : ""}: ${n.text}`)
  }
  return lines.join("\n") + "\n"
}
