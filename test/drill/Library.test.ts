// A test suite runs a Markdown runbook as a drill with scripted answers under TestClock: a
// two-hour drill in no time, its timings exact, its report folded from the journal.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Answers, Drill, DrillReport, Journal, Runbook } from "../../src/index.ts"

const text = `---
name: tabletop
service: checkout
tier: 1
objectives: { rto: "90 minutes" }
roles: { facilitator: runs it, lead: approves }
---

# Tabletop: the payment provider is down

## Declare the incident

Read the scenario out; the lead declares the incident.

\`\`\`step
kind: manual
owner: facilitator
prompt: Declare the incident
planned: "30 minutes"
evidence: [{ name: ticket, type: link }]
\`\`\`

## Start the clock

\`\`\`step
kind: checkpoint
action: start
\`\`\`

## Approve switching providers

\`\`\`step
kind: approve
role: lead
approvers: 2
planned: "15 minutes"
\`\`\`

## Switch

Switch traffic to the second provider.

\`\`\`step
kind: manual
owner: facilitator
prompt: Switch providers
planned: "1 hour"
\`\`\`

## Stop the clock

\`\`\`step
kind: checkpoint
action: stop
\`\`\`
`

describe("Runbook.decode + Drill.run under TestClock", () => {
  it.effect("a two-hour tabletop runs in no time, with exact timings, approvers and RTO", () =>
    Effect.gen(function*() {
      const drill = Drill.fromRunbook(yield* Runbook.decode("tabletop.md", text))
      const answers: Answers.AnswersFile = {
        runner: "Ada",
        steps: {
          "declare-the-incident": { by: "Ada", after: "40 minutes", evidence: { ticket: "https://tickets.example/INC-1" } },
          "approve-switching-providers": { after: "10 minutes", approvals: [{ by: "Grace" }, { by: "Linus" }] },
          switch: { by: "Ada", after: "70 minutes" }
        }
      }
      const fiber = yield* Effect.forkChild(Drill.run(drill).pipe(Effect.provide(Answers.layer(answers))))
      yield* TestClock.adjust("3 hours")
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
      const s = Journal.foldAll(r.entries, DrillReport.fold())
      assert.deepStrictEqual(s.steps.map((x) => [x.stepId, x.status, DrillReport.actualMs(x, null), x.plannedMs]), [
        ["declare-the-incident", "done", 40 * 60_000, 30 * 60_000],
        ["start-the-clock", "done", 0, null],
        ["approve-switching-providers", "approved", 10 * 60_000, 15 * 60_000],
        ["switch", "done", 70 * 60_000, 60 * 60_000],
        ["stop-the-clock", "done", 0, null]
      ])
      assert.strictEqual(DrillReport.rtoMs(s, null), 80 * 60_000)
      assert.deepStrictEqual(s.steps[2]!.approvers.map((a) => a.name), ["Grace", "Linus"])
      const md = DrillReport.toMarkdown(s)
      assert.include(md, "RTO (checkpoint clock): 1h 20m 00s vs objective 1h 30m 00s — met")
      assert.include(md, "| 1 | Declare the incident | manual | done | 30m 00s | 40m 00s | Ada | evidence: ticket=\"https://tickets.example/INC-1\" |")
    }))
})
