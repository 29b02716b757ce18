import { assert, describe, it } from "@effect/vitest"
import { verifyChain } from "../../src/core/Journal.ts"
import * as Timeline from "../../src/report/Timeline.ts"
import * as Synthetic from "../fixtures/syntheticJournal.ts"

const spec: Synthetic.Spec = {
  durationMs: 10_000,
  everyMs: 100,
  fault: { at: 2000, until: 6000 },
  outage: { from: 2000, to: 4000 },
  rpo: { everyMs: 100, lostFrom: 1500, lostTo: 2000 },
  steps: [{ id: "s1", name: "page the on-call", actor: "alice", from: 2500, to: 3500 }]
}

describe("Timeline", () => {
  it("folds faults, the RTO bracket, the RPO window and steps at the journal's times", () => {
    const { entries } = Synthetic.entries(spec)
    assert.strictEqual(verifyChain(entries), -1)
    const m = Timeline.fromEntries(entries)
    assert.strictEqual(m.experiment, "synthetic primary loss")
    assert.strictEqual(m.status, "passed")
    assert.deepStrictEqual(m.faults.map((f) => [f.fault, f.fromMs, f.toMs]), [["process.kill", 2000, 6000]])
    assert.strictEqual(m.rto!.fromMs, 2000)
    assert.strictEqual(m.rto!.detectAtMs, 2000)
    // Recovery: the first of 3 good samples after the outage, when its answer arrived.
    assert.strictEqual(m.rto!.recoveredAtMs, 4000 + 2 + (4000 % 7))
    assert.deepStrictEqual(m.steps.map((s) => [s.name, s.actor, s.fromMs, s.toMs]), [["page the on-call", "alice", 2500, 3500]])
    assert.strictEqual(m.rpo!.lostWrites, 5)
    assert.deepStrictEqual([m.rpo!.fromMs, m.rpo!.toMs], [1400, 1900])
    assert.deepStrictEqual(m.phases.map((p) => p.phase), ["before", "during", "after"])
    const lane = m.hypotheses[0]!
    assert.strictEqual(lane.bad, 20)
    assert.strictEqual(lane.buckets.reduce((a, b) => a + b.samples, 0), lane.samples)
  })

  it("keeps at most maxBuckets per hypothesis whatever the length of the run", () => {
    const { entries } = Synthetic.entries({ durationMs: 600_000, everyMs: 10, fault: { at: 60_000, until: 120_000 }, outage: { from: 60_000, to: 70_000 } })
    const m = Timeline.fromEntries(entries, { maxBuckets: 300 })
    const lane = m.hypotheses[0]!
    assert.isAtMost(lane.buckets.length, 300)
    assert.strictEqual(lane.buckets.reduce((a, b) => a + b.samples, 0), lane.samples)
    assert.strictEqual(lane.buckets.reduce((a, b) => a + b.bad, 0), 1000)
  })

  it("renders one self-contained svg with a mark per fault, step, abort and the brackets", () => {
    const { entries } = Synthetic.entries({ ...spec, abortAt: 8000 })
    const svg = Timeline.render(Timeline.fromEntries(entries), { id: "t1" })
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" id="t1"/)
    assert.notMatch(svg, /<script|href=|url\((?!#)/)
    assert.strictEqual(svg.match(/class="fault-bar"/g)?.length, 1)
    assert.strictEqual(svg.match(/class="step-bar"/g)?.length, 1)
    assert.strictEqual(svg.match(/class="abort-marker"/g)?.length, 1)
    assert.include(svg, "data-part=\"detect\"")
    assert.include(svg, "data-part=\"recover\"")
    assert.include(svg, "class=\"rpo-window\"")
    assert.include(svg, "alice")
  })

  it("a run that lost no acknowledged write marks its read-back instead of a window", () => {
    const { entries } = Synthetic.entries({ ...spec, rpo: { everyMs: 100, lostFrom: 0, lostTo: 0 } })
    const m = Timeline.fromEntries(entries)
    assert.isNull(m.rpo)
    assert.strictEqual(m.rpoReadBack!.lostWrites, 0)
    assert.isAbove(m.rpoReadBack!.ackedWrites, 0)
    assert.include(Timeline.render(m), `none of ${m.rpoReadBack!.ackedWrites} acknowledged writes lost`)
  })

  it("escapes names it draws", () => {
    const { entries } = Synthetic.entries({ ...spec, experiment: "<b>&x</b>" })
    const svg = Timeline.render(Timeline.fromEntries(entries))
    assert.notInclude(svg, "<b>")
    assert.include(svg, "&lt;b&gt;&amp;x&lt;/b&gt;")
  })
})
