/**
 * Reports: a pure function of the journal — verdict, hypothesis results per phase,
 * faults with their injection and revert instants, RTO and RPO against objectives.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import type { Entry } from "../core/Journal.ts"
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
}

/**
 * The report of one run (the shape of `report.json`).
 *
 * @since 0.1.0
 */
export interface Report {
  readonly runId: string
  readonly experiment: string
  readonly status: "passed" | "deviated" | "aborted" | "failed" | "interrupted" | "running"
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
    readonly measuredMs: number | null
    readonly resolutionMs: number
    readonly detectMs: number | null
    readonly recoverMs: number | null
    readonly outageObserved: boolean
    readonly targetMs: number | null
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

/**
 * Derives the report from journal entries; nothing else is consulted.
 *
 * @since 0.1.0
 */
export const fromJournal = (entries: ReadonlyArray<Entry>): Report => {
  const first = entries[0]
  const started = entries.find((e) => e.event._tag === "RunStarted")
  const s = started?.event._tag === "RunStarted" ? started.event : null
  const ended = entries.find((e) => e.event._tag === "RunEnded")
  const end = ended?.event._tag === "RunEnded" ? ended.event : null
  const hypothesis: Record<string, { before: PhaseResult | null; during: PhaseResult | null; after: PhaseResult | null }> = {}
  for (const h of s?.hypotheses ?? []) hypothesis[h.name] = { before: null, during: null, after: null }
  const faults = new Map<string, FaultRecord>()
  let abort: Report["abort"] = null
  let method: Report["method"] = null
  for (const e of entries) {
    const ev = e.event
    switch (ev._tag) {
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
      case "FaultInjected": {
        const f = faults.get(ev.faultId)
        if (f) faults.set(ev.faultId, { ...f, injectedAt: iso(e.at) })
        break
      }
      case "FaultInjectFailed": {
        const f = faults.get(ev.faultId)
        if (f) faults.set(ev.faultId, { ...f, injectError: ev.error })
        break
      }
      case "FaultReverted": {
        const f = faults.get(ev.faultId)
        if (f) faults.set(ev.faultId, { ...f, revertedAt: iso(e.at), revertAttempts: ev.attempts })
        break
      }
      case "FaultRevertFailed": {
        const f = faults.get(ev.faultId)
        if (f) faults.set(ev.faultId, { ...f, revertAttempts: ev.attempts, revertError: ev.error })
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
  const rto = Stopwatch.computeRto(entries)
  const rpo = Stopwatch.computeRpo(entries)
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
    hypothesis,
    faults: [...faults.values()],
    abort,
    method,
    rto: rto === null && rtoTarget === null ? null : {
      measuredMs: round(rto?.measuredMs ?? null),
      resolutionMs: rto?.resolutionMs ?? 0,
      detectMs: round(rto?.detectMs ?? null),
      recoverMs: round(rto?.recoverMs ?? null),
      outageObserved: rto?.outageObserved ?? false,
      targetMs: rtoTarget,
      met: rtoTarget === null ? null : rto?.measuredMs !== null && rto?.measuredMs !== undefined && rto.measuredMs <= rtoTarget
    },
    rpo: rpo === null && rpoTarget === null ? null : {
      lostWrites: rpo?.lostWrites ?? 0,
      ackedWrites: rpo?.ackedWrites ?? 0,
      windowMs: round(rpo?.windowMs ?? 0)!,
      targetMs: rpoTarget,
      met: rpoTarget === null ? null : rpo !== null && rpo.windowMs <= rpoTarget
    },
    journal: { entries: entries.length, lastHash: entries.at(-1)?.hash ?? null }
  }
}

/**
 * Renders a report as Markdown.
 *
 * @since 0.1.0
 */
export const toMarkdown = (r: Report): string => {
  const lines: Array<string> = []
  lines.push(`# ${r.experiment} — ${r.status.toUpperCase()}`, "")
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
    lines.push(`| RTO | ${r.rto.measuredMs ?? "not recovered"} ms (±${r.rto.resolutionMs} ms) | ${r.rto.targetMs ?? "—"} ms | ${r.rto.met ?? "—"} |`)
    lines.push(`| time to detect | ${r.rto.detectMs ?? "—"} ms | | |`)
    lines.push(`| time to recover | ${r.rto.recoverMs ?? "—"} ms | | |`)
  }
  if (r.rpo) {
    lines.push(`| RPO | ${r.rpo.windowMs} ms, ${r.rpo.lostWrites} of ${r.rpo.ackedWrites} acknowledged writes lost | ${r.rpo.targetMs ?? "—"} ms | ${r.rpo.met ?? "—"} |`)
  }
  lines.push("", `Journal: ${r.journal.entries} entries, last hash \`${r.journal.lastHash ?? ""}\`.`, "")
  return lines.join("\n")
}

/**
 * Writes `report.json` and `report.md` into `dir` (the journal is already there).
 *
 * @since 0.1.0
 */
export const write = (dir: string, entries: ReadonlyArray<Entry>): Report => {
  const report = fromJournal(entries)
  // The run folder is private (0700) and report files 0600, never written through a symlink.
  PrivateFiles.ensureDir(dir)
  PrivateFiles.writeFile(path.join(dir, "report.json"), JSON.stringify(report, null, 2) + "\n")
  PrivateFiles.writeFile(path.join(dir, "report.md"), toMarkdown(report))
  return report
}
