/**
 * A drill as a durable workflow. Its steps are activities whose results the cluster keeps in
 * PostgreSQL: when the runner carrying a drill dies, its watchdog reverts the faults (as for
 * any run) and the runner that takes the drill's shard over starts a new attempt — a new run
 * folder whose steady-state gate is checked again — in which completed steps are not run
 * again: a fault a completed inject step still holds is injected again (after the gate), and
 * the drill goes on from the first step not completed. An experiment file has no steps: it
 * is one activity, run again from the start by the next attempt.
 *
 * @since 0.2.0
 */
import * as path from "node:path"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Activity from "effect/workflow/Activity"
import * as Workflow from "effect/workflow/Workflow"
import type * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import type * as Drill from "../drill/Drill.ts"
import * as Store from "./Store.ts"

/**
 * What a drill's payload names: the file (a Markdown runbook, or an experiment file or module),
 * scripted answers for a runbook's human steps, and the key that makes it one drill: the same
 * key submitted twice, by any runner, is the same execution (a schedule uses the drill's name
 * and firing instant).
 *
 * @since 0.2.0
 */
export const Payload = Schema.Struct({
  kind: Schema.Literals(["runbook", "experiment"]),
  file: Schema.String,
  answers: Schema.NullOr(Schema.String),
  key: Schema.String
})
/** @since 0.2.0 */
export type Payload = typeof Payload.Type

/** How a drill ended, on the runner that finished it. @since 0.2.0 */
export const Result = Schema.Struct({
  status: Schema.String,
  runId: Schema.NullOr(Schema.String),
  attempt: Schema.Number,
  runner: Schema.String,
  detail: Schema.String
})
/** @since 0.2.0 */
export type Result = typeof Result.Type

/**
 * The workflow. Its execution id is derived from the payload's key.
 *
 * @since 0.2.0
 */
export const DurableDrill = Workflow.make("faultline/drill", {
  payload: Payload,
  success: Result,
  idempotencyKey: (p) => p.key
})

/** What submitting a drill needs: the cluster's workflow engine. @since 0.2.0 */
export type Engine = WorkflowEngine.WorkflowEngine

/**
 * What a runner provides: its name, and how it carries out a runbook (with each step passed
 * through `around`) or an experiment file into its own run folders.
 *
 * @since 0.2.0
 */
export class DrillHost extends Context.Service<DrillHost, {
  readonly runner: string
  readonly runRunbook: (p: Payload, around: Drill.StepAround, runId: string) => Effect.Effect<{ readonly runId: string; readonly status: string }, string>
  readonly runExperiment: (p: Payload) => Effect.Effect<{ readonly runId: string; readonly status: string }, string>
}>()("faultline/durable/DrillHost") {}

const StepDone = Schema.Struct({ next: Schema.Literals(["next", "stop"]), attempt: Schema.Number })

// Each step an activity: run once, recorded once; a completed one replays what it holds.
const aroundFor = (executionId: string, attempt: number, runner: string, earlier: ReadonlySet<string>): Drill.StepAround => (step, run, replay) =>
  Effect.gen(function*() {
    const activity = Activity.make({
      name: `step/${step.id}`,
      success: StepDone,
      error: Schema.String,
      execute: Effect.gen(function*() {
        // A step recorded by an attempt that died before its activity's result was saved.
        if (earlier.has(step.id)) return { next: "next" as const, attempt: 0 }
        const next = yield* Effect.mapError(run, (e) => String((e as { message?: string })?.message ?? e))
        yield* Store.completeStep(executionId, step.id, attempt, runner, yield* Clock.currentTimeMillis).pipe(Effect.orDie)
        return { next, attempt }
      })
    })
    const done = yield* activity
    if (done.attempt !== attempt) yield* replay(earlier)
    return done.next
  })

const execute = (payload: Payload, executionId: string) =>
  Effect.gen(function*() {
    const host = yield* DrillHost
    const attempt = yield* Store.beginAttempt(executionId, host.runner, yield* Clock.currentTimeMillis)
    const base = { attempt, runner: host.runner }
    const outcome = payload.kind === "experiment"
      ? yield* Activity.make({
        name: "experiment",
        success: Schema.Struct({ runId: Schema.String, status: Schema.String }),
        error: Schema.String,
        execute: host.runExperiment(payload)
      })
      : yield* Effect.flatMap(Store.completedSteps(executionId), (earlier) =>
        host.runRunbook(
          payload,
          aroundFor(executionId, attempt, host.runner, earlier),
          `${path.basename(payload.key).replace(/[^A-Za-z0-9._-]/g, "_")}-a${attempt}`
        ))
    return { ...base, status: outcome.status, runId: outcome.runId as string | null, detail: "" }
  }).pipe(
    Effect.catch((e) =>
      Effect.gen(function*() {
        const host = yield* DrillHost
        return { status: "error", runId: null, attempt: 0, runner: host.runner, detail: String((e as { message?: string })?.message ?? e) }
      })
    )
  )

/**
 * Registers the workflow on this runner (it needs `WorkflowEngine`, the SQL client and a
 * `DrillHost`).
 *
 * @since 0.2.0
 */
export const layer = DurableDrill.toLayer((payload, executionId) => execute(payload, executionId))
