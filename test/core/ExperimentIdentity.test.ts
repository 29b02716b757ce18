import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Hypothesis, Journal, Probe } from "../../src/index.ts"

// The CLI loads experiment modules and keeps only real experiments; run ids name run folders.

const h = Hypothesis.make("h", { probe: Probe.make("p", Effect.void) })

describe("Experiment.isExperiment", () => {
  it("recognises an experiment and nothing that merely looks like one", () => {
    const exp = Experiment.make({ name: "e", hypothesis: h, method: Effect.void })
    assert.isTrue(Experiment.isExperiment(exp))
    const lookalike = { name: "e", hypothesis: h, method: Effect.void }
    for (const u of [null, undefined, 0, "experiment", lookalike]) assert.isFalse(Experiment.isExperiment(u), String(u))
  })
})

describe("Experiment.makeRunId", () => {
  it.effect("is the UTC start time to the second, then six hex digits", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-03-04T05:06:07.891Z"))
      const id = yield* Experiment.makeRunId
      assert.match(id, /^20260304T050607Z-[0-9a-f]{6}$/)
    }))
})

describe("Journal.redact", () => {
  it("masks scalar values under secret-looking keys, but keeps null and nested structure", () => {
    const r: unknown = Journal.redact({ password: "hunter2", token: 12345, apiKey: null, secret: { user: "app", note: "x" } })
    assert.deepStrictEqual(r, { password: "<redacted>", token: "<redacted>", apiKey: null, secret: { user: "app", note: "x" } })
  })
})
