// The drill engine with scripted answers under TestClock: steps in order with their actors
// and timings, approvals and the two-person rule, a refused approval and an abort revert
// every fault, a no-go runs its section, the RTO clock is judged against the objective.
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { Journal } from "../../src/index.ts"
import { Selector } from "../../src/index.ts"
import * as Answers from "../../src/drill/Answers.ts"
import * as Drill from "../../src/drill/Drill.ts"
import type { Step, StepSpec } from "../../src/drill/Step.ts"
import { breakTargets, MemoryDriver } from "../../src/testing/index.ts"

const step = (id: string, spec: Record<string, unknown>, branch: string | null = null, plannedMs: number | null = null): Step => ({
  id,
  title: id,
  prose: `Read out: ${id}.`,
  spec: { kind: "manual", ...spec } as unknown as StepSpec,
  plannedMs,
  branch,
  at: `test:${id}`
})

const steps: ReadonlyArray<Step> = [
  step("brief", { kind: "manual", prompt: "Brief the room", owner: "facilitator", evidence: [{ name: "bridge", type: "checkbox" }] }, null, 120_000),
  step("start-clock", { kind: "checkpoint", action: "start" }),
  step("break-a", { kind: "inject", fault: breakTargets(Selector.name("a")), until: "restore" }),
  step("break-b", { kind: "inject", fault: breakTargets(Selector.name("b")) }),
  step("approve", { kind: "approve", role: "lead", approvers: 2 }),
  step("go", { kind: "decision", question: "Go on?", noGo: "rollback" }),
  step("restore", { kind: "manual", prompt: "Restore", owner: "oncall" }),
  step("stop-clock", { kind: "checkpoint", action: "stop" }),
  step("undo", { kind: "manual", prompt: "Roll back", owner: "oncall" }, "rollback")
]

const drill = Drill.make(steps, { name: "memory drill", objectives: { rto: "10 minutes" }, roles: ["facilitator", "lead", "oncall"] })

const script = (over: Record<string, unknown> = {}): Answers.AnswersFile => ({
  runner: "Ada",
  steps: {
    brief: { by: "Ada", after: "2 minutes", evidence: { bridge: true } },
    approve: { after: "1 minute", approvals: [{ by: "Grace" }, { by: "Linus" }] },
    go: { by: "Grace", go: true },
    restore: { by: "Ada", after: "3 minutes" },
    undo: { by: "Ada" },
    ...over
  } as Answers.AnswersFile["steps"]
})

const runDrill = (answers: Answers.AnswersFile, advance: Duration.Input = "1 hour") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Drill.run(drill).pipe(Effect.provide(Answers.layer(answers))))
    yield* TestClock.adjust(advance)
    const r = yield* Fiber.join(fiber)
    const d = yield* MemoryDriver
    return { r, calls: d.state.calls, events: r.entries.map((e) => e.event) }
  }).pipe(Effect.provide(Layer.fresh(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "b" }] }))))

const ended = (events: ReadonlyArray<Journal.Event>) => events.flatMap((e) => e._tag === "StepEnded" ? [[e.stepId, e.outcome] as const] : [])

describe("Drill.run with scripted answers", () => {
  it.effect("runs every step in order, journals actors and evidence, reverts at `until` and at the end, judges the RTO clock", () =>
    Effect.gen(function*() {
      const { r, calls, events } = yield* runDrill(script())
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
      assert.deepStrictEqual(ended(events), [
        ["brief", "done"],
        ["start-clock", "done"],
        ["break-a", "done"],
        ["break-b", "done"],
        ["approve", "approved"],
        ["go", "go"],
        ["restore", "done"],
        ["stop-clock", "done"]
      ])
      // `until: restore` reverts a before the restore step; b at the end.
      assert.deepStrictEqual(calls, ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:a", "revert:memory.break:b"])
      const brief = r.entries.find((e) => e.event._tag === "StepEnded" && e.event.stepId === "brief")!
      const started = r.entries.find((e) => e.event._tag === "StepStarted" && e.event.stepId === "brief")!
      assert.strictEqual(brief.mono - started.mono, 120_000)
      const ev = brief.event as Extract<Journal.Event, { _tag: "StepEnded" }>
      assert.deepStrictEqual(ev.evidence, { bridge: true })
      assert.strictEqual(ev.actor?.name, "Ada")
      const approvals = events.flatMap((e) => e._tag === "StepApproval" ? [e.actor.name] : [])
      assert.deepStrictEqual(approvals, ["Grace", "Linus"])
    }))

  it.effect("the runner cannot approve (two-person rule): the drill halts and reverts", () =>
    Effect.gen(function*() {
      const { r, calls } = yield* runDrill(script({ approve: { approvals: [{ by: "Ada" }, { by: "Grace" }] } }))
      assert.strictEqual(r.verdict.status, "aborted")
      assert.match(r.verdict.reason, /two-person rule/)
      assert.deepStrictEqual(calls.filter((c) => c.startsWith("revert")).length, 2)
    }))

  it.effect("a refused approval reverts every fault and journals who refused", () =>
    Effect.gen(function*() {
      const { r, calls, events } = yield* runDrill(script({ approve: { approvals: [{ by: "Grace", approved: false, reason: "standby lagging" }] } }))
      assert.strictEqual(r.verdict.status, "aborted")
      assert.match(r.verdict.reason, /approval refused at step approve by Grace.*standby lagging/)
      assert.deepStrictEqual(calls, ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:b", "revert:memory.break:a"])
      assert.deepStrictEqual(ended(events).at(-1), ["approve", "refused"])
      assert.isFalse(ended(events).some(([id]) => id === "go"))
    }))

  it.effect("a no-go runs the rollback section, then ends the drill", () =>
    Effect.gen(function*() {
      const { r, events } = yield* runDrill(script({ go: { by: "Grace", go: false, reason: "error budget gone" } }))
      assert.strictEqual(r.verdict.status, "aborted")
      assert.match(r.verdict.reason, /no-go at step go by Grace/)
      assert.deepStrictEqual(ended(events).slice(-2), [["go", "no-go"], ["undo", "done"]])
    }))

  it.effect("an abort while a step waits reverts every fault; the step is journaled as aborted", () =>
    Effect.gen(function*() {
      const { r, calls, events } = yield* runDrill(script({ restore: { by: "Linus", abort: "customer impact" } }))
      assert.strictEqual(r.verdict.status, "aborted")
      assert.match(r.verdict.reason, /aborted by Linus.*customer impact/)
      assert.deepStrictEqual(ended(events).at(-1), ["restore", "aborted"])
      assert.strictEqual(calls.filter((c) => c.startsWith("revert")).length, 2)
    }))

  it.effect("an RTO over the objective makes the drill deviated", () =>
    Effect.gen(function*() {
      const { r } = yield* runDrill(script({ restore: { by: "Ada", after: "11 minutes" } }))
      assert.strictEqual(r.verdict.status, "deviated")
      assert.match(r.verdict.reason, /RTO 720000\.0 ms > objective 600000 ms/)
    }))

  it.effect("a step without a scripted answer halts the drill", () =>
    Effect.gen(function*() {
      const s = script()
      const { restore: _, ...rest } = s.steps
      const { r } = yield* runDrill({ ...s, steps: rest })
      assert.strictEqual(r.verdict.status, "aborted")
      assert.match(r.verdict.reason, /no scripted answer for step restore/)
    }))
})
