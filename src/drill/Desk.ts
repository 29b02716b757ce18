/**
 * The desk: where a drill waits for people, and where every facilitator source (a terminal,
 * the web page, scripted answers, a test) hands in what people did. A response is checked
 * against the step waiting for it (the right step, its evidence, the two-person rule) and
 * refused with a reason, or journaled with its actor. The `Facilitator` service is the
 * set of sources a drill attaches to its desk.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import type { Actor, Event } from "../core/Journal.ts"
import type { Step } from "./Step.ts"

/**
 * What a person did, as a source hands it in.
 *
 * @since 0.1.0
 */
export type Response =
  | { readonly _tag: "Complete"; readonly stepId: string; readonly actor: Actor; readonly evidence: Readonly<Record<string, string | boolean>> }
  | { readonly _tag: "Approve"; readonly stepId: string; readonly actor: Actor; readonly approved: boolean; readonly reason: string }
  | { readonly _tag: "Decide"; readonly stepId: string; readonly actor: Actor; readonly go: boolean; readonly reason: string }
  | { readonly _tag: "Note"; readonly actor: Actor; readonly text: string }
  | { readonly _tag: "Abort"; readonly actor: Actor; readonly reason: string }

/**
 * How a step that waited for people ended.
 *
 * @since 0.1.0
 */
export type Answer =
  | { readonly _tag: "Completed"; readonly actor: Actor; readonly evidence: Readonly<Record<string, string | boolean>> }
  | { readonly _tag: "Approved"; readonly approvers: ReadonlyArray<Actor> }
  | { readonly _tag: "Refused"; readonly actor: Actor; readonly approvers: ReadonlyArray<Actor>; readonly reason: string }
  | { readonly _tag: "Decided"; readonly actor: Actor; readonly go: boolean; readonly reason: string }

/**
 * The step waiting for people, and the approvals it has so far.
 *
 * @since 0.1.0
 */
export interface Pending {
  readonly step: Step
  readonly approvals: ReadonlyArray<Actor>
}

/** @since 0.1.0 */
export interface Desk {
  readonly runner: Actor
  /** The step waiting for people, if any. */
  readonly pending: () => Pending | null
  /** Hands in a response: null when accepted, else why it was refused. */
  readonly submit: (r: Response) => string | null
  /** Calls `listener` whenever a step starts waiting for people (and once now, if one is). */
  readonly onPending: (listener: (p: Pending) => void) => () => void
  /** Why the drill was halted (an abort, a refusal, a no-go), once it was. */
  readonly halted: Deferred.Deferred<string>
}

/**
 * The sources of a drill's facilitator input and output: a terminal, a web page, scripted
 * answers. `attach` runs for the drill's lifetime (its scope ends with the drill).
 *
 * @since 0.1.0
 */
export class Facilitator extends Context.Service<Facilitator, {
  /** Who runs the drill: approvals by this person are refused (two-person rule). */
  readonly runner: Actor
  readonly attach: (desk: Desk) => Effect.Effect<void, never, Scope.Scope>
}>()("faultline/Facilitator") {}

/** Who an actor is, for the two-person rule: the name given, else the OS user. @since 0.1.0 */
export const identity = (a: Actor): string => (a.name ?? a.user ?? "").trim().toLowerCase()

/** The actor text of reports and views: `Grace (alice via web)`. @since 0.1.0 */
export const describeActor = (a: Actor): string => {
  const who = a.name ?? a.user ?? "someone"
  const extra = [a.name !== null && a.user !== null && a.user !== a.name ? a.user : null, `via ${a.via}`].filter((x) => x !== null).join(" ")
  return `${who} (${extra})`
}

const evidenceProblem = (step: Step, evidence: Readonly<Record<string, string | boolean>>): string | null => {
  if (step.spec.kind !== "manual") return null
  const fields = step.spec.evidence ?? []
  for (const key of Object.keys(evidence)) {
    if (!fields.some((f) => f.name === key)) {
      return `step ${step.id} records no evidence named ${JSON.stringify(key)}; fields: ${fields.map((f) => f.name).join(", ") || "none"}`
    }
  }
  for (const f of fields) {
    const v = evidence[f.name]
    if (f.type === "checkbox" && v !== true) return `${f.name}: the checkbox must be ticked`
    if (f.type === "text" && (typeof v !== "string" || v.trim() === "")) return `${f.name}: a text is required`
    if (f.type === "link" && (typeof v !== "string" || !/^https?:\/\/\S+$/.test(v))) return `${f.name}: an http(s) link is required`
  }
  return null
}

// What a desk holds while a drill runs.
interface State {
  readonly runner: Actor
  readonly journal: (e: Event) => void
  readonly halted: Deferred.Deferred<string>
  readonly listeners: Set<(p: Pending) => void>
  current: { readonly step: Step; readonly approvals: Array<Actor>; readonly done: Deferred.Deferred<Answer> } | null
}

const view = (st: State): Pending | null => st.current === null ? null : { step: st.current.step, approvals: st.current.approvals.slice() }

const settle = (st: State, a: Answer) => {
  const c = st.current!
  st.current = null
  Deferred.doneUnsafe(c.done, Effect.succeed(a))
}

// One approval: the two-person rule, one approval per person, N approvers.
const approve = (st: State, r: Extract<Response, { _tag: "Approve" }>): string | null => {
  const c = st.current!
  if (c.step.spec.kind !== "approve") return `step ${c.step.id} is a ${c.step.spec.kind} step, not an approval`
  const who = identity(r.actor)
  if (who === "") return "an approval needs the approver's name"
  if (who === identity(st.runner) || (st.runner.user !== null && who === st.runner.user.toLowerCase())) {
    return `two-person rule: ${r.actor.name ?? r.actor.user} runs this drill and cannot approve its steps`
  }
  if (c.approvals.some((a) => identity(a) === who)) return `${r.actor.name ?? r.actor.user} has already approved step ${c.step.id}`
  st.journal({ _tag: "StepApproval", stepId: c.step.id, actor: r.actor, approved: r.approved, reason: r.reason })
  if (!r.approved) settle(st, { _tag: "Refused", actor: r.actor, approvers: c.approvals.slice(), reason: r.reason })
  else {
    c.approvals.push(r.actor)
    if (c.approvals.length >= (c.step.spec.approvers ?? 1)) settle(st, { _tag: "Approved", approvers: c.approvals.slice() })
    else st.listeners.forEach((l) => l(view(st)!))
  }
  return null
}

// A response that is not about the step waiting: a note or an abort.
const anytime = (st: State, r: Extract<Response, { _tag: "Note" | "Abort" }>): string | null => {
  if (r._tag === "Note") {
    if (r.text.trim() === "") return "a note needs text"
    st.journal({ _tag: "DrillNote", stepId: st.current?.step.id ?? null, actor: r.actor, text: r.text })
    return null
  }
  st.journal({ _tag: "DrillNote", stepId: st.current?.step.id ?? null, actor: r.actor, text: `abort: ${r.reason}` })
  Deferred.doneUnsafe(st.halted, Effect.succeed(`aborted by ${describeActor(r.actor)}: ${r.reason}`))
  return null
}

const submit = (st: State, r: Response): string | null => {
  if (Deferred.isDoneUnsafe(st.halted)) return "the drill has stopped"
  if (r._tag === "Note" || r._tag === "Abort") return anytime(st, r)
  const c = st.current
  if (c === null || c.step.id !== r.stepId) return `step ${r.stepId} is not waiting${c === null ? "" : `; step ${c.step.id} is`}`
  if (r._tag === "Approve") return approve(st, r)
  if (r._tag === "Decide") {
    if (c.step.spec.kind !== "decision") return `step ${c.step.id} is a ${c.step.spec.kind} step, not a go/no-go decision`
    if (identity(r.actor) === "") return "a decision needs the name of who took it"
    settle(st, { _tag: "Decided", actor: r.actor, go: r.go, reason: r.reason })
    return null
  }
  if (c.step.spec.kind !== "manual") return `step ${c.step.id} is a ${c.step.spec.kind} step; it is not completed by hand`
  const bad = evidenceProblem(c.step, r.evidence)
  if (bad !== null) return bad
  settle(st, { _tag: "Completed", actor: r.actor, evidence: r.evidence })
  return null
}

/**
 * Makes a desk. `journal` appends an event (synchronously, in the drill's context).
 *
 * @since 0.1.0
 */
export const make = (runner: Actor, journal: (e: Event) => void): Effect.Effect<
  Desk & {
    readonly wait: (step: Step) => Effect.Effect<Answer>
  }
> =>
  Effect.gen(function*() {
    const st: State = { runner, journal, halted: yield* Deferred.make<string>(), listeners: new Set(), current: null }
    const wait = (step: Step) =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<Answer>()
        st.current = { step, approvals: [], done }
        st.listeners.forEach((l) => l(view(st)!))
        return yield* Deferred.await(done)
      }).pipe(Effect.ensuring(Effect.sync(() => {
        if (st.current?.step.id === step.id) st.current = null
      })))
    return {
      runner,
      pending: () => view(st),
      submit: (r) => submit(st, r),
      wait,
      halted: st.halted,
      onPending: (listener) => {
        st.listeners.add(listener)
        const p = view(st)
        if (p !== null) listener(p)
        return () => st.listeners.delete(listener)
      }
    }
  })

/** Waits until the drill is halted; yields why. @since 0.1.0 */
export const haltedReason = (desk: Desk): Effect.Effect<string> => Deferred.await(desk.halted)

/** Halts the drill (the first reason wins). @since 0.1.0 */
export const halt = (desk: Desk, reason: string): void => {
  Deferred.doneUnsafe(desk.halted, Effect.succeed(reason))
}
