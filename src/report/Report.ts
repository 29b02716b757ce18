/**
 * Reports: a pure function of the journal — verdict, hypothesis results per phase,
 * faults with their injection and revert instants, RTO and RPO against objectives.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type { PlatformError } from "effect/PlatformError"
import type { Environment } from "../core/Environment.ts"
import { type Entry, type Fold, foldAll } from "../core/Journal.ts"
import * as PrivateFiles from "../core/PrivateFiles.ts"
import * as Stopwatch from "../core/Stopwatch.ts"

/** @since 0.1.0 */
export interface PhaseResult {
  readonly met: boolean
  readonly samples: number
  readonly good: number
  readonly details: ReadonlyArray<string>
}

/** @since 0.1.0 */
export interface FaultRecord {
  readonly faultId: string
  readonly fault: string
  readonly target: { readonly kind: string; readonly id: string; readonly name: string }
  readonly injectedAt: string | null
  readonly revertedAt: string | null
  readonly revertAttempts: number | null
  readonly injectError: string | null
  readonly revertError: string | null
  readonly planned: boolean
  /** How long the fault was in place: injected → reverted, monotonic ms (null if either is missing). */
  readonly durationMs: number | null
}

/**
 * Whether a hypothesis' phase `during` judges the run ("counts") or is only recorded
 * ("observed only", `during: observe`).
 *
 * @since 0.1.0
 */
export type DuringMode = "counts" | "observed only"

/**
 * What the experiment was, as its run journaled it: hypotheses with their probes and
 * tolerances, abort conditions, guards, stopwatches and objectives.
 *
 * @since 0.1.0
 */
export interface Definition {
  readonly hypotheses: ReadonlyArray<{
    readonly name: string
    readonly probe: string
    readonly everyMs: number
    readonly samples: number
    readonly tolerance: unknown
    readonly during: DuringMode
  }>
  readonly abort: ReadonlyArray<string>
  /** Guards with their data; null when the journal predates them. */
  readonly guards: ReadonlyArray<{ readonly name: string; readonly spec: unknown }> | null
  readonly objectives: { readonly rtoMs: number | null; readonly rpoMs: number | null }
  /** The catalog service the experiment exercises; null when it names none. */
  readonly service?: { readonly name: string; readonly tier: number | null } | null
  readonly stopwatches: {
    readonly rto: { readonly hypothesis: string; readonly stableFor: number; readonly from: string | null } | null
    readonly rpo: { readonly everyMs: number } | null
  }
}

/**
 * The report of one run (the shape of `report.json`).
 *
 * @since 0.1.0
 */
export interface Report {
  readonly runId: string
  readonly experiment: string
  readonly status: "passed" | "deviated" | "aborted" | "failed" | "interrupted" | "refused" | "planned" | "running"
  readonly cleanup: "ok" | "failed" | "unknown"
  readonly reason: string
  /**
   * Whether the journal ends with `RunEnded`. A journal that does not (truncated, or its
   * runner died with no watchdog to finish it) is incomplete evidence: `lastLine` says
   * where it stops.
   */
  readonly complete: boolean
  /** The line number of the journal's last entry (its entry count; 0 for an empty journal). */
  readonly lastLine: number
  readonly dryRun: boolean
  readonly description: string
  /** faultline's version, host, OS user and platform of the run; null in older journals. */
  readonly environment: Environment | null
  /** The experiment as run; null when the journal has no `RunStarted`. */
  readonly definition: Definition | null
  readonly startedAt: string
  readonly endedAt: string | null
  readonly durationMs: number | null
  readonly hypothesis: Record<string, {
    readonly before: PhaseResult | null
    readonly during: PhaseResult | null
    readonly after: PhaseResult | null
    /** Whether `during` judges the run or is only observed. */
    readonly duringMode: DuringMode
  }>
  readonly faults: ReadonlyArray<FaultRecord>
  readonly abort: { readonly condition: string; readonly reason: string; readonly at: string } | null
  readonly method: { readonly outcome: string; readonly error: string | null } | null
  readonly rto: {
    /** Null when no outage was observed (see `upperBoundMs`) or the system never recovered. */
    readonly measuredMs: number | null
    /**
     * When no probe saw an outage: any outage was shorter than one probe interval, so the
     * RTO is below this bound. Null when an outage was observed.
     */
    readonly upperBoundMs: number | null
    readonly resolutionMs: number
    readonly detectMs: number | null
    readonly recoverMs: number | null
    readonly outageObserved: boolean
    readonly targetMs: number | null
    /** Null in a dry run (nothing was measured) or without an objective. */
    readonly met: boolean | null
  } | null
  readonly rpo: {
    readonly lostWrites: number
    readonly ackedWrites: number
    readonly windowMs: number
    readonly targetMs: number | null
    readonly met: boolean | null
  } | null
  readonly journal: { readonly entries: number; readonly lastHash: string | null }
}

const iso = (ms: number) => new Date(ms).toISOString()
const round = (n: number | null) => n === null ? null : Math.round(n * 100) / 100

type Slot = { before: PhaseResult | null; during: PhaseResult | null; after: PhaseResult | null; duringMode: DuringMode }
const emptySlot = (): Slot => ({ before: null, during: null, after: null, duringMode: "counts" })

// A hypothesis journals how its `during` is judged; anything that says "observe" (the word,
// or a mode/tag naming it) opts out. Absent — older journals — it counts.
const duringModeOf = (during: unknown): DuringMode => {
  const says = (v: unknown) => typeof v === "string" && /^observe/i.test(v)
  if (says(during)) return "observed only"
  if (typeof during === "object" && during !== null) {
    const d = during as Record<string, unknown>
    if (says(d.mode) || says(d._tag) || says(d.judge)) return "observed only"
  }
  return "counts"
}

// The faults of a run, one record each, from their planning or injection to their revert.
const faultFold = (): Fold<ReadonlyMap<string, FaultRecord>> => {
  const faults = new Map<string, FaultRecord>()
  const injectedMono = new Map<string, number>()
  const update = (faultId: string, f: (r: FaultRecord) => FaultRecord) => {
    const r = faults.get(faultId)
    if (r) faults.set(faultId, f(r))
  }
  const step = (e: Entry) => {
    const ev = e.event
    switch (ev._tag) {
      case "FaultPlanned":
      case "FaultInjecting":
        faults.set(ev.faultId, {
          faultId: ev.faultId,
          fault: ev.fault,
          target: { kind: ev.target.kind, id: ev.target.id, name: ev.target.name },
          injectedAt: null,
          revertedAt: null,
          revertAttempts: null,
          injectError: null,
          revertError: null,
          planned: ev._tag === "FaultPlanned",
          durationMs: null
        })
        break
      case "FaultInjected":
        injectedMono.set(ev.faultId, e.mono)
        update(ev.faultId, (f) => ({ ...f, injectedAt: iso(e.at) }))
        break
      case "FaultInjectFailed":
        update(ev.faultId, (f) => ({ ...f, injectError: ev.error }))
        break
      case "FaultReverted":
        update(ev.faultId, (f) => {
          const from = injectedMono.get(ev.faultId)
          // Monotonic time (hrtime: one clock for every process of the host, so a revert the
          // watchdog journaled compares too); should it run backwards — another host, a
          // reboot — the wall clock is the only measure left.
          const durationMs = from === undefined ?
            null
            : e.mono >= from ?
            round(e.mono - from)
            : f.injectedAt === null
            ? null
            : round(Math.max(0, e.at - Date.parse(f.injectedAt)))
          return { ...f, revertedAt: iso(e.at), revertAttempts: ev.attempts, durationMs }
        })
        break
      case "FaultRevertFailed":
        update(ev.faultId, (f) => ({ ...f, revertAttempts: ev.attempts, revertError: ev.error }))
        break
    }
  }
  return { step, result: () => faults }
}

/**
 * The report as a streaming fold over the journal: it holds one record per hypothesis and
 * per fault and the stopwatches' folds, never the entries themselves, so a report of a
 * four-hour game day is built from its journal file one line at a time.
 *
 * @since 0.1.0
 */
export const fold = (): Fold<Report> => {
  let first: Entry | null = null
  let last: Entry | null = null
  let count = 0
  let s: Extract<Entry["event"], { _tag: "RunStarted" }> | null = null
  let ended: Entry | null = null
  let end: Extract<Entry["event"], { _tag: "RunEnded" }> | null = null
  const hypothesis: Record<string, Slot> = {}
  const faults = faultFold()
  let abort: Report["abort"] = null
  let method: Report["method"] = null
  const rtoFold = Stopwatch.rtoFold()
  const rpoFold = Stopwatch.rpoFold()
  const step = (e: Entry) => {
    first ??= e
    last = e
    count++
    rtoFold.step(e)
    rpoFold.step(e)
    faults.step(e)
    const ev = e.event
    switch (ev._tag) {
      case "RunStarted":
        if (s === null) {
          s = ev
          for (const h of ev.hypotheses) {
            const slot = hypothesis[h.name] ??= emptySlot()
            slot.duringMode = duringModeOf(h.during)
          }
        }
        break
      case "RunEnded":
        if (end === null) {
          ended = e
          end = ev
        }
        break
      case "HypothesisChecked": {
        const slot = hypothesis[ev.hypothesis] ??= emptySlot()
        slot[ev.phase] = { met: ev.met, samples: ev.samples, good: ev.good, details: ev.details }
        break
      }
      case "AbortFired":
        abort ??= { condition: ev.condition, reason: ev.reason, at: iso(e.at) }
        break
      case "MethodEnded":
        method = { outcome: ev.outcome, error: ev.error }
        break
    }
  }
  return {
    step,
    result: () => build({ first, last, count, s, ended, end, hypothesis, faults: faults.result(), abort, method, rto: rtoFold.result(), rpo: rpoFold.result() })
  }
}

const definitionOf = (s: Extract<Entry["event"], { _tag: "RunStarted" }>): Definition => ({
  hypotheses: s.hypotheses.map((h) => ({
    name: h.name,
    probe: h.probe,
    everyMs: h.everyMs,
    samples: h.samples,
    tolerance: h.tolerance,
    during: duringModeOf(h.during)
  })),
  abort: s.abort,
  guards: s.guards ?? null,
  objectives: s.objectives,
  stopwatches: { rto: s.rto, rpo: s.rpo },
  service: s.service ?? null
})

const build = (o: {
  readonly first: Entry | null
  readonly last: Entry | null
  readonly count: number
  readonly s: Extract<Entry["event"], { _tag: "RunStarted" }> | null
  readonly ended: Entry | null
  readonly end: Extract<Entry["event"], { _tag: "RunEnded" }> | null
  readonly hypothesis: Record<string, Slot>
  readonly faults: ReadonlyMap<string, FaultRecord>
  readonly abort: Report["abort"]
  readonly method: Report["method"]
  readonly rto: Stopwatch.RtoResult | null
  readonly rpo: Stopwatch.RpoResult | null
}): Report => {
  const { first, ended, end, s, rto, rpo } = o
  const rtoTarget = s?.objectives.rtoMs ?? null
  const rpoTarget = s?.objectives.rpoMs ?? null
  return {
    runId: first?.runId ?? "",
    experiment: s?.experiment ?? "",
    status: end?.status ?? "running",
    cleanup: end?.cleanup ?? "unknown",
    reason: end?.reason ?? `the journal ends at line ${o.count} without RunEnded (truncated, or the runner died with no watchdog)`,
    complete: end !== null,
    lastLine: o.count,
    dryRun: s?.dryRun ?? false,
    description: s?.description ?? "",
    environment: s?.runtime ?? null,
    definition: s === null ? null : definitionOf(s),
    startedAt: first ? iso(first.at) : "",
    endedAt: ended ? iso(ended.at) : null,
    durationMs: ended && first ? round(ended.mono - first.mono) : null,
    hypothesis: o.hypothesis,
    faults: [...o.faults.values()],
    abort: o.abort,
    method: o.method,
    rto: rto === null && rtoTarget === null ? null : rtoOf(rto, rtoTarget, s?.dryRun ?? false),
    rpo: rpo === null && rpoTarget === null ? null : {
      lostWrites: rpo?.lostWrites ?? 0,
      ackedWrites: rpo?.ackedWrites ?? 0,
      windowMs: round(rpo?.windowMs ?? 0)!,
      targetMs: rpoTarget,
      met: rpoTarget === null || (s?.dryRun ?? false) ? null : rpo !== null && rpo.windowMs <= rpoTarget
    },
    journal: { entries: o.count, lastHash: o.last?.hash ?? null }
  }
}

// What the RTO figures may claim. No outage seen by a probe is not "RTO 0 ms": it says so and
// gives the bound (one probe interval); a dry run measured nothing and claims nothing.
const rtoOf = (rto: Stopwatch.RtoResult | null, targetMs: number | null, dryRun: boolean): NonNullable<Report["rto"]> => {
  const observed = rto?.outageObserved ?? false
  const resolutionMs = rto?.resolutionMs ?? 0
  const measuredMs = observed ? round(rto?.measuredMs ?? null) : null
  const upperBoundMs = rto !== null && !observed ? resolutionMs : null
  const met = targetMs === null || dryRun || rto === null
    ? null
    : observed
    ? measuredMs !== null && measuredMs <= targetMs
    : resolutionMs <= targetMs
  return {
    measuredMs,
    upperBoundMs,
    resolutionMs,
    detectMs: observed ? round(rto?.detectMs ?? null) : null,
    recoverMs: observed ? round(rto?.recoverMs ?? null) : null,
    outageObserved: observed,
    targetMs,
    met
  }
}

/**
 * The RTO figure in words: measured, "no outage observed" with its bound, or not recovered.
 *
 * @since 0.1.0
 */
export const rtoText = (rto: NonNullable<Report["rto"]>): string =>
  rto.upperBoundMs !== null
    ? `no outage observed by a probe every ${rto.resolutionMs} ms (any outage was shorter: RTO < ${rto.upperBoundMs} ms)`
    : rto.measuredMs !== null
    ? `${rto.measuredMs} ms (±${rto.resolutionMs} ms)`
    : rto.outageObserved
    ? "not recovered"
    : "not measured"

/**
 * Booleans read as words (a report is read by people, and a bare `false` says nothing):
 * `met`, `NOT met`, or `—` (nothing to judge, or a dry run).
 *
 * @since 0.1.0
 */
export const metText = (met: boolean | null, byBound = false): string => met === null ? "—" : met ? (byBound ? "met (by the upper bound)" : "met") : "NOT met"

/**
 * Derives the report from journal entries; nothing else is consulted.
 *
 * @since 0.1.0
 */
export const fromJournal = (entries: Iterable<Entry>): Report => foldAll(entries, fold())

/**
 * Renders a report as Markdown.
 *
 * @since 0.1.0
 */
export const toMarkdown = (r: Report): string => {
  const lines: Array<string> = []
  lines.push(`# ${r.dryRun ? "DRY RUN: " : ""}${r.experiment} — ${r.complete ? r.status.toUpperCase() : "INCOMPLETE"}`, "")
  if (r.dryRun) lines.push("A dry run: targets were resolved and guards checked; nothing was injected, probed or measured.", "")
  if (!r.complete) {
    lines.push(
      `> **INCOMPLETE evidence:** the journal ends at line ${r.lastLine} without \`RunEnded\` (truncated, or the runner died with no watchdog). ` +
        "What follows is what it holds; no verdict was reached.",
      ""
    )
  }
  if (r.description !== "") lines.push(r.description, "")
  lines.push(`- run: \`${r.runId}\``)
  lines.push(`- verdict: **${r.status}** — ${r.reason}`)
  lines.push(`- cleanup: **${r.cleanup}**`)
  lines.push(`- started: ${r.startedAt}; ended: ${r.endedAt ?? "—"}; duration: ${r.durationMs ?? "—"} ms`)
  if (r.environment) {
    const e = r.environment
    lines.push(`- run by: ${e.user} on ${e.host} (${e.platform}, Node ${e.node}), faultline ${e.faultline}`)
  }
  if (r.abort) lines.push(`- aborted by ${r.abort.condition} at ${r.abort.at}: ${r.abort.reason}`)
  lines.push("", "## Hypothesis", "", "| hypothesis | before | during | after |", "|---|---|---|---|")
  const cell = (p: PhaseResult | null) => p === null ? "—" : `${metText(p.met)} (${p.good}/${p.samples})`
  for (const [name, h] of Object.entries(r.hypothesis)) {
    lines.push(`| ${name} | ${cell(h.before)} | ${cell(h.during)}, ${h.duringMode} | ${cell(h.after)} |`)
  }
  lines.push("", "## Faults", "", "| fault | target | injected | reverted | duration |", "|---|---|---|---|---|")
  for (const f of r.faults) {
    const inj = f.planned ? "planned (dry run)" : f.injectError ? `FAILED: ${f.injectError}` : f.injectedAt ?? "—"
    const rev = f.revertError ? `FAILED after ${f.revertAttempts} attempts: ${f.revertError}` : f.revertedAt ?? "—"
    const dur = f.durationMs === null ? "—" : `${f.durationMs} ms`
    lines.push(`| ${f.fault} | ${f.target.kind} ${f.target.name} (${f.target.id}) | ${inj} | ${rev} | ${dur} |`)
  }
  lines.push("", "## Recovery", "", "| figure | measured | objective | met |", "|---|---|---|---|")
  if (r.rto) {
    lines.push(
      `| RTO | ${r.dryRun ? "not measured (dry run)" : rtoText(r.rto)} | ${r.rto.targetMs ?? "—"} ms | ${metText(r.rto.met, r.rto.upperBoundMs !== null)} |`
    )
    lines.push(`| time to detect | ${r.rto.detectMs ?? "—"} ms | | |`)
    lines.push(`| time to recover | ${r.rto.recoverMs ?? "—"} ms | | |`)
  }
  if (r.rpo) {
    lines.push(
      `| RPO | ${r.dryRun ? "not measured (dry run)" : `${r.rpo.windowMs} ms, ${r.rpo.lostWrites} of ${r.rpo.ackedWrites} acknowledged writes lost`} | ${
        r.rpo.targetMs ?? "—"
      } ms | ${metText(r.rpo.met)} |`
    )
  }
  if (r.definition) lines.push("", ...definitionMarkdown(r.definition))
  lines.push("", `Journal: ${r.journal.entries} entries, last hash \`${r.journal.lastHash ?? ""}\`.`, "")
  return lines.join("\n")
}

const ms = (n: number | null) => n === null ? "—" : `${n} ms`

// A tolerance as a short phrase, from the data its hypothesis journaled.
const toleranceText = (t: unknown): string => {
  if (typeof t !== "object" || t === null) return String(t)
  const { _tag, ...rest } = t as { _tag?: unknown } & Record<string, unknown>
  if (_tag === "All" && Array.isArray(rest.of)) return rest.of.map(toleranceText).join(" and ")
  const params = Object.entries(rest).map(([k, v]) => `${k} ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ")
  return `${String(_tag ?? "?")}${params === "" ? "" : ` (${params})`}`
}

const definitionMarkdown = (d: Definition): ReadonlyArray<string> => {
  const lines = ["## Definition", "", "| hypothesis | probe | every | samples | tolerance | during |", "|---|---|---|---|---|---|"]
  for (const h of d.hypotheses) {
    lines.push(`| ${h.name} | ${h.probe} | ${h.everyMs} ms | ${h.samples} | ${toleranceText(h.tolerance)} | ${h.during} |`)
  }
  lines.push("")
  lines.push(`- abort conditions: ${d.abort.length === 0 ? "none" : d.abort.join("; ")}`)
  lines.push(`- guards: ${d.guards === null ? "— (not journaled)" : d.guards.length === 0 ? "none" : d.guards.map((g) => g.name).join("; ")}`)
  lines.push(`- objectives: RTO ${ms(d.objectives.rtoMs)}, RPO ${ms(d.objectives.rpoMs)}`)
  const rto = d.stopwatches.rto
  if (rto) lines.push(`- RTO stopwatch: hypothesis ${rto.hypothesis}, stable for ${rto.stableFor} samples, from ${rto.from ?? "the first fault"}`)
  if (d.stopwatches.rpo) lines.push(`- RPO stopwatch: heartbeat every ${d.stopwatches.rpo.everyMs} ms`)
  return lines
}

/**
 * Writes `report.json` and `report.md` into `dir` (the journal is already there).
 *
 * @since 0.1.0
 */
export const write = (dir: string, report: Report): Effect.Effect<Report, PlatformError, FileSystem.FileSystem> =>
  // The run folder is private (0700) and report files 0600, never written through a symlink.
  Effect.sync(() => {
    PrivateFiles.ensureDir(dir)
    PrivateFiles.writeFile(path.join(dir, "report.json"), JSON.stringify(report, null, 2) + "\n")
    PrivateFiles.writeFile(path.join(dir, "report.md"), toMarkdown(report))
    return report
  })
