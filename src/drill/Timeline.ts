/**
 * The drill's timeline: the run timeline of `report.html` (`report/Timeline`), reading the
 * drill's step events (title, actor), so the web live view draws the same SVG as the report.
 *
 * @since 0.1.0
 */
import type { Entry } from "../core/Journal.ts"
import * as Timeline from "../report/Timeline.ts"

/**
 * Reads a drill step's start or end from a journal entry, for `Timeline.fold`.
 *
 * @since 0.1.0
 */
export const stepOf = (entry: Entry): Timeline.StepMark | null => {
  const ev = entry.event
  if (ev._tag === "StepStarted") return { edge: "start", id: ev.stepId, name: ev.title, kind: ev.kind, actor: null }
  if (ev._tag === "StepEnded") {
    const who = ev.approvers.length > 0 ? ev.approvers : ev.actor === null ? [] : [ev.actor]
    return { edge: "end", id: ev.stepId, outcome: ev.outcome, actor: who.map((a) => a.name ?? a.user ?? "?").join(", ") || null }
  }
  return null
}

/** The timeline options of a drill. @since 0.1.0 */
export const options: Timeline.Options = { stepOf }

/**
 * A live timeline: feed it entries, draw it at any time (bounded whatever the drill's length).
 *
 * @since 0.1.0
 */
export const live = () => {
  const f = Timeline.fold(options)
  return { observe: f.step, svg: () => Timeline.render(f.result(), { id: "timeline-svg" }) }
}
