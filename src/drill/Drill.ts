/**
 * Drills: an ordered list of steps, some automatic, some waiting for people, run as the
 * method of an experiment, so a drill is journaled, ledgered, raced against its abort
 * conditions and reverted like any run: every fault a step injects is an `acquireRelease`
 * in the drill's scope, and a refused approval, an abort or Ctrl-C closes that scope.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type { AbortCondition } from "../core/Abort.ts"
import * as Experiment from "../core/Experiment.ts"
import * as Fault from "../core/Fault.ts"
import type { Hypothesis } from "../core/Hypothesis.ts"
import type { Actor, Event } from "../core/Journal.ts"
import { Run } from "../core/Run.ts"
import * as ExperimentFile from "../ExperimentFile.ts"
import * as Actions from "./Actions.ts"
import * as Desk from "./Desk.ts"
import type { Runbook } from "./Runbook.ts"
import type { Step } from "./Step.ts"

/**
 * A drill, ready to run.
 *
 * @since 0.1.0
 */
export interface Drill {
  readonly name: string
  readonly service: string
  readonly tier: string
  readonly description: string
  readonly objectives: { readonly rtoMs: number | null; readonly rpoMs: number | null }
  readonly roles: ReadonlyArray<string>
  readonly steps: ReadonlyArray<Step>
  readonly hypotheses: ReadonlyArray<Hypothesis<any>>
  readonly abort: ReadonlyArray<AbortCondition<any>>
  /** Where `run` steps' experiment paths are resolved from, and their run folders go. */
  readonly dir: string
}

const ms = (d: string | undefined) => d === undefined ? null : Duration.toMillis(Duration.fromInputUnsafe(d as Duration.Input))

/**
 * Makes a drill from steps (a test or a TypeScript drill; a runbook makes one with `fromRunbook`).
 *
 * @since 0.1.0
 */
export const make = (steps: ReadonlyArray<Step>, options: {
  readonly name: string
  readonly service?: string
  readonly tier?: string
  readonly description?: string
  readonly objectives?: { readonly rto?: Duration.Input; readonly rpo?: Duration.Input }
  readonly roles?: ReadonlyArray<string>
  readonly hypotheses?: ReadonlyArray<Hypothesis<any>>
  readonly abort?: ReadonlyArray<AbortCondition<any>>
  readonly dir?: string
}): Drill => ({
  name: options.name,
  service: options.service ?? "",
  tier: options.tier ?? "",
  description: options.description ?? "",
  objectives: {
    rtoMs: options.objectives?.rto === undefined ? null : Duration.toMillis(Duration.fromInputUnsafe(options.objectives.rto)),
    rpoMs: options.objectives?.rpo === undefined ? null : Duration.toMillis(Duration.fromInputUnsafe(options.objectives.rpo))
  },
  roles: options.roles ?? [],
  steps,
  hypotheses: options.hypotheses ?? [],
  abort: options.abort ?? [],
  dir: options.dir ?? process.cwd()
})

/**
 * The drill a runbook describes.
 *
 * @since 0.1.0
 */
export const fromRunbook = (r: Runbook): Drill => {
  const hypotheses = ExperimentFile.toHypotheses(r.front.hypotheses ?? [])
  return {
    ...make(r.steps, {
      name: r.front.name,
      service: r.front.service,
      tier: String(r.front.tier),
      description: r.front.description ?? r.intro,
      roles: Object.keys(r.front.roles),
      hypotheses,
      abort: ExperimentFile.toAborts(r.front.abort ?? [], hypotheses),
      dir: r.dir
    }),
    objectives: { rtoMs: ms(r.front.objectives?.rto), rpoMs: ms(r.front.objectives?.rpo) }
  }
}

/**
 * A step failed (an automatic step's error, a verification that did not hold): the drill fails.
 *
 * @since 0.1.0
 */
export class StepFailed extends Schema.TaggedError<StepFailed>()("StepFailed", { stepId: Schema.String, detail: Schema.String }) {
  override get message() {
    return `step ${this.stepId} failed: ${this.detail}`
  }
}

// What the steps measured, read by the objectives' judgement after the method.
interface Clocks {
  rtoStart: number | null
  rtoStop: number | null
  rpo: Array<{ readonly windowMs: number; readonly lostWrites: number }>
}

/**
 * The objectives a drill missed, from what its steps measured: the RTO clock (checkpoints)
 * and the RPO of its `run` steps. An objective nothing measured is said to be unmeasured.
 *
 * @since 0.1.0
 */
export const judgeObjectives = (drill: Drill, clocks: Clocks): ReadonlyArray<string> => {
  const out: Array<string> = []
  const { rtoMs, rpoMs } = drill.objectives
  if (rtoMs !== null) {
    if (clocks.rtoStart === null || clocks.rtoStop === null) {
      out.push(`RTO not measured: no checkpoint started and stopped the RTO clock (objective ${rtoMs} ms)`)
    } else if (clocks.rtoStop - clocks.rtoStart > rtoMs) out.push(`RTO ${(clocks.rtoStop - clocks.rtoStart).toFixed(1)} ms > objective ${rtoMs} ms`)
  }
  if (rpoMs !== null) {
    const worst = clocks.rpo.reduce<number | null>((m, r) => Math.max(m ?? 0, r.windowMs), null)
    if (worst === null) out.push(`RPO not measured: no step measured it (objective ${rpoMs} ms)`)
    else if (worst > rpoMs) out.push(`RPO ${worst.toFixed(1)} ms > objective ${rpoMs} ms`)
  }
  return out
}

// The main path (steps outside no-go sections), in order.
const mainPath = (drill: Drill) => drill.steps.filter((s) => s.branch === null)

const instructions = (s: Step): string => {
  const spec = s.spec
  switch (spec.kind) {
    case "manual":
      return spec.prompt
    case "approve":
      return spec.prompt ?? `${spec.approvers ?? 1} approval(s) from ${spec.role}`
    case "decision":
      return spec.question
    default:
      return s.prose.split("\n")[0] ?? ""
  }
}

/**
 * The experiment that carries a drill out. `desk` receives people's responses; `clocks`
 * collects what the steps measure (for `judgeObjectives`).
 *
 * @since 0.1.0
 */
export const toExperiment = (
  drill: Drill,
  runner: Actor,
  options: { readonly out?: string; readonly around?: StepAround } = {}
) =>
  Effect.gen(function*() {
    let append: (e: Event) => void = () => {}
    const desk = yield* Desk.make(runner, (e) => append(e))
    const clocks: Clocks = { rtoStart: null, rtoStop: null, rpo: [] }
    const halt: AbortCondition<never> = { name: "drill halted", watch: Desk.haltedReason(desk) }
    const method = Effect.gen(function*() {
      const run = yield* Run
      const context = yield* Effect.context<never>()
      append = (e) => Effect.runSyncWith(context)(run.journal.append(e))
      append({
        _tag: "DrillStarted",
        runbook: drill.name,
        service: drill.service,
        tier: drill.tier,
        objectives: drill.objectives,
        roles: [...drill.roles],
        runner,
        steps: drill.steps.map((s) => ({ stepId: s.id, title: s.title, kind: s.spec.kind, plannedMs: s.plannedMs, branch: s.branch }))
      })
      const facilitator = yield* Desk.Facilitator
      yield* facilitator.attach(desk)
      const parent = yield* Effect.scope
      const held = new Map<string, Array<Scope.Closeable>>()
      const ctx: StepContext = { drill, desk, clocks, parent, held, out: options.out ?? null, append, done: new Set(), runner, around: options.around ?? null }
      yield* runSteps(ctx, mainPath(drill))
    })
    const experiment = Experiment.make({
      name: drill.name,
      description: drill.description,
      hypothesis: drill.hypotheses,
      method,
      abort: [...drill.abort, halt]
    })
    return { experiment, desk, judge: Effect.sync(() => judgeObjectives(drill, clocks)) }
  })

/** @internal */
export interface StepContext {
  readonly drill: Drill
  readonly desk: Effect.Success<ReturnType<typeof Desk.make>>
  readonly clocks: Clocks
  readonly parent: Scope.Scope
  /** The scopes of faults held until a step starts, by that step's id. */
  readonly held: Map<string, Array<Scope.Closeable>>
  readonly out: string | null
  readonly append: (e: Event) => void
  /** The steps whose end is journaled (an interruption after it journals nothing more). */
  readonly done: Set<string>
  readonly runner: Actor
  readonly around: StepAround | null
}

/**
 * How each step is carried out, for engines that persist steps (`faultline/durable` runs each
 * one as a workflow activity). `run` carries the step out; `replay` re-establishes what a step
 * completed by an earlier attempt still holds (an inject step's fault until its `until` step,
 * an RTO clock start) without running the step again, and journals that it did.
 *
 * @since 0.2.0
 */
export type StepAround = (
  step: Step,
  run: Effect.Effect<"next" | "stop", unknown, any>,
  replay: (completedEarlier: ReadonlySet<string>) => Effect.Effect<void, unknown, any>
) => Effect.Effect<"next" | "stop", unknown, any>

const runSteps = (ctx: StepContext, steps: ReadonlyArray<Step>): Effect.Effect<void, unknown, any> =>
  Effect.gen(function*() {
    for (const step of steps) {
      const release = ctx.held.get(step.id) ?? []
      ctx.held.delete(step.id)
      for (const s of release) yield* Scope.close(s, Exit.void)
      const next = yield* (ctx.around === null ? runStep(ctx, step) : ctx.around(step, runStep(ctx, step), (earlier) => replayStep(ctx, step, earlier)))
      if (next === "stop") return yield* Effect.never
    }
  })

const ended = (ctx: StepContext, step: Step, outcome: Extract<Event, { _tag: "StepEnded" }>["outcome"], fields: {
  readonly actor?: Actor | null
  readonly evidence?: Readonly<Record<string, unknown>>
  readonly approvers?: ReadonlyArray<Actor>
  readonly detail?: string
  readonly rpo?: { readonly windowMs: number; readonly lostWrites: number } | undefined
} = {}) => {
  ctx.done.add(step.id)
  ctx.append({
    _tag: "StepEnded",
    stepId: step.id,
    outcome,
    actor: fields.actor ?? null,
    evidence: { ...fields.evidence },
    approvers: [...(fields.approvers ?? [])],
    detail: fields.detail ?? "",
    ...(fields.rpo ? { rpo: fields.rpo } : {})
  })
  if (fields.rpo) ctx.clocks.rpo.push(fields.rpo)
}

// Runs one step; "stop" when the drill must halt (a refusal, a no-go after its section).
const runStep = (ctx: StepContext, step: Step): Effect.Effect<"next" | "stop", unknown, any> =>
  Effect.gen(function*() {
    ctx.append({ _tag: "StepStarted", stepId: step.id, kind: step.spec.kind, title: step.title, instructions: instructions(step) })
    const spec = step.spec
    switch (spec.kind) {
      case "manual":
      case "approve":
      case "decision":
        return yield* human(ctx, step)
      case "checkpoint": {
        const mono = yield* Actions.monoNow
        if (spec.action === "start") ctx.clocks.rtoStart = mono
        else if (ctx.clocks.rtoStart !== null) ctx.clocks.rtoStop = mono
        ctx.append({ _tag: "Checkpoint", stepId: step.id, clock: "rto", action: spec.action })
        ended(ctx, step, "done", { detail: `RTO clock ${spec.action === "start" ? "started" : "stopped"}` })
        return "next"
      }
      case "inject": {
        const scope = yield* Scope.fork(ctx.parent, "sequential")
        if (spec.until !== undefined) ctx.held.set(spec.until, [...(ctx.held.get(spec.until) ?? []), scope])
        const injections = yield* Fault.inject(spec.fault).pipe(
          Scope.provide(scope),
          Effect.mapError((e) => new StepFailed({ stepId: step.id, detail: e.message }))
        )
        ended(ctx, step, "done", { detail: `${spec.fault._tag}: ${injections.length} target(s)${spec.until ? `, held until step ${spec.until}` : ""}` })
        return "next"
      }
      default: {
        const result = yield* Actions.automatic(ctx, step)
        ended(ctx, step, result.ok ? "done" : "failed", { detail: result.detail, rpo: result.rpo })
        if (!result.ok && result.fatal) return yield* Effect.fail(new StepFailed({ stepId: step.id, detail: result.detail }))
        return "next"
      }
    }
  }).pipe(Effect.onInterrupt(() =>
    Effect.sync(() => {
      if (!ctx.done.has(step.id)) ended(ctx, step, "aborted", { detail: "the drill stopped during this step" })
    })
  ))

// A step an earlier attempt completed: its held fault is injected again (the run's steady-state
// gate has passed before any step replays), an RTO clock it started starts again now.
const replayStep = (ctx: StepContext, step: Step, earlier: ReadonlySet<string>): Effect.Effect<void, unknown, any> =>
  Effect.gen(function*() {
    const spec = step.spec
    const note = (text: string) => ctx.append({ _tag: "DrillNote", stepId: step.id, actor: ctx.runner, text })
    if (spec.kind === "inject") {
      // Released already when its `until` step started in an earlier attempt.
      if (spec.until !== undefined && earlier.has(spec.until)) {
        note(`resumed: step ${step.id} completed in an earlier attempt; its fault was released at step ${spec.until}`)
        ctx.done.add(step.id)
        return
      }
      const scope = yield* Scope.fork(ctx.parent, "sequential")
      if (spec.until !== undefined) ctx.held.set(spec.until, [...(ctx.held.get(spec.until) ?? []), scope])
      const injections = yield* Fault.inject(spec.fault).pipe(
        Scope.provide(scope),
        Effect.mapError((e) => new StepFailed({ stepId: step.id, detail: e.message }))
      )
      note(`resumed: step ${step.id} completed in an earlier attempt; its fault ${spec.fault._tag} injected again on ${injections.length} target(s)`)
    } else if (spec.kind === "checkpoint" && spec.action === "start") {
      ctx.clocks.rtoStart = yield* Actions.monoNow
      note(`resumed: step ${step.id} completed in an earlier attempt; the RTO clock restarts now`)
    } else {
      note(`resumed: step ${step.id} completed in an earlier attempt; not run again`)
    }
    ctx.done.add(step.id)
  })

const human = (ctx: StepContext, step: Step): Effect.Effect<"next" | "stop", unknown, any> =>
  Effect.gen(function*() {
    const answer = yield* ctx.desk.wait(step)
    switch (answer._tag) {
      case "Completed":
        ended(ctx, step, "done", { actor: answer.actor, evidence: answer.evidence })
        return "next"
      case "Approved":
        ended(ctx, step, "approved", { actor: answer.approvers.at(-1) ?? null, approvers: answer.approvers })
        return "next"
      case "Refused": {
        const who = Desk.describeActor(answer.actor)
        ended(ctx, step, "refused", { actor: answer.actor, approvers: answer.approvers, detail: answer.reason })
        Desk.halt(ctx.desk, `approval refused at step ${step.id} by ${who}${answer.reason ? `: ${answer.reason}` : ""}`)
        return "stop"
      }
      case "Decided": {
        if (answer.go) {
          ended(ctx, step, "go", { actor: answer.actor, detail: answer.reason })
          return "next"
        }
        ended(ctx, step, "no-go", { actor: answer.actor, detail: answer.reason })
        const section = step.spec.kind === "decision" ? step.spec.noGo : ""
        yield* runSteps(ctx, ctx.drill.steps.filter((s) => s.branch === section))
        Desk.halt(ctx.desk, `no-go at step ${step.id} by ${Desk.describeActor(answer.actor)}; section ${section} ran`)
        return "stop"
      }
    }
  })

/**
 * Runs a drill in memory (a test, a TypeScript drill) with the `Facilitator` provided:
 * scripted answers under `TestClock`, or a terminal or web facilitator. The CLI runs it into
 * a run folder instead (`faultline drill`). Never fails: the outcome is in the verdict.
 *
 * @example
 * ```ts
 * const result = yield* Drill.run(drill).pipe(Effect.provide(Answers.layer(script)))
 * ```
 * @since 0.1.0
 */
export const run = (drill: Drill, options: Omit<Experiment.RunOptions, "judge"> = {}) =>
  Effect.gen(function*() {
    const facilitator = yield* Desk.Facilitator
    const { experiment, judge } = yield* toExperiment(drill, facilitator.runner)
    return yield* Experiment.run(experiment, { ...options, judge })
  })
