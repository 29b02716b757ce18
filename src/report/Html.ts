/**
 * The HTML report: one self-contained file (no script, no font, no image fetched; its
 * style inline) with the run's timeline above its tables — verdict and why, objectives
 * against measurements, phases, faults, environment and the experiment's definition.
 * Light and dark follow the reader's setting; it prints cleanly to PDF.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import type { Entry, Fold } from "../core/Journal.ts"
import * as PrivateFiles from "../core/PrivateFiles.ts"
import { esc } from "./internal/timelineSvg.ts"
import * as Report from "./Report.ts"
import * as Timeline from "./Timeline.ts"

/**
 * What the HTML report is drawn from: the report and the timeline of one journal.
 *
 * @since 0.1.0
 */
export interface Evidence {
  readonly report: Report.Report
  readonly timeline: Timeline.Model
}

/**
 * The report and the timeline folded together in one pass over the journal.
 *
 * @since 0.1.0
 */
export const fold = (options: Timeline.Options = {}): Fold<Evidence> => {
  const r = Report.fold()
  const t = Timeline.fold(options)
  return {
    step: (e: Entry) => {
      r.step(e)
      t.step(e)
    },
    result: () => ({ report: r.result(), timeline: t.result() })
  }
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;
--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#151b23;
--pass:#3fb950;--fail:#f85149;--warn:#d29922}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:24px;background:var(--bg);color:var(--fg);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line)}
.muted{color:var(--muted)}
.verdict{display:inline-block;padding:.1em .6em;border-radius:4px;border:2px solid currentColor;font-weight:700}
.verdict.passed{color:var(--pass)}.verdict.deviated,.verdict.aborted,.verdict.failed{color:var(--fail)}
.verdict.interrupted,.verdict.refused,.verdict.planned,.verdict.running{color:var(--warn)}
.verdict.passed::before{content:"✓ "}.verdict.deviated::before,.verdict.aborted::before,.verdict.failed::before{content:"✗ "}
.verdict.interrupted::before,.verdict.refused::before,.verdict.planned::before,.verdict.running::before{content:"! "}
.met{color:var(--pass)}.met::before{content:"✓ "}.notmet{color:var(--fail);font-weight:600}.notmet::before{content:"✗ "}
.banner{padding:.6em 1em;border-left:4px solid var(--warn);background:var(--card);margin:1em 0}
figure{margin:1em 0;padding:12px;background:var(--card);border:1px solid var(--line);border-radius:6px;overflow-x:auto}
figcaption{font-size:.9em;color:var(--muted);margin-top:.5em}
.legend{display:flex;flex-wrap:wrap;gap:1em;list-style:none;padding:0;margin:.5em 0 0;font-size:.9em}
.legend svg{vertical-align:middle;margin-right:.3em}
table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.95em}
caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border:1px solid var(--line);padding:.35em .6em;text-align:left;vertical-align:top}
th{background:var(--card)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0}
@media print{:root{--bg:#fff;--fg:#000;--muted:#333;--line:#999;--card:#fff}
body{max-width:none;padding:0;font-size:11pt}figure{break-inside:avoid;overflow:visible;border:none;padding:0}
table,tr{break-inside:avoid}h2{break-after:avoid}a{color:inherit;text-decoration:none}}`

const td = (s: string) => `<td>${s}</td>`
const th = (s: string) => `<th scope="col">${s}</th>`
const table = (caption: string, head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  `<table><caption>${esc(caption)}</caption><thead><tr>${head.map(th).join("")}</tr></thead><tbody>` +
  (rows.length === 0 ? `<tr><td colspan="${head.length}" class="muted">none</td></tr>` : rows.map((r) => `<tr>${r.map(td).join("")}</tr>`).join("")) +
  `</tbody></table>`
const met = (m: boolean | null, byBound = false) =>
  m === null ? `<span class="muted">—</span>` : `<span class="${m ? "met" : "notmet"}">${esc(Report.metText(m, byBound))}</span>`
const ms = (n: number | null) => n === null ? "—" : `${n} ms`

const verdict = (r: Report.Report) => {
  const status = r.complete ? r.status : "running"
  const lines = [
    `<h1>${r.dryRun ? "Dry run: " : ""}${esc(r.experiment)} <span class="verdict ${status}">${
      esc(r.complete ? r.status.toUpperCase() : "INCOMPLETE")
    }</span></h1>`
  ]
  if (r.description !== "") lines.push(`<p>${esc(r.description)}</p>`)
  if (!r.complete) {
    lines.push(
      `<p class="banner" role="note"><strong>Incomplete evidence:</strong> the journal ends at line ${r.lastLine} without RunEnded (truncated, or the runner died with no watchdog). No verdict was reached.</p>`
    )
  }
  if (r.dryRun) lines.push(`<p class="banner" role="note">A dry run: targets were resolved and guards checked; nothing was injected, probed or measured.</p>`)
  lines.push(
    `<section aria-labelledby="h-verdict"><h2 id="h-verdict">Verdict and why</h2><dl>`,
    `<dt>verdict</dt><dd><strong>${esc(r.status)}</strong> — ${esc(r.reason)}</dd>`,
    `<dt>cleanup</dt><dd>${esc(r.cleanup)}</dd>`,
    `<dt>run</dt><dd><code>${esc(r.runId)}</code></dd>`,
    `<dt>started</dt><dd>${esc(r.startedAt)}</dd><dt>ended</dt><dd>${esc(r.endedAt ?? "—")}</dd>`,
    `<dt>duration</dt><dd>${ms(r.durationMs)}</dd>`,
    r.abort ? `<dt>aborted by</dt><dd>${esc(r.abort.condition)} at ${esc(r.abort.at)}: ${esc(r.abort.reason)}</dd>` : "",
    r.method ? `<dt>method</dt><dd>${esc(r.method.outcome)}${r.method.error ? ` — ${esc(r.method.error)}` : ""}</dd>` : "",
    `</dl></section>`
  )
  return lines.join("\n")
}

const swatch = (body: string) => `<svg width="22" height="12" aria-hidden="true" class="tl">${body}</svg>`
const LEGEND = `<ul class="legend" aria-label="legend">
<li>${swatch(`<rect x="0" y="6" width="22" height="6" style="fill:var(--good,#1a7f37)"/>`)}good samples (low solid bar)</li>
<li>${
  swatch(
    `<rect x="0" y="0" width="22" height="12" style="fill:var(--bad,#cf222e)" fill-opacity=".5"/><path d="M0,12 L12,0 M10,12 L22,0" style="stroke:var(--bad,#cf222e)" stroke-width="2"/>`
  )
}bad samples (tall hatched bar)</li>
<li>${swatch(`<rect x="0" y="0" width="22" height="12" style="fill:var(--fault,#bf8700)"/>`)}fault, injection to revert</li>
<li>${
  swatch(
    `<rect x="0" y="3" width="11" height="6" style="fill:var(--detect,#bc4c00)"/><rect x="11" y="3" width="11" height="6" style="fill:var(--recover,#0969da)"/>`
  )
}RTO: detect, then recover</li>
<li>${
  swatch(
    `<rect x="0" y="0" width="22" height="12" fill="none" style="stroke:var(--rpo,#8250df)"/><path d="M0,12 L12,0 M10,12 L22,0" style="stroke:var(--rpo,#8250df)" stroke-width="2"/>`
  )
}RPO window (lost writes)</li>
<li>${
  swatch(
    `<path d="M11,12 V0" style="stroke:var(--abort,#cf222e)" stroke-dasharray="3 2" stroke-width="2"/><path d="M6,0 h10 l-5,6 z" style="fill:var(--abort,#cf222e)"/>`
  )
}abort</li>
<li>${swatch(`<rect x="0" y="0" width="22" height="12" style="fill:var(--step,#0969da)" fill-opacity=".8"/>`)}drill step (with its actor)</li>
</ul>`

const timeline = (t: Timeline.Model) =>
  `<section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2><figure>${Timeline.render(t)}` +
  `<figcaption>Times are monotonic, from the journal's first entry (${esc(new Date(t.startedAt).toISOString())}). ` +
  `Samples are aggregated into buckets of ${
    t.hypotheses[0]?.buckets[0]?.widthMs ?? "—"
  } ms; hover a mark for its figures.</figcaption>${LEGEND}</figure></section>`

const objectives = (r: Report.Report) => {
  const rows: Array<Array<string>> = []
  if (r.rto) {
    rows.push(["RTO", esc(r.dryRun ? "not measured (dry run)" : Report.rtoText(r.rto)), ms(r.rto.targetMs), met(r.rto.met, r.rto.upperBoundMs !== null)])
    rows.push(["time to detect", `${ms(r.rto.detectMs)} (±${r.rto.resolutionMs} ms)`, "—", "—"])
    rows.push(["time to recover", ms(r.rto.recoverMs), "—", "—"])
  }
  if (r.rpo) {
    rows.push([
      "RPO",
      esc(r.dryRun ? "not measured (dry run)" : `${r.rpo.windowMs} ms, ${r.rpo.lostWrites} of ${r.rpo.ackedWrites} acknowledged writes lost`),
      ms(r.rpo.targetMs),
      met(r.rpo.met)
    ])
  }
  return `<section aria-labelledby="h-objectives"><h2 id="h-objectives">Objectives vs measured</h2>${
    table("Recovery objectives", ["figure", "measured", "objective", "met"], rows)
  }</section>`
}

const phases = (r: Report.Report) => {
  const cell = (p: Report.PhaseResult | null) =>
    p === null
      ? `<span class="muted">—</span>`
      : `${met(p.met)} (${p.good}/${p.samples} good)${p.details.length > 0 ? `<br><span class="muted">${esc(p.details.join("; "))}</span>` : ""}`
  const rows = Object.entries(r.hypothesis).map((
    [name, h]
  ) => [esc(name), cell(h.before), `${cell(h.during)}<br><span class="muted">${esc(h.duringMode)}</span>`, cell(h.after)])
  return `<section aria-labelledby="h-phases"><h2 id="h-phases">Phases</h2>${
    table("Steady-state hypothesis per phase", ["hypothesis", "before", "during", "after"], rows)
  }</section>`
}

const faults = (r: Report.Report) => {
  const rows = r.faults.map((f) => [
    `<code>${esc(f.fault)}</code>`,
    esc(`${f.target.kind} ${f.target.name} (${f.target.id})`),
    f.planned ? "planned (dry run)" : f.injectError ? `<span class="notmet">FAILED: ${esc(f.injectError)}</span>` : esc(f.injectedAt ?? "—"),
    f.revertError ? `<span class="notmet">FAILED after ${f.revertAttempts} attempts: ${esc(f.revertError)}</span>` : esc(f.revertedAt ?? "—"),
    ms(f.durationMs)
  ])
  return `<section aria-labelledby="h-faults"><h2 id="h-faults">Faults</h2>${
    table("Faults injected and reverted", ["fault", "target", "injected", "reverted", "in place"], rows)
  }</section>`
}

const environment = (r: Report.Report) => {
  const e = r.environment
  const rows = e === null
    ? [["—", "not journaled (an older journal)"]]
    : [["faultline", e.faultline], ["host", e.host], ["user", e.user], ["platform", e.platform], ["Node.js", e.node]].map(([k, v]) => [esc(k!), esc(v!)])
  rows.push(["journal", `${r.journal.entries} entries, last hash <code>${esc(r.journal.lastHash ?? "")}</code>`])
  return `<section aria-labelledby="h-env"><h2 id="h-env">Environment</h2>${table("Who ran it, with what, where", ["what", "value"], rows)}</section>`
}

const definition = (r: Report.Report) => {
  const d = r.definition
  if (d === null) {
    return `<section aria-labelledby="h-def"><h2 id="h-def">Experiment definition</h2><p class="muted">The journal has no RunStarted.</p></section>`
  }
  const hyp = d.hypotheses.map((
    h
  ) => [esc(h.name), `<code>${esc(h.probe)}</code>`, `${h.everyMs} ms`, String(h.samples), `<code>${esc(JSON.stringify(h.tolerance))}</code>`, esc(h.during)])
  const rto = d.stopwatches.rto
  return `<section aria-labelledby="h-def"><h2 id="h-def">Experiment definition</h2>` +
    table("Hypotheses", ["hypothesis", "probe", "every", "samples", "tolerance", "during"], hyp) +
    `<dl><dt>abort conditions</dt><dd>${d.abort.length === 0 ? "none" : d.abort.map(esc).join("<br>")}</dd>` +
    `<dt>guards</dt><dd>${d.guards === null ? "— (not journaled)" : d.guards.length === 0 ? "none" : d.guards.map((g) => esc(g.name)).join("<br>")}</dd>` +
    `<dt>objectives</dt><dd>RTO ${ms(d.objectives.rtoMs)}, RPO ${ms(d.objectives.rpoMs)}</dd>` +
    (rto
      ? `<dt>RTO stopwatch</dt><dd>hypothesis ${esc(rto.hypothesis)}, stable for ${rto.stableFor} samples, from ${esc(rto.from ?? "the first fault")}</dd>`
      : "") +
    (d.stopwatches.rpo ? `<dt>RPO stopwatch</dt><dd>heartbeat every ${d.stopwatches.rpo.everyMs} ms</dd>` : "") +
    `</dl></section>`
}

/**
 * Renders the HTML report: a pure function of the report and timeline of one journal.
 *
 * @since 0.1.0
 */
export const toHtml = (e: Evidence): string => {
  const r = e.report
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(`${r.experiment} — ${r.complete ? r.status : "incomplete"} — faultline report`)}</title>
<style>${CSS}</style></head>
<body><main>
${verdict(r)}
${timeline(e.timeline)}
${objectives(r)}
${phases(r)}
${faults(r)}
${environment(r)}
${definition(r)}
<p class="muted">Derived from the journal alone (run <code>${esc(r.runId)}</code>). Generated by faultline.</p>
</main></body></html>
`
}

/**
 * Writes `report.html` into the run folder `dir` (0600, never through a symlink) and returns
 * its path.
 *
 * @since 0.1.0
 */
export const write = (dir: string, e: Evidence): Effect.Effect<string> =>
  Effect.sync(() => {
    PrivateFiles.ensureDir(dir)
    const file = path.join(dir, "report.html")
    PrivateFiles.writeFile(file, toHtml(e))
    return file
  })
