/**
 * Postmortem drafts: Markdown a team edits after an experiment or a drill — summary, impact
 * window, timeline from the journal, time to detect, RTO/RPO against objectives, what deviated
 * and why, contributing faults, drill steps, and an action-items table with owner and due
 * placeholders. Every figure comes from the journal; the prose is left to the team.
 *
 * @since 0.1.0
 */
import type { Entry, Fold } from "../core/Journal.ts"
import * as Html from "./Html.ts"
import * as Report from "./Report.ts"
import { defaultStepOf, type Options } from "./Timeline.ts"

/** A line of the draft's timeline. @since 0.1.0 */
export interface Moment {
  readonly at: number
  readonly offsetMs: number
  readonly what: string
}

/**
 * What a postmortem draft is made of: the report, the timeline and the notable moments of
 * the journal (never its samples, but the first and last bad one).
 *
 * @since 0.1.0
 */
export interface Draft extends Html.Evidence {
  readonly moments: ReadonlyArray<Moment>
  /** Notable moments left out beyond `MAX_MOMENTS`. */
  readonly omitted: number
  readonly impact: { readonly firstBad: Moment; readonly lastBad: Moment; readonly badSamples: number } | null
}

/** The most timeline lines a draft lists. @since 0.1.0 */
export const MAX_MOMENTS = 200

const describe = (e: Entry, stepOf: (e: Entry) => ReturnType<typeof defaultStepOf>): string | null => {
  const ev = e.event
  switch (ev._tag) {
    case "RunStarted":
      return `run started: ${ev.experiment}${ev.dryRun ? " (dry run)" : ""}`
    case "GuardChecked":
      return ev.ok ? null : `guard ${ev.guard} said no: ${ev.detail}`
    case "HypothesisChecked":
      return `hypothesis ${ev.hypothesis} ${ev.phase}: ${ev.met ? "met" : "NOT met"} (${ev.good}/${ev.samples})`
    case "FaultInjected":
      return `fault injected: ${ev.fault} on ${ev.revert.target.kind} ${ev.revert.target.name}`
    case "FaultInjectFailed":
      return `fault injection FAILED: ${ev.fault}: ${ev.error}`
    case "FaultReverted":
      return `fault reverted (${ev.faultId}, ${ev.attempts} attempt${ev.attempts === 1 ? "" : "s"})`
    case "FaultRevertFailed":
      return `fault revert FAILED (${ev.faultId}): ${ev.error}`
    case "AbortFired":
      return `abort: ${ev.condition} — ${ev.reason}`
    case "HeartbeatReadBack":
      return `heartbeat read back: ${ev.surviving.length} of ${ev.checked} acknowledged writes survived`
    case "Note":
      return `note: ${ev.message}`
    case "MethodEnded":
      return `method ${ev.outcome}${ev.error ? `: ${ev.error}` : ""}`
    case "RunEnded":
      return `run ended: ${ev.status} — ${ev.reason}`
  }
  const step = stepOf(e)
  if (step === null) return null
  return step.edge === "start"
    ? `step started: ${step.name}${step.actor ? ` (${step.actor})` : ""}`
    : `step ended: ${step.id}${step.outcome ? ` — ${step.outcome}` : ""}${step.actor ? ` (${step.actor})` : ""}`
}

/**
 * The draft as a streaming fold over the journal (with the report and timeline folds).
 *
 * @since 0.1.0
 */
export const fold = (options: Options = {}): Fold<Draft> => {
  const inner = Html.fold(options)
  const stepOf = options.stepOf ?? defaultStepOf
  const moments: Array<Moment> = []
  let omitted = 0
  let mono0: number | null = null
  let firstBad: Moment | null = null
  let lastBad: Moment | null = null
  let badSamples = 0
  const step = (e: Entry) => {
    inner.step(e)
    mono0 ??= e.mono
    const ev = e.event
    if (ev._tag === "Sample") {
      if (!ev.sample.ok && ev.phase !== "before") {
        const m = { at: ev.sample.at, offsetMs: ev.sample.mono - mono0, what: `first failing sample of ${ev.hypothesis}: ${ev.sample.error ?? "not ok"}` }
        firstBad ??= m
        lastBad = { ...m, what: `last failing sample of ${ev.hypothesis}` }
        badSamples++
      }
      return
    }
    const what = describe(e, stepOf)
    if (what === null) return
    if (moments.length < MAX_MOMENTS) moments.push({ at: e.at, offsetMs: e.mono - mono0, what })
    else omitted++
  }
  const result = (): Draft => {
    const all = [...moments]
    if (firstBad) all.push(firstBad)
    if (lastBad && lastBad !== firstBad) all.push(lastBad)
    all.sort((a, b) => a.offsetMs - b.offsetMs)
    return { ...inner.result(), moments: all, omitted, impact: firstBad && lastBad ? { firstBad, lastBad, badSamples } : null }
  }
  return { step, result }
}

const iso = (ms: number) => new Date(ms).toISOString()
const ms = (n: number | null) => n === null ? "—" : `${n} ms`
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ")

const deviations = (r: Report.Report): Array<string> => {
  const out: Array<string> = []
  for (const [name, h] of Object.entries(r.hypothesis)) {
    for (const phase of ["before", "during", "after"] as const) {
      const p = h[phase]
      if (p && !p.met && !(phase === "during" && h.duringMode === "observed only")) {
        out.push(
          `Hypothesis **${name}** was not met ${phase} the method (${p.good}/${p.samples} good)${p.details.length > 0 ? `: ${p.details.join("; ")}` : ""}.`
        )
      }
    }
  }
  if (r.rto?.met === false) out.push(`RTO ${Report.rtoText(r.rto)} missed its objective of ${ms(r.rto.targetMs)}.`)
  if (r.rpo?.met === false) out.push(`RPO ${r.rpo.windowMs} ms (${r.rpo.lostWrites} acknowledged writes lost) missed its objective of ${ms(r.rpo.targetMs)}.`)
  if (r.abort) out.push(`The run was aborted by **${r.abort.condition}**: ${r.abort.reason}.`)
  if (r.method && r.method.outcome === "failed") out.push(`The method failed: ${r.method.error ?? "see the journal"}.`)
  for (const f of r.faults) {
    if (f.injectError) out.push(`Injecting ${f.fault} on ${f.target.name} failed: ${f.injectError}.`)
    if (f.revertError) out.push(`Reverting ${f.fault} on ${f.target.name} failed after ${f.revertAttempts} attempts: ${f.revertError}.`)
  }
  if (!r.complete) out.push(`The journal ends at line ${r.lastLine} without RunEnded: the evidence is incomplete.`)
  return out
}

const header = (d: Draft, kind: string): Array<string> => {
  const r = d.report
  return [
    `# Postmortem (draft): ${r.experiment}`,
    "",
    `> A draft generated by faultline from the journal of run \`${r.runId}\`. The figures and the timeline come from the journal; ` +
    "the prose, the causes and the action items are yours to write. Replace every _placeholder_.",
    "",
    "## Summary",
    "",
    `- what: ${kind} **${r.experiment}**${r.description ? ` — ${r.description}` : ""}`,
    `- when: ${r.startedAt} to ${r.endedAt ?? "— (no end journaled)"} (${ms(r.durationMs)})`,
    `- verdict: **${r.complete ? r.status : "incomplete"}** — ${r.reason}; cleanup ${r.cleanup}`,
    r.environment ? `- run by ${r.environment.user} on ${r.environment.host}, faultline ${r.environment.faultline}` : "- run by: — (not journaled)",
    "- in one sentence: _what happened, in words a stakeholder reads_",
    ""
  ]
}

const impact = (d: Draft): Array<string> => {
  const r = d.report
  const lines = ["## Impact window", ""]
  if (d.impact === null) {
    lines.push(
      r.rto && r.rto.upperBoundMs !== null
        ? `No probe saw an outage (probe every ${r.rto.resolutionMs} ms): any impact was shorter than that.`
        : "No failing sample was journaled during or after the method."
    )
  } else {
    const end = d.timeline.rto?.recoveredAtMs ?? d.impact.lastBad.offsetMs
    lines.push(
      `- from ${iso(d.impact.firstBad.at)} (+${d.impact.firstBad.offsetMs} ms) to ${
        d.timeline.rto?.recoveredAtMs != null ? "recovery" : "the last failing sample"
      } at +${Math.round(end)} ms`,
      `- ${d.impact.badSamples} failing samples`,
      "- who or what was affected: _users, services, data_"
    )
  }
  return [...lines, ""]
}

const timeline = (d: Draft): Array<string> => [
  "## Timeline",
  "",
  "| time (UTC) | since start | what happened |",
  "|---|---|---|",
  ...d.moments.map((m) => `| ${iso(m.at)} | +${Math.round(m.offsetMs)} ms | ${cell(m.what)} |`),
  ...(d.omitted > 0 ? [`| … | | ${d.omitted} more journal events (see the journal) |`] : []),
  ""
]

const recovery = (d: Draft): Array<string> => {
  const r = d.report
  const lines = ["## Detection and recovery", ""]
  if (r.rto) {
    lines.push(`- time to detect: ${ms(r.rto.detectMs)} (probe every ${r.rto.resolutionMs} ms)`, `- time to recover: ${ms(r.rto.recoverMs)}`)
  } else lines.push("- time to detect: — (no RTO stopwatch)")
  lines.push("- how it was detected: _alert, dashboard, a person_", "", "| objective | measured | target | met |", "|---|---|---|---|")
  if (r.rto) {
    lines.push(
      `| RTO | ${cell(r.dryRun ? "not measured (dry run)" : Report.rtoText(r.rto))} | ${ms(r.rto.targetMs)} | ${
        Report.metText(r.rto.met, r.rto.upperBoundMs !== null)
      } |`
    )
  }
  if (r.rpo) {
    lines.push(`| RPO | ${r.rpo.windowMs} ms, ${r.rpo.lostWrites}/${r.rpo.ackedWrites} writes lost | ${ms(r.rpo.targetMs)} | ${Report.metText(r.rpo.met)} |`)
  }
  if (!r.rto && !r.rpo) lines.push("| — | no objective declared | | |")
  return [...lines, ""]
}

const causes = (d: Draft, devs: ReadonlyArray<string>): Array<string> => {
  const r = d.report
  const lines = ["## What deviated and why", ""]
  if (devs.length === 0) lines.push("Nothing deviated: steady state held and every objective was met.")
  else lines.push(...devs.map((x) => `- ${x} Why: _cause_`))
  lines.push("", "## Contributing faults", "", "| fault | target | injected | reverted | in place |", "|---|---|---|---|---|")
  for (const f of r.faults) {
    lines.push(
      `| ${f.fault} | ${cell(`${f.target.kind} ${f.target.name}`)} | ${f.injectError ? "FAILED" : f.injectedAt ?? "—"} | ${
        f.revertError ? "FAILED" : f.revertedAt ?? "—"
      } | ${ms(f.durationMs)} |`
    )
  }
  if (r.faults.length === 0) lines.push("| — | no fault was injected | | | |")
  if (d.timeline.steps.length > 0) {
    lines.push("", "## Drill steps", "", "| step | actor | started | took | outcome |", "|---|---|---|---|---|")
    for (const s of d.timeline.steps) {
      lines.push(
        `| ${cell(s.name)} | ${cell(s.actor ?? "—")} | +${Math.round(s.fromMs)} ms | ${s.toMs === null ? "—" : `${Math.round(s.toMs - s.fromMs)} ms`} | ${
          cell(s.outcome ?? "—")
        } |`
      )
    }
  }
  return [...lines, ""]
}

/**
 * Renders the draft as Markdown.
 *
 * @since 0.1.0
 */
export const toMarkdown = (d: Draft): string => {
  const r = d.report
  const kind = d.timeline.steps.length > 0 ? "drill" : "experiment"
  const devs = deviations(r)
  const actions = devs.length > 0 ? devs.map((x) => `Follow up: ${x.replace(/\*\*/g, "")}`) : ["_an improvement this run suggests_"]
  return [
    ...header(d, kind),
    ...impact(d),
    ...timeline(d),
    ...recovery(d),
    ...causes(d, devs),
    "## Action items",
    "",
    "| # | action | owner | due | status |",
    "|---|---|---|---|---|",
    ...actions.map((a, i) => `| ${i + 1} | ${cell(a)} | _owner_ | _YYYY-MM-DD_ | open |`),
    `| ${actions.length + 1} | _action_ | _owner_ | _YYYY-MM-DD_ | open |`,
    "",
    "## Evidence",
    "",
    `- journal: ${r.journal.entries} entries, last hash \`${r.journal.lastHash ?? ""}\` (\`faultline report journal.jsonl\` re-checks the chain)`,
    "- report: report.html beside the journal",
    ""
  ].join("\n")
}
