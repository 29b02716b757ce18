// The step hook the durable engine uses, in memory under TestClock: steps an earlier attempt
// completed are not run again; a fault they still hold is injected again (and released at its
// `until` step or the end), one released in the earlier attempt is not; the rest run as usual.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as Experiment from "../../src/core/Experiment.ts"
import type * as Journal from "../../src/core/Journal.ts"
import * as Answers from "../../src/drill/Answers.ts"
import * as Drill from "../../src/drill/Drill.ts"
import type { Step, StepSpec } from "../../src/drill/Step.ts"
import { Selector } from "../../src/index.ts"
import { breakTargets, MemoryDriver } from "../../src/testing/index.ts"

const step = (id: string, spec: Record<string, unknown>): Step => ({
  id,
  title: id,
  prose: "",
  spec: { kind: "manual", ...spec } as unknown as StepSpec,
  plannedMs: null,
  branch: null,
  at: `test:${id}`
})

const drill = Drill.make([
  step("start-clock", { kind: "checkpoint", action: "start" }),
  step("break-a", { kind: "inject", fault: breakTargets(Selector.name("a")), until: "restore" }),
  step("break-b", { kind: "inject", fault: breakTargets(Selector.name("b")) }),
  step("watch", { kind: "manual", prompt: "Watch", owner: "oncall" }),
  step("restore", { kind: "manual", prompt: "Restore", owner: "oncall" }),
  step("stop-clock", { kind: "checkpoint", action: "stop" }),
  step("debrief", { kind: "manual", prompt: "Debrief", owner: "oncall" })
], { name: "replayed drill", roles: ["oncall"] })

const answers: Answers.AnswersFile = {
  runner: "Ada",
  steps: { watch: { by: "Ada", after: "1 minute" }, restore: { by: "Ada" }, debrief: { by: "Ada" } } as Answers.AnswersFile["steps"]
}

// An attempt after one that completed `earlier`: those steps replay instead of running.
const attempt = (earlier: ReadonlySet<string>) =>
  Effect.gen(function*() {
    const facilitator = Answers.facilitator(answers)
    const ran: Array<string> = []
    const around: Drill.StepAround = (s, run, replay) =>
      earlier.has(s.id) ? Effect.as(replay(earlier), "next" as const) : Effect.tap(run, () => Effect.sync(() => ran.push(s.id)))
    const { experiment, judge } = yield* Drill.toExperiment(drill, facilitator.runner, { around })
    const fiber = yield* Effect.forkChild(Experiment.run(experiment, { judge }).pipe(Effect.provide(Answers.layer(answers))))
    yield* TestClock.adjust("1 hour")
    const r = yield* Fiber.join(fiber)
    const d = yield* MemoryDriver
    const events = r.entries.map((e) => e.event)
    return { r, ran, calls: d.state.calls, events, notes: events.flatMap((e: Journal.Event) => e._tag === "DrillNote" ? [e.text] : []) }
  }).pipe(Effect.provide(Layer.fresh(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "b" }] }))))

describe("Drill.toExperiment({ around }): resuming a drill", () => {
  it.effect("held faults of completed steps are injected again, the step in progress and the rest run once", () =>
    Effect.gen(function*() {
      const { r, ran, calls, events, notes } = yield* attempt(new Set(["start-clock", "break-a", "break-b"]))
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
      assert.deepStrictEqual(ran, ["watch", "restore", "stop-clock", "debrief"])
      assert.deepStrictEqual(events.flatMap((e) => e._tag === "StepStarted" ? [e.stepId] : []), ["watch", "restore", "stop-clock", "debrief"])
      // a is held until `restore`, b until the end: both injected again, reverted in order.
      assert.deepStrictEqual(calls, ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:a", "revert:memory.break:b"])
      assert.strictEqual(notes.length, 3)
      assert.match(notes[1]!, /break-a completed in an earlier attempt; its fault memory.break injected again on 1 target/)
    }))

  it.effect("a fault released at its `until` step in the earlier attempt is not injected again", () =>
    Effect.gen(function*() {
      const { r, ran, calls, notes } = yield* attempt(new Set(["start-clock", "break-a", "break-b", "watch", "restore"]))
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
      assert.deepStrictEqual(ran, ["stop-clock", "debrief"])
      assert.deepStrictEqual(calls, ["inject:memory.break:b", "revert:memory.break:b"])
      assert.match(notes[1]!, /break-a .* its fault was released at step restore/)
    }))

  it.effect("with nothing completed earlier every step runs once, as without the hook", () =>
    Effect.gen(function*() {
      const { ran, calls } = yield* attempt(new Set())
      assert.deepStrictEqual(ran, ["start-clock", "break-a", "break-b", "watch", "restore", "stop-clock", "debrief"])
      assert.deepStrictEqual(calls, ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:a", "revert:memory.break:b"])
    }))
})
