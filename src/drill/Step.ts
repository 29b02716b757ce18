/**
 * Drill steps as data: the machine part of each runbook step (its fenced `step` block), one
 * Schema per kind, told apart by `kind`. Faults are the same union experiment files decode,
 * so a step injects any fault of any integration.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Tolerance from "../core/Tolerance.ts"
import { DurationText, FileFault } from "../ExperimentFile.ts"

/** A step or section id: lower-case words joined by dashes (`approve-failover`). @since 0.1.0 */
export const StepId = Schema.String.check(Schema.isPattern(/^[a-z0-9][a-z0-9-]*$/))

const common = {
  /** Default: the slug of the step's heading. */
  id: Schema.optionalKey(StepId),
  /** The time the runbook plans for the step; the report compares it with the actual time. */
  planned: Schema.optionalKey(DurationText)
}

/**
 * Evidence a manual step records: a line of text, a checkbox that must be ticked, or a link.
 *
 * @since 0.1.0
 */
export const Evidence = Schema.Struct({
  name: StepId,
  type: Schema.Literals(["text", "checkbox", "link"]),
  label: Schema.optionalKey(Schema.String)
})
/** @since 0.1.0 */
export type Evidence = typeof Evidence.Type

/** A person does something and records evidence. @since 0.1.0 */
export const Manual = Schema.Struct({
  kind: Schema.Literal("manual"),
  ...common,
  prompt: Schema.String,
  owner: Schema.String,
  evidence: Schema.optionalKey(Schema.Array(Evidence))
})

/** N people of a role approve; none of them may be the drill's runner. @since 0.1.0 */
export const Approve = Schema.Struct({
  kind: Schema.Literal("approve"),
  ...common,
  role: Schema.String,
  approvers: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  prompt: Schema.optionalKey(Schema.String)
})

/**
 * A webhook POST with a Slack-compatible payload (`{ text }`). The URL is written in the
 * runbook (`url`) or, when it is a secret (a Slack incoming webhook), named by the
 * environment variable that holds it (`urlFrom`): only the variable's name is journaled.
 *
 * @since 0.1.0
 */
export const Notify = Schema.Struct({
  kind: Schema.Literal("notify"),
  ...common,
  url: Schema.optionalKey(Schema.String),
  urlFrom: Schema.optionalKey(Schema.String),
  text: Schema.String,
  /** A failed POST fails the drill; default false: the step is recorded as failed and the drill goes on. */
  required: Schema.optionalKey(Schema.Boolean)
})

/**
 * Injects a fault (any integration's). It stays until the step named by `until` starts, or
 * the drill ends; an abort, a refusal or Ctrl-C reverts it at once.
 *
 * @since 0.1.0
 */
export const Inject = Schema.Struct({
  kind: Schema.Literal("inject"),
  ...common,
  fault: FileFault,
  until: Schema.optionalKey(StepId)
})

/** Runs an experiment file (YAML/JSON) or module as one step, with its own report. @since 0.1.0 */
export const Run = Schema.Struct({
  kind: Schema.Literal("run"),
  ...common,
  experiment: Schema.String
})

/**
 * Checks a hypothesis of the runbook: `samples` now against its tolerance (or the step's
 * own), or, with `waitUntil`, until `stableFor` consecutive good samples or the timeout.
 *
 * @since 0.1.0
 */
export const Verify = Schema.Struct({
  kind: Schema.Literal("verify"),
  ...common,
  hypothesis: Schema.String,
  tolerance: Schema.optionalKey(Schema.Array(Tolerance.ToleranceSpec).check(Schema.isMinLength(1))),
  samples: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  waitUntil: Schema.optionalKey(Schema.Struct({
    timeout: DurationText,
    stableFor: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))
  }))
})

/** Go / no-go: no-go runs the section `noGo` names, then ends the drill. @since 0.1.0 */
export const Decision = Schema.Struct({
  kind: Schema.Literal("decision"),
  ...common,
  question: Schema.String,
  role: Schema.optionalKey(Schema.String),
  noGo: StepId
})

/** Starts or stops the drill's RTO clock. @since 0.1.0 */
export const Checkpoint = Schema.Struct({
  kind: Schema.Literal("checkpoint"),
  ...common,
  clock: Schema.optionalKey(Schema.Literal("rto")),
  action: Schema.Literals(["start", "stop"])
})

/**
 * The machine part of a step, as written in its fenced `step` block.
 *
 * @since 0.1.0
 */
export const StepSpec = Schema.Union([Manual, Approve, Notify, Inject, Run, Verify, Decision, Checkpoint])
/** @since 0.1.0 */
export type StepSpec = typeof StepSpec.Type

/** The step kinds. @since 0.1.0 */
export type Kind = StepSpec["kind"]

/** Kinds that wait for people. @since 0.1.0 */
export const isHuman = (s: StepSpec): boolean => s.kind === "manual" || s.kind === "approve" || s.kind === "decision"

/**
 * One step of a drill: its id, heading, the prose read out, its spec, and the section it
 * belongs to when it is only run on a no-go (`branch`).
 *
 * @since 0.1.0
 */
export interface Step {
  readonly id: string
  readonly title: string
  readonly prose: string
  readonly spec: StepSpec
  readonly plannedMs: number | null
  /** The no-go section this step belongs to; null on the main path. */
  readonly branch: string | null
  /** Where the step is written (`runbooks/x.md:42`), for messages. */
  readonly at: string
}
