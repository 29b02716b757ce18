import { assert, describe, it } from "@effect/vitest"
import { exitCodeOf } from "../../src/cli/ExitCode.ts"
import { Verdict } from "../../src/index.ts"

const healthy: Verdict.Observed = {
  interrupted: false,
  dryRun: false,
  beforeMet: true,
  method: { outcome: "completed", detail: "" },
  afterMet: true,
  duringMissed: [],
  objectivesMissed: [],
  cleanupFailed: false
}

describe("Verdict.decide", () => {
  it("passed only when nothing went wrong", () => {
    assert.deepStrictEqual(Verdict.decide(healthy), {
      status: "passed",
      cleanup: "ok",
      reason: "steady state held before, during and after; objectives met"
    })
  })

  it("each finding alone gives its own status and reason", () => {
    const cases: ReadonlyArray<[Partial<Verdict.Observed>, Verdict.Status, string]> = [
      [{ interrupted: true }, "interrupted", "the run was interrupted"],
      [{ beforeMet: false }, "deviated", "steady state not met before the method; no fault injected"],
      [{ method: { outcome: "failed", detail: "docker: no such container" } }, "failed", "docker: no such container"],
      [{ method: { outcome: "aborted", detail: "manual halt" } }, "aborted", "manual halt"],
      [{ afterMet: false }, "deviated", "steady state not met after the faults were reverted"],
      [{ objectivesMissed: ["RTO 3000 ms > objective 2000 ms", "RPO 100.0 ms"] }, "deviated", "RTO 3000 ms > objective 2000 ms; RPO 100.0 ms"]
    ]
    for (const [change, status, reason] of cases) {
      const v = Verdict.decide({ ...healthy, ...change })
      assert.strictEqual(v.status, status, JSON.stringify(change))
      assert.strictEqual(v.reason, reason)
      assert.strictEqual(v.cleanup, "ok")
    }
  })

  it("a skipped method is not a failure: the hypotheses decide", () => {
    assert.strictEqual(Verdict.decide({ ...healthy, method: { outcome: "skipped", detail: "dry run" } }).status, "passed")
  })

  it("findings are ranked: interrupted, not steady before, failed, aborted, not steady after, objectives", () => {
    // Every finding at once, then the highest-ranked one removed at each step.
    const ranked: ReadonlyArray<[Partial<Verdict.Observed>, Verdict.Status]> = [
      [{ interrupted: true }, "interrupted"],
      [{ beforeMet: false }, "deviated"],
      [{ method: { outcome: "failed", detail: "boom" } }, "failed"],
      [{ method: { outcome: "aborted", detail: "halt" } }, "aborted"],
      [{ afterMet: false }, "deviated"],
      [{ objectivesMissed: ["RTO"] }, "deviated"]
    ]
    for (let i = 0; i < ranked.length; i++) {
      // Apply the lower-ranked findings first so a higher-ranked one wins the `method` field.
      const o = ranked.slice(i).reverse().reduce<Verdict.Observed>((acc, [change]) => ({ ...acc, ...change }), healthy)
      const v = Verdict.decide(o)
      assert.strictEqual(v.status, ranked[i]![1], `with findings ${i}..`)
    }
    const notSteadyBoth = Verdict.decide({ ...healthy, beforeMet: false, afterMet: false })
    assert.strictEqual(notSteadyBoth.reason, "steady state not met before the method; no fault injected")
    const afterAndObjective = Verdict.decide({ ...healthy, afterMet: false, objectivesMissed: ["RTO"] })
    assert.strictEqual(afterAndObjective.reason, "steady state not met after the faults were reverted")
  })

  it("a failed cleanup is reported apart and never changes the status", () => {
    for (const change of [{}, { interrupted: true }, { method: { outcome: "aborted" as const, detail: "halt" } }]) {
      const clean = Verdict.decide({ ...healthy, ...change })
      const dirty = Verdict.decide({ ...healthy, ...change, cleanupFailed: true })
      assert.strictEqual(dirty.cleanup, "failed")
      assert.strictEqual(dirty.status, clean.status)
      assert.strictEqual(dirty.reason, clean.reason)
    }
  })
})

describe("the CLI's exit code of a verdict", () => {
  it("0 passed or planned, 3 refused, 130 interrupted, 1 for every other status", () => {
    const codes = (["passed", "planned", "refused", "deviated", "aborted", "failed", "interrupted"] as const).map(exitCodeOf)
    assert.deepStrictEqual(codes, [0, 0, 3, 1, 1, 1, 130])
  })
})
