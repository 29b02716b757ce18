/**
 * The handler of `aws.fis.experiment`: create the template, start the experiment, verify
 * FIS took it; revert stops it while it still runs and deletes the template. And the wait
 * for an FIS experiment to end, journaling each change of its state and its actions'.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Handler from "../../core/Handler.ts"
import { Run } from "../../core/Run.ts"
import * as Target from "../../core/Target.ts"
import { AwsDriver } from "./AwsDriver.ts"
import { AwsError } from "./AwsError.ts"
import type { AwsFault } from "./Faults.ts"
import type { AwsContext } from "./Shared.ts"

/** FIS experiment states after which nothing moves. @since 0.1.0 */
export const TERMINAL: ReadonlyArray<string> = ["completed", "stopped", "failed", "cancelled"]

// Idempotency tokens for FIS: a retried call does not create a second template or experiment.
const token = () => `faultline-${crypto.randomUUID()}`

const stateOf = (ctx: AwsContext, id: string) =>
  Effect.map(ctx.call("fis", "GetExperiment", { id }, id), (r: any) => ({
    status: String(r?.experiment?.state?.status ?? "unknown"),
    reason: String(r?.experiment?.state?.reason ?? ""),
    actions: Object.entries(r?.experiment?.actions ?? {}).map(([name, a]: [string, any]) => ({
      name,
      actionId: String(a?.actionId ?? ""),
      status: String(a?.state?.status ?? "unknown")
    }))
  }))

/**
 * The FIS handler.
 *
 * @since 0.1.0
 */
export const fis: Pick<Handler.Handlers<AwsContext, AwsFault, AwsError>, "aws.fis.experiment"> = {
  "aws.fis.experiment": {
    // One target: the template itself, named by its tags (what FIS acts on is resolved by FIS).
    discover: (_ctx, fault) =>
      Effect.succeed([
        Target.make({
          kind: "fis-experiment",
          id: String((fault.template.tags as Record<string, string> | undefined)?.Name ?? "fis experiment"),
          name: String((fault.template.tags as Record<string, string> | undefined)?.Name ?? "fis experiment"),
          labels: {}
        })
      ]),
    inject: (ctx, fault, t) =>
      Effect.gen(function*() {
        const created = yield* ctx.call("fis", "CreateExperimentTemplate", { ...fault.template, clientToken: token() }, t.name)
        const templateId = String(created?.experimentTemplate?.id ?? "")
        if (ctx.planning) return { templateId: "(planned)", experimentId: "(planned)" }
        if (templateId === "") {
          return yield* new AwsError({ reason: "InvalidInput", target: t.name, operation: "fis.CreateExperimentTemplate", detail: "no template id" })
        }
        const started = yield* ctx.call("fis", "StartExperiment", { experimentTemplateId: templateId, clientToken: token() }, t.name).pipe(
          // A template that did not start is not left behind.
          Effect.tapError(() => Effect.ignore(ctx.call("fis", "DeleteExperimentTemplate", { id: templateId }, t.name)))
        )
        return { templateId, experimentId: String(started?.experiment?.id ?? "") }
      }),
    verify: (ctx, _fault, t, data) =>
      Effect.gen(function*() {
        const s = yield* stateOf(ctx, String(data.experimentId))
        if (s.status === "failed") {
          return yield* new AwsError({
            reason: "InvalidState",
            target: t.name,
            operation: "fis.StartExperiment",
            detail: `FIS failed the experiment: ${s.reason}`
          })
        }
      }),
    revert: (ctx, d) =>
      Effect.gen(function*() {
        const id = String(d.experimentId ?? "")
        if (id !== "" && id !== "(planned)") {
          const running = ctx.planning ? true : !TERMINAL.includes((yield* stateOf(ctx, id)).status)
          if (running) yield* ctx.call("fis", "StopExperiment", { id }, id)
        }
        const templateId = String(d.templateId ?? "")
        if (templateId !== "" && templateId !== "(planned)") {
          yield* ctx.call("fis", "DeleteExperimentTemplate", { id: templateId }, templateId).pipe(
            Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void)
          )
        }
      })
  }
}

/**
 * Waits for an FIS experiment to end, journaling each change of its state and of its
 * actions' states as a note; fails when FIS failed or stopped it (a stop condition fired).
 *
 * @since 0.1.0
 */
export const awaitExperiment = (experimentId: string, every: Duration.Input = "1 second") =>
  Effect.gen(function*() {
    const driver = yield* AwsDriver
    const run = yield* Run
    const ctx: AwsContext = { call: driver.call, planning: false }
    let last = ""
    const once = Effect.gen(function*() {
      const s = yield* stateOf(ctx, experimentId)
      const text = `${s.status} ${s.actions.map((a) => `${a.name}=${a.status}`).join(" ")}`
      if (text !== last) {
        last = text
        yield* run.journal.append({
          _tag: "Note",
          message: `FIS experiment ${experimentId}: ${s.status}${s.reason ? ` (${s.reason})` : ""}; actions: ${
            s.actions.map((a) => `${a.name} ${a.actionId} ${a.status}`).join(", ")
          }`
        })
      }
      return s
    })
    const final = yield* once.pipe(Effect.repeat({ schedule: Schedule.spaced(every), until: (s) => TERMINAL.includes(s.status) }))
    if (final.status !== "completed") {
      return yield* new AwsError({
        reason: "InvalidState",
        target: experimentId,
        operation: "fis.GetExperiment",
        detail: `FIS ended the experiment ${final.status}: ${final.reason}`
      })
    }
  })
