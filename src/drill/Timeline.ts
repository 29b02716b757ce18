/**
 * The drill's timeline as SVG: one row per step, its planned time as an outline and its
 * actual time as a bar coloured by status, on one time axis; the RTO clock as a band.
 *
 * @since 0.1.0
 */
import * as DrillReport from "../report/DrillReport.ts"

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const COLOUR: Record<string, string> = {
  running: "#1f6feb",
  done: "#2da44e",
  approved: "#2da44e",
  go: "#2da44e",
  refused: "#cf222e",
  "no-go": "#bf8700",
  failed: "#cf222e",
  aborted: "#cf222e"
}

/**
 * The SVG of a drill state (`nowMono` extends running steps and the RTO band).
 *
 * @since 0.1.0
 */
export const svg = (s: DrillReport.DrillState, nowMono: number | null): string => {
  const t0 = s.startedMono ?? 0
  const end = s.endedMono ?? nowMono ?? t0
  let planned = 0
  let cursor = 0
  const rows = s.steps.map((st) => {
    const start = st.startedMono === null ? cursor : st.startedMono - t0
    const actual = DrillReport.actualMs(st, nowMono)
    cursor = start + Math.max(actual ?? 0, st.plannedMs ?? 0)
    planned = Math.max(planned, start + (st.plannedMs ?? 0))
    return { st, start, actual }
  })
  const span = Math.max(1, end - t0, planned, cursor)
  const W = 720
  const L = 200
  const H = 18
  const x = (ms: number) => L + (ms / span) * (W - L - 10)
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${W} ${rows.length * H + 24}" role="img" aria-label="drill timeline">`]
  if (s.rto.startMono !== null) {
    const a = x(s.rto.startMono - t0)
    const b = x((s.rto.stopMono ?? end) - t0)
    parts.push(`<rect x="${a.toFixed(1)}" y="0" width="${Math.max(1, b - a).toFixed(1)}" height="${rows.length * H}" fill="#fff8c5"><title>RTO clock</title></rect>`)
  }
  rows.forEach(({ st, start, actual }, i) => {
    const y = i * H
    parts.push(`<text x="4" y="${y + 13}" font-size="11">${esc(st.title.slice(0, 30))}</text>`)
    if (st.plannedMs !== null) parts.push(`<rect x="${x(start).toFixed(1)}" y="${y + 3}" width="${Math.max(1, x(start + st.plannedMs) - x(start)).toFixed(1)}" height="${H - 6}" fill="none" stroke="#8c959f" stroke-dasharray="3 2"/>`)
    if (actual !== null) {
      parts.push(`<rect x="${x(start).toFixed(1)}" y="${y + 5}" width="${Math.max(1, x(start + actual) - x(start)).toFixed(1)}" height="${H - 10}" fill="${COLOUR[st.status] ?? "#8c959f"}"><title>${esc(`${st.title}: ${st.status}, ${DrillReport.clock(actual)} of ${DrillReport.clock(st.plannedMs)} planned`)}</title></rect>`)
    }
  })
  parts.push(`<text x="${L}" y="${rows.length * H + 16}" font-size="10">0</text><text x="${W - 60}" y="${rows.length * H + 16}" font-size="10">${esc(DrillReport.clock(span))}</text></svg>`)
  return parts.join("")
}
