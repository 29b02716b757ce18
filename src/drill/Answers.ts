/**
 * Scripted answers: a drill run without people (CI, tests). A YAML file gives, per step id,
 * who answers, after how long (timed by the `Clock`, so a test runs a two-hour drill under
 * `TestClock` in no time), and what they record, approve or decide.
 *
 * @example
 * ```yaml
 * runner: Ada
 * steps:
 *   brief-the-room: { by: Ada, after: "2 minutes", evidence: { bridge-open: true } }
 *   approve-failover: { approvals: [{ by: Grace }] }
 *   go-no-go: { by: Grace, go: true }
 * ```
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type { Actor } from "../core/Journal.ts"
import * as Strict from "../core/internal/strict.ts"
import { DurationText } from "../ExperimentFile.ts"
import * as YAML from "yaml"
import type { Desk, Pending } from "./Desk.ts"
import { Facilitator, halt } from "./Desk.ts"
import type { Drill } from "./Drill.ts"

const StepAnswer = Schema.Struct({
  by: Schema.optionalKey(Schema.String),
  after: Schema.optionalKey(DurationText),
  evidence: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Boolean]))),
  approvals: Schema.optionalKey(
    Schema.Array(Schema.Struct({
      by: Schema.String,
      approved: Schema.optionalKey(Schema.Boolean),
      reason: Schema.optionalKey(Schema.String)
    })).check(Schema.isMinLength(1))
  ),
  go: Schema.optionalKey(Schema.Boolean),
  reason: Schema.optionalKey(Schema.String),
  /** Abort the drill when this step starts waiting, instead of answering it. */
  abort: Schema.optionalKey(Schema.String),
  note: Schema.optionalKey(Schema.String)
})

/**
 * The shape of an answers file.
 *
 * @since 0.1.0
 */
export const AnswersFile = Schema.Struct({
  /** The name of the person running the drill (default: the OS user). */
  runner: Schema.optionalKey(Schema.String),
  steps: Schema.Record(Schema.String, StepAnswer)
})
/** @since 0.1.0 */
export type AnswersFile = typeof AnswersFile.Type

/**
 * The answers file is malformed, or names a step the drill does not have.
 *
 * @since 0.1.0
 */
export class AnswersInvalid extends Schema.TaggedError<AnswersInvalid>()("AnswersInvalid", { file: Schema.String, problem: Schema.String }) {
  override get message() {
    return `${this.file}: ${this.problem}`
  }
}

/**
 * Reads an answers file and checks it against the drill: every step id it names exists and
 * waits for people, and each answer has the fields its step kind needs.
 *
 * @since 0.1.0
 */
export const load = (file: string, drill: Drill): Effect.Effect<AnswersFile, AnswersInvalid> =>
  Effect.gen(function*() {
    const fail = (problem: string) => new AnswersInvalid({ file, problem })
    const raw = yield* Effect.try({ try: () => YAML.parse(fs.readFileSync(file, "utf8")) as unknown, catch: (e) => fail((e as Error).message.split("\n")[0]!) })
    const unknown = Strict.unknownKeys(AnswersFile, raw)
    if (unknown !== undefined) return yield* fail(unknown)
    const a = yield* Schema.decodeUnknownEffect(AnswersFile)(raw, { onExcessProperty: "error" }).pipe(Effect.mapError((e) => fail(Strict.oneLine(e.issue))))
    const bad = problems(a, drill)
    return bad === null ? a : yield* fail(bad)
  })

const problems = (a: AnswersFile, drill: Drill): string | null => {
  for (const [id, ans] of Object.entries(a.steps)) {
    const step = drill.steps.find((s) => s.id === id)
    if (step === undefined) {
      const near = Strict.nearest(id, drill.steps.map((s) => s.id))
      return `no step ${JSON.stringify(id)} at steps.${id}; ${
        near ? `did you mean ${JSON.stringify(near)}?` : `steps: ${drill.steps.map((s) => s.id).join(", ")}`
      }`
    }
    if (ans.abort !== undefined) continue
    const kind = step.spec.kind
    if (kind === "approve" && ans.approvals === undefined) return `step ${id} is an approval: it needs approvals: [{ by: NAME }] at steps.${id}.approvals`
    if (kind === "decision" && ans.go === undefined) return `step ${id} is a go/no-go decision: it needs go: true|false at steps.${id}.go`
    if (kind !== "manual" && kind !== "approve" && kind !== "decision") {
      return `step ${id} is a ${kind} step: it runs by itself and takes no answer at steps.${id}`
    }
  }
  return null
}

/** The OS user running this process. @since 0.1.0 */
export const osUser = (): string => {
  try {
    return os.userInfo().username
  } catch {
    return process.env.USER ?? "unknown"
  }
}

// Answers one pending step, after its delay.
const answer = (desk: Desk, answers: AnswersFile, p: Pending) =>
  Effect.gen(function*() {
    const a = answers.steps[p.step.id]
    const who = (name: string | undefined): Actor => ({ name: name ?? desk.runner.name, user: osUser(), via: "answers" })
    if (a === undefined) {
      halt(desk, `no scripted answer for step ${p.step.id}`)
      return
    }
    if (a.after !== undefined) yield* Effect.sleep(Duration.fromInputUnsafe(a.after as Duration.Input))
    if (a.note !== undefined) desk.submit({ _tag: "Note", actor: who(a.by), text: a.note })
    const refusal = (r: string | null) => r === null ? Effect.void : Effect.sync(() => halt(desk, `scripted answer for step ${p.step.id} refused: ${r}`))
    if (a.abort !== undefined) return yield* refusal(desk.submit({ _tag: "Abort", actor: who(a.by), reason: a.abort }))
    switch (p.step.spec.kind) {
      case "approve":
        for (const x of a.approvals ?? []) {
          const r = desk.submit({ _tag: "Approve", stepId: p.step.id, actor: who(x.by), approved: x.approved ?? true, reason: x.reason ?? "" })
          if (r !== null) return yield* refusal(r)
          if (x.approved === false) return
        }
        return
      case "decision":
        return yield* refusal(desk.submit({ _tag: "Decide", stepId: p.step.id, actor: who(a.by), go: a.go ?? true, reason: a.reason ?? "" }))
      default:
        return yield* refusal(desk.submit({ _tag: "Complete", stepId: p.step.id, actor: who(a.by), evidence: a.evidence ?? {} }))
    }
  })

/**
 * A facilitator that answers from a script: each step waiting for people gets its answer
 * after the delay the script gives; a step without one halts the drill.
 *
 * @since 0.1.0
 */
export const facilitator = (answers: AnswersFile): Facilitator["Service"] => {
  const runner: Actor = { name: answers.runner ?? osUser(), user: osUser(), via: "answers" }
  return Facilitator.of({
    runner,
    attach: (desk) =>
      Effect.gen(function*() {
        const queue = yield* Queue.unbounded<Pending>()
        const seen = new Set<string>()
        const stop = desk.onPending((p) => {
          // Partial approvals re-announce the step: the script answers each step once.
          if (seen.has(p.step.id)) return
          seen.add(p.step.id)
          Queue.offerUnsafe(queue, p)
        })
        yield* Effect.addFinalizer(() => Effect.sync(stop))
        yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), (p) => answer(desk, answers, p))))
      })
  })
}

/** The scripted facilitator as a layer. @since 0.1.0 */
export const layer = (answers: AnswersFile): Layer.Layer<Facilitator> => Layer.succeed(Facilitator, facilitator(answers))
