/**
 * The CLI's human output: a live line per important journal event and a summary table.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import type { Entry } from "../core/Journal.ts"
import * as Report from "../report/Report.ts"

/**
 * One line for a journal entry worth showing live, or null.
 *
 * @since 0.1.0
 */
export const liveLine = (e: Entry, t0: number): string | null => {
  const t = `+${((e.mono - t0) / 1000).toFixed(3)}s`
  const ev = e.event
  switch (ev._tag) {
    case "RunStarted":
      return `${t} run ${e.runId}: ${ev.experiment}${ev.dryRun ? " (dry run)" : ""}`
    case "HypothesisChecked":
      return `${t} hypothesis "${ev.hypothesis}" ${ev.phase}: ${ev.met ? "met" : "NOT met"} (${ev.details.join("; ")})`
    case "TargetsResolved":
      return `${t} ${ev.fault} targets ${ev.selector}: ${ev.targets.map((x) => `${x.name} (${x.id})`).join(", ")}`
    case "FaultPlanned":
      return `${t} would inject ${ev.fault} into ${ev.target.name}`
    case "FaultInjected":
      return `${t} injected ${ev.fault} into ${ev.revert.target.name}`
    case "FaultInjectFailed":
      return `${t} FAILED to inject ${ev.fault}: ${ev.error}`
    case "FaultReverted":
      return `${t} reverted ${ev.faultId}`
    case "FaultRevertFailed":
      return `${t} REVERT FAILED ${ev.faultId} after ${ev.attempts} attempts: ${ev.error}`
    case "AbortFired":
      return `${t} ABORT ${ev.condition}: ${ev.reason}`
    case "MethodEnded":
      return `${t} method ${ev.outcome}${ev.error ? `: ${ev.error}` : ""}`
    case "RunEnded":
      return `${t} verdict ${ev.status}, cleanup ${ev.cleanup}`
    default:
      return null
  }
}

const table = (rows: ReadonlyArray<readonly [string, string]>): string => {
  const w = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n")
}

/**
 * The summary table printed at the end of a run.
 *
 * @since 0.1.0
 */
export const summary = (r: Report.Report, dir: string | null): string => {
  const rows: Array<readonly [string, string]> = [
    ["experiment", r.experiment],
    ["verdict", `${r.dryRun ? "DRY RUN — " : ""}${r.complete === false ? "INCOMPLETE" : r.status.toUpperCase()} — ${r.reason}`],
    ["cleanup", r.cleanup]
  ]
  for (const [name, h] of Object.entries(r.hypothesis)) {
    const p = (x: typeof h.before) => x === null ? "—" : `${x.met ? "met" : "NOT met"} ${x.good}/${x.samples}`
    rows.push([`hypothesis`, `${name}: before ${p(h.before)} | during ${p(h.during)} | after ${p(h.after)}`])
  }
  for (const f of r.faults) {
    rows.push([
      "fault",
      `${f.fault} ${f.target.name}: ${
        f.planned ? "planned" : f.injectError ? "injection failed" : `injected ${f.injectedAt}, ${f.revertError ? "REVERT FAILED" : `reverted ${f.revertedAt}`}`
      }`
    ])
  }
  if (r.rto) {
    rows.push([
      "RTO",
      r.dryRun
        ? `not measured (dry run); objective ${r.rto.targetMs ?? "—"} ms`
        : `${Report.rtoText(r.rto)}${
          r.rto.measuredMs !== null ? ` (detect ${r.rto.detectMs ?? "—"} ms, recover ${r.rto.recoverMs ?? "—"} ms)` : ""
        }; objective ${r.rto.targetMs ?? "—"} ms: ${
          r.rto.met === null ? "—" : r.rto.met ? (r.rto.upperBoundMs !== null ? "met (by the upper bound)" : "met") : "MISSED"
        }`
    ])
  }
  if (r.rpo) {
    rows.push([
      "RPO",
      r.dryRun
        ? `not measured (dry run); objective ${r.rpo.targetMs ?? "—"} ms`
        : `${r.rpo.windowMs} ms, ${r.rpo.lostWrites}/${r.rpo.ackedWrites} acknowledged writes lost; objective ${r.rpo.targetMs ?? "—"} ms: ${
          r.rpo.met === null ? "—" : r.rpo.met ? "met" : "MISSED"
        }`
    ])
  }
  // The last line: the page a person opens (the folder holds the journal and the other reports).
  if (dir) rows.push(["report", path.join(dir, "report.html")])
  return table(rows)
}
