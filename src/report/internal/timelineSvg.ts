/**
 * The SVG drawing of a timeline model (see `Timeline.render`). Internal: its output is the
 * contract, not its functions.
 */
import type { Model, RenderOptions } from "../Timeline.ts"

/** Escapes text for XML content and attribute values. */
export const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

const n = (x: number) => Number.isFinite(x) ? Math.round(x * 100) / 100 : 0

/** Duration as people read it on an axis: 850 ms, 12.5 s, 3 min 20 s, 1 h 02 min. */
export const dur = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, "0")} min`
}

// Light and dark palettes, and shapes that do not depend on colour: bad samples are full-
// height hatched bars, good ones half-height solid; a failed fault has a thick outline.
const STYLE = `
.tl{--fg:#1b1f24;--muted:#57606a;--grid:#d0d7de;--good:#1a7f37;--bad:#cf222e;--fault:#bf8700;--step:#0969da;
--detect:#bc4c00;--recover:#0969da;--rpo:#8250df;--abort:#cf222e;--before:#eaeef2;--during:#fff1e5;--after:#dafbe1;
font:11px system-ui,-apple-system,"Segoe UI",sans-serif;fill:var(--fg)}
@media (prefers-color-scheme:dark){.tl{--fg:#e6edf3;--muted:#9198a1;--grid:#3d444d;--good:#3fb950;--bad:#f85149;
--fault:#d29922;--step:#4493f8;--detect:#db6d28;--recover:#4493f8;--rpo:#ab7df8;--abort:#f85149;--before:#262c36;
--during:#3a2a1a;--after:#1c3326}}
@media print{.tl{--fg:#000;--muted:#333;--grid:#bbb}}
.tl text{fill:var(--fg)}.tl .muted{fill:var(--muted)}.tl .grid{stroke:var(--grid);stroke-width:1}
.tl .good{fill:var(--good)}.tl .bad{fill:url(#tl-hatch-bad);stroke:var(--bad);stroke-width:.6}
.tl .lat{fill:none;stroke:var(--muted);stroke-width:1.2}
.tl .fault{fill:var(--fault);fill-opacity:.85}.tl .fault.failed{stroke:var(--bad);stroke-width:2.5}
.tl .open{fill:url(#tl-hatch-open)}
.tl .step{fill:var(--step);fill-opacity:.8}.tl .detect{fill:var(--detect)}.tl .recover{fill:var(--recover)}
.tl .rpo{fill:url(#tl-hatch-rpo);stroke:var(--rpo);stroke-width:1}
.tl .abort{stroke:var(--abort);stroke-width:1.5;stroke-dasharray:4 3}.tl .abort-mark{fill:var(--abort)}
.tl .ph-before{fill:var(--before)}.tl .ph-during{fill:var(--during)}.tl .ph-after{fill:var(--after)}
.tl .label{font-weight:600}`

const DEFS = `<defs>
<pattern id="tl-hatch-bad" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" style="fill:var(--bad)" fill-opacity=".35"/><line x1="0" y1="0" x2="0" y2="4" style="stroke:var(--bad)" stroke-width="2.4"/></pattern>
<pattern id="tl-hatch-rpo" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><line x1="0" y1="0" x2="0" y2="5" style="stroke:var(--rpo)" stroke-width="2"/></pattern>
<pattern id="tl-hatch-open" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" style="stroke:var(--fault)" stroke-width="2"/></pattern>
</defs>`

interface Ctx {
  readonly x0: number
  readonly x1: number
  readonly span: number
  readonly x: (ms: number) => number
  readonly out: Array<string>
  y: number
}

const title = (t: string) => `<title>${esc(t)}</title>`
const times = (from: number, to: number | null) => `data-from-ms="${n(from)}"${to === null ? "" : ` data-to-ms="${n(to)}"`}`
const rowLabel = (c: Ctx, text: string, h: number, cls = "label") =>
  c.out.push(
    `<text x="${c.x0 - 8}" y="${n(c.y + h / 2 + 4)}" text-anchor="end" class="${cls}">${esc(text.length > 24 ? `${text.slice(0, 23)}…` : text)}</text>`
  )

const axis = (c: Ctx, height: () => number) => {
  const target = 8
  const raw = c.span / target
  const steps = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000]
  const step = steps.find((s) => s >= raw) ?? Math.ceil(raw / 3_600_000) * 3_600_000
  const ticks: Array<string> = []
  for (let t = 0; t <= c.span + 1e-9; t += step) {
    ticks.push(`<line class="grid" x1="${n(c.x(t))}" x2="${n(c.x(t))}" y1="${c.y + 14}" y2="__H__"/>`)
    ticks.push(`<text x="${n(c.x(t))}" y="${c.y + 10}" text-anchor="middle" class="muted">+${esc(dur(t))}</text>`)
  }
  c.out.push(`<g class="axis" aria-hidden="true">${ticks.join("")}</g>`)
  c.y += 18
  return () => c.out.forEach((s, i) => c.out[i] = s.replaceAll("__H__", String(n(height()))))
}

const phaseRow = (c: Ctx, m: Model) => {
  if (m.phases.length === 0) return
  rowLabel(c, "phase", 14)
  for (const p of m.phases) {
    const w = Math.max(1, c.x(p.toMs) - c.x(p.fromMs))
    c.out.push(
      `<g class="phase" data-phase="${p.phase}" ${times(p.fromMs, p.toMs)}><rect class="ph-${p.phase}" x="${n(c.x(p.fromMs))}" y="${c.y}" width="${
        n(w)
      }" height="14">` +
        `${title(`${p.phase}: +${dur(p.fromMs)} to +${dur(p.toMs)}`)}</rect>` +
        (w > 40 ? `<text x="${n(c.x(p.fromMs) + 4)}" y="${c.y + 11}">${p.phase}</text>` : "") + `</g>`
    )
  }
  c.y += 20
}

const hypothesisRows = (c: Ctx, m: Model) => {
  for (const h of m.hypotheses) {
    rowLabel(c, h.name, 14)
    const bars: Array<string> = []
    for (const b of h.buckets) {
      const x = c.x(b.fromMs)
      const w = Math.max(1, c.x(b.fromMs + b.widthMs) - x)
      const tip = `${h.name}, ${b.phase}, +${dur(b.fromMs)}: ${b.samples - b.bad} good, ${b.bad} bad of ${b.samples}; latency max ${n(b.latencyMaxMs)} ms`
      bars.push(
        b.bad > 0
          ? `<rect class="bad" data-bad="${b.bad}" x="${n(x)}" y="${c.y}" width="${n(w)}" height="14" ${times(b.fromMs, b.fromMs + b.widthMs)}>${
            title(tip)
          }</rect>`
          : `<rect class="good" x="${n(x)}" y="${c.y + 7}" width="${n(w)}" height="7" ${times(b.fromMs, b.fromMs + b.widthMs)}>${title(tip)}</rect>`
      )
    }
    c.out.push(
      `<g class="samples" data-hypothesis="${esc(h.name)}" role="group" aria-label="${esc(`${h.name}: ${h.samples - h.bad} good and ${h.bad} bad samples`)}">${
        bars.join("")
      }</g>`
    )
    c.y += 18
    latencyRow(c, h)
  }
}

const latencyRow = (c: Ctx, h: Model["hypotheses"][number]) => {
  if (h.buckets.length === 0) return
  const hgt = 30
  const max = Math.max(1, ...h.buckets.map((b) => b.latencyMaxMs))
  rowLabel(c, `latency ≤ ${n(max)} ms`, hgt, "muted")
  const pts = h.buckets.map((b) => `${n(c.x(b.fromMs + b.widthMs / 2))},${n(c.y + hgt - (b.latencyMaxMs / max) * hgt)}`)
  c.out.push(
    `<g class="latency" data-hypothesis="${esc(h.name)}"><line class="grid" x1="${c.x0}" x2="${c.x1}" y1="${c.y + hgt}" y2="${c.y + hgt}"/>` +
      `<polyline class="lat" points="${pts.join(" ")}">${title(`${h.name}: probe latency, highest per bucket, up to ${n(max)} ms`)}</polyline></g>`
  )
  c.y += hgt + 8
}

const faultRows = (c: Ctx, m: Model) => {
  for (const f of m.faults) {
    rowLabel(c, f.fault, 14)
    const to = f.toMs ?? m.endMs
    const w = Math.max(2, c.x(to) - c.x(f.fromMs))
    const state = f.failed === "inject"
      ? "injection FAILED"
      : f.failed === "revert"
      ? "revert FAILED"
      : f.toMs === null
      ? "not reverted"
      : `in place ${dur(f.toMs - f.fromMs)}`
    const cls = `fault${f.failed ? " failed" : ""}${f.toMs === null ? " open" : ""}`
    c.out.push(
      `<g class="fault-bar" data-fault-id="${esc(f.faultId)}" role="img" aria-label="${esc(`fault ${f.fault} on ${f.target}: ${state}`)}">` +
        `<rect class="${cls}" x="${n(c.x(f.fromMs))}" y="${c.y}" width="${n(w)}" height="14" ${times(f.fromMs, f.toMs)}>` +
        `${title(`${f.fault} on ${f.target}: injected +${dur(f.fromMs)}, ${state}`)}</rect>` +
        `<text x="${n(Math.min(c.x(f.fromMs) + w + 4, c.x1 - 4))}" y="${c.y + 11}" text-anchor="${
          c.x(f.fromMs) + w + 120 > c.x1 ? "end" : "start"
        }" class="muted">${esc(f.target)}</text></g>`
    )
    c.y += 18
  }
}

const stepRows = (c: Ctx, m: Model) => {
  for (const s of m.steps) {
    rowLabel(c, s.name, 14)
    const to = s.toMs ?? m.endMs
    const w = Math.max(2, c.x(to) - c.x(s.fromMs))
    const who = s.actor === null ? "" : ` — ${s.actor}`
    c.out.push(
      `<g class="step-bar" data-step="${esc(s.id)}"><rect class="step" x="${n(c.x(s.fromMs))}" y="${c.y}" width="${n(w)}" height="14" ${
        times(s.fromMs, s.toMs)
      }>` +
        `${
          title(
            `step ${s.name}${s.kind ? ` (${s.kind})` : ""}${who}: +${dur(s.fromMs)} to ${s.toMs === null ? "—" : `+${dur(s.toMs)}`}${
              s.outcome ? `, ${s.outcome}` : ""
            }`
          )
        }</rect>` +
        `<text x="${n(Math.min(c.x(s.fromMs) + w + 4, c.x1 - 4))}" y="${c.y + 11}" text-anchor="${
          c.x(s.fromMs) + w + 120 > c.x1 ? "end" : "start"
        }" class="muted">${esc(`${s.actor ?? ""}${s.outcome ? ` · ${s.outcome}` : ""}`)}</text></g>`
    )
    c.y += 18
  }
}

const rtoRow = (c: Ctx, m: Model) => {
  const r = m.rto
  if (r === null) return
  rowLabel(c, "RTO", 14)
  const parts: Array<string> = []
  if (!r.outageObserved) {
    parts.push(`<text x="${n(c.x(r.fromMs))}" y="${c.y + 11}" class="muted">no outage observed (any was shorter than ${n(r.resolutionMs)} ms)</text>`)
  } else {
    const detect = r.detectAtMs ?? r.fromMs
    const end = r.recoveredAtMs ?? m.endMs
    parts.push(
      `<rect class="detect" data-part="detect" x="${n(c.x(r.fromMs))}" y="${c.y + 3}" width="${n(Math.max(1, c.x(detect) - c.x(r.fromMs)))}" height="8" ${
        times(r.fromMs, detect)
      }>` +
        `${title(`time to detect: ${n(detect - r.fromMs)} ms (±${n(r.resolutionMs)} ms)`)}</rect>`,
      `<rect class="recover${r.recoveredAtMs === null ? " open" : ""}" data-part="recover" x="${n(c.x(detect))}" y="${c.y + 3}" width="${
        n(Math.max(1, c.x(end) - c.x(detect)))
      }" height="8" ${times(detect, r.recoveredAtMs)}>` +
        `${title(r.recoveredAtMs === null ? "not recovered" : `time to recover: ${n(end - detect)} ms`)}</rect>`,
      `<path class="lat" d="M${n(c.x(r.fromMs))},${c.y} v14 M${n(c.x(end))},${c.y} v14"/>`,
      `<text x="${n(Math.min(c.x(end) + 4, c.x1 - 4))}" y="${c.y + 11}" text-anchor="${c.x(end) + 140 > c.x1 ? "end" : "start"}">${
        esc(r.recoveredAtMs === null ? "not recovered" : `RTO ${n(end - r.fromMs)} ms`)
      }</text>`
    )
  }
  c.out.push(`<g class="rto-bracket" role="img" aria-label="RTO: detect then recover" ${times(r.fromMs, r.recoveredAtMs)}>${parts.join("")}</g>`)
  c.y += 20
}

const rpoRow = (c: Ctx, m: Model) => {
  const r = m.rpo
  const back = m.rpoReadBack
  if (r === null && back !== null) {
    rowLabel(c, "RPO", 14)
    c.out.push(
      `<g class="rpo-held" role="img" aria-label="${esc(`RPO: none of ${back.ackedWrites} acknowledged writes lost`)}" ${times(back.atMs, null)}>` +
        `<path class="lat" d="M${n(c.x(back.atMs))},${c.y} v14"/><text x="${n(Math.min(c.x(back.atMs) + 4, c.x1 - 4))}" y="${c.y + 11}" ` +
        `text-anchor="${c.x(back.atMs) + 220 > c.x1 ? "end" : "start"}">${
          title(`heartbeat read back at +${dur(back.atMs)}`)
        }none of ${back.ackedWrites} acknowledged writes lost</text></g>`
    )
    c.y += 20
    return
  }
  if (r === null) return
  rowLabel(c, "RPO", 14)
  const w = Math.max(2, c.x(r.toMs) - c.x(r.fromMs))
  c.out.push(
    `<g class="rpo-window" role="img" aria-label="${esc(`RPO window: ${r.lostWrites} of ${r.ackedWrites} acknowledged writes lost`)}">` +
      `<rect class="rpo" x="${n(c.x(r.fromMs))}" y="${c.y}" width="${n(w)}" height="14" ${times(r.fromMs, r.toMs)}>${
        title(`RPO window ${n(r.toMs - r.fromMs)} ms: ${r.lostWrites} of ${r.ackedWrites} acknowledged writes lost`)
      }</rect>` +
      `<text x="${n(Math.min(c.x(r.fromMs) + w + 4, c.x1 - 4))}" y="${c.y + 11}" text-anchor="${
        c.x(r.fromMs) + w + 140 > c.x1 ? "end" : "start"
      }">${r.lostWrites} writes lost</text></g>`
  )
  c.y += 20
}

const abortMarks = (c: Ctx, m: Model, top: number) => {
  for (const a of m.aborts) {
    const x = n(c.x(a.atMs))
    c.out.push(
      `<g class="abort-marker" ${times(a.atMs, null)} role="img" aria-label="${esc(`abort: ${a.condition}`)}">${
        title(`abort ${a.condition} at +${dur(a.atMs)}: ${a.reason}`)
      }` +
        `<line class="abort" x1="${x}" x2="${x}" y1="${top}" y2="${c.y}"/><path class="abort-mark" d="M${x},${top + 8} l-5,-8 h10 z"/></g>`
    )
  }
}

/** Draws `model` (see `Timeline.render`). */
export const renderSvg = (m: Model, o: RenderOptions): string => {
  const width = o.width ?? 1000
  const id = o.id ?? "timeline"
  const x0 = 170
  const x1 = width - 20
  const span = Math.max(1, m.endMs)
  const c: Ctx = { x0, x1, span, x: (ms) => x0 + (Math.max(0, Math.min(ms, span)) / span) * (x1 - x0), out: [], y: 4 }
  const fixAxis = axis(c, () => c.y)
  const top = c.y
  phaseRow(c, m)
  hypothesisRows(c, m)
  faultRows(c, m)
  stepRows(c, m)
  rtoRow(c, m)
  rpoRow(c, m)
  abortMarks(c, m, top)
  fixAxis()
  const height = c.y + 6
  const desc = `${m.experiment}: ${m.hypotheses.length} hypotheses, ${m.faults.length} faults, ${m.steps.length} steps, ${m.aborts.length} aborts over ${
    dur(m.endMs)
  }`
  return `<svg xmlns="http://www.w3.org/2000/svg" id="${esc(id)}" class="tl" viewBox="0 0 ${width} ${n(height)}" width="100%" role="img" ` +
    `aria-labelledby="${esc(id)}-title ${esc(id)}-desc" data-x0="${x0}" data-x1="${x1}" data-span-ms="${
      n(span)
    }" data-width="${width}" preserveAspectRatio="xMinYMin meet">` +
    `<title id="${esc(id)}-title">Timeline of ${esc(m.experiment)} (${esc(m.status)})</title><desc id="${esc(id)}-desc">${esc(desc)}</desc>` +
    `<style>${STYLE}</style>${DEFS}${c.out.join("")}</svg>`
}
