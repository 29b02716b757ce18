/**
 * Reports: a pure function of the journal — verdict, hypothesis results per phase,
 * faults with their injection and revert instants, RTO and RPO against objectives.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import { Effect, FileSystem } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { type Entry, type Fold, foldAll } from "../core/Journal.ts"
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
  readonly dryRun: boolean
  readonly startedAt: string
  readonly endedAt: string | null
  readonly durationMs: number | null
  readonly hypothesis: Record<string, {
    readonly before: PhaseResult | null
    readonly during: PhaseResult | null
    readonly after: PhaseResult | null
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

type Slot = { before: PhaseResult | null; during: PhaseResult | null; after: PhaseResult | null }

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
  const faults = new Map<string, FaultRecord>()
  let abort: Report["abort"] = null
  let method: Report["method"] = null
  const rtoFold = Stopwatch.rtoFold()
  const rpoFold = Stopwatch.rpoFold()
  const update = (faultId: string, f: (r: FaultRecord) => FaultRecord) => {
    const r = faults.get(faultId)
    if (r) faults.set(faultId, f(r))
  }
  const step = (e: Entry) => {
    first ??= e
    last = e
    count++
    rtoFold.step(e)
    rpoFold.step(e)
    const ev = e.event
    switch (ev._tag) {
      case "RunStarted":
        if (s === null) {
          s = ev
          for (const h of ev.hypotheses) hypothesis[h.name] ??= { before: null, during: null, after: null }
        }
        break
      case "RunEnded":
        if (end === null) {
          ended = e
          end = ev
        }
        break
      case "HypothesisChecked": {
        const slot = hypothesis[ev.hypothesis] ?? (hypothesis[ev.hypothesis] = { before: null, during: null, after: null })
        slot[ev.phase] = { met: ev.met, samples: ev.samples, good: ev.good, details: ev.details }
        break
      }
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
          planned: ev._tag === "FaultPlanned"
        })
        break
      case "FaultInjected":
        update(ev.faultId, (f) => ({ ...f, injectedAt: iso(e.at) }))
        break
      case "FaultInjectFailed":
        update(ev.faultId, (f) => ({ ...f, injectError: ev.error }))
        break
      case "FaultReverted":
        update(ev.faultId, (f) => ({ ...f, revertedAt: iso(e.at), revertAttempts: ev.attempts }))
        break
      case "FaultRevertFailed":
        update(ev.faultId, (f) => ({ ...f, revertAttempts: ev.attempts, revertError: ev.error }))
        break
      case "AbortFired":
        abort ??= { condition: ev.condition, reason: ev.reason, at: iso(e.at) }
        break
      case "MethodEnded":
        method = { outcome: ev.outcome, error: ev.error }
        break
    }
  }
  return { step, result: () => build({ first, last, count, s, ended, end, hypothesis, faults, abort, method, rto: rtoFold.result(), rpo: rpoFold.result() }) }
}

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
    reason: end?.reason ?? "the run has not ended (or its process died)",
    dryRun: s?.dryRun ?? false,
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

/** `met`, `not met`, or `—` (nothing to judge, or a dry run). @since 0.1.0 */
export const metText = (met: boolean | null, byBound = false): string =>
  met === null ? "—" : met ? (byBound ? "met (by the upper bound)" : "met") : "not met"

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
  lines.push(r.dryRun ? `# DRY RUN: ${r.experiment} — ${r.status.toUpperCase()}` : `# ${r.experiment} — ${r.status.toUpperCase()}`, "")
  if (r.dryRun) lines.push("A dry run: targets were resolved and guards checked; nothing was injected, probed or measured.", "")
  lines.push(`- run: \`${r.runId}\``)
  lines.push(`- verdict: **${r.status}** — ${r.reason}`)
  lines.push(`- cleanup: **${r.cleanup}**`)
  lines.push(`- started: ${r.startedAt}; ended: ${r.endedAt ?? "—"}; duration: ${r.durationMs ?? "—"} ms`)
  if (r.abort) lines.push(`- aborted by ${r.abort.condition} at ${r.abort.at}: ${r.abort.reason}`)
  lines.push("", "## Hypothesis", "", "| hypothesis | before | during | after |", "|---|---|---|---|")
  const cell = (p: PhaseResult | null) => p === null ? "—" : `${p.met ? "met" : "NOT met"} (${p.good}/${p.samples})`
  for (const [name, h] of Object.entries(r.hypothesis)) {
    lines.push(`| ${name} | ${cell(h.before)} | ${cell(h.during)} | ${cell(h.after)} |`)
  }
  lines.push("", "## Faults", "", "| fault | target | injected | reverted |", "|---|---|---|---|")
  for (const f of r.faults) {
    const inj = f.planned ? "planned (dry run)" : f.injectError ? `FAILED: ${f.injectError}` : f.injectedAt ?? "—"
    const rev = f.revertError ? `FAILED after ${f.revertAttempts} attempts: ${f.revertError}` : f.revertedAt ?? "—"
    lines.push(`| ${f.fault} | ${f.target.kind} ${f.target.name} (${f.target.id}) | ${inj} | ${rev} |`)
  }
  lines.push("", "## Recovery", "", "| figure | measured | objective | met |", "|---|---|---|---|")
  if (r.rto) {
    lines.push(`| RTO | ${r.dryRun ? "not measured (dry run)" : rtoText(r.rto)} | ${r.rto.targetMs ?? "—"} ms | ${metText(r.rto.met, r.rto.upperBoundMs !== null)} |`)
    lines.push(`| time to detect | ${r.rto.detectMs ?? "—"} ms | | |`)
    lines.push(`| time to recover | ${r.rto.recoverMs ?? "—"} ms | | |`)
  }
  if (r.rpo) {
    lines.push(`| RPO | ${r.dryRun ? "not measured (dry run)" : `${r.rpo.windowMs} ms, ${r.rpo.lostWrites} of ${r.rpo.ackedWrites} acknowledged writes lost`} | ${r.rpo.targetMs ?? "—"} ms | ${metText(r.rpo.met)} |`)
  }
  lines.push("", `Journal: ${r.journal.entries} entries, last hash \`${r.journal.lastHash ?? ""}\`.`, "")
  return lines.join("\n")
}

/**
 * Writes `report.json` and `report.md` into `dir` (the journal is already there).
 *
 * @since 0.1.0
 */
export const write = (dir: string, report: Report): Effect.Effect<Report, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(dir, { recursive: true })
    yield* fs.writeFileString(path.join(dir, "report.json"), JSON.stringify(report, null, 2) + "\n")
    yield* fs.writeFileString(path.join(dir, "report.md"), toMarkdown(report))
    return report
  })
