import { assert, describe, it } from "@effect/vitest"
import { Journal, Stopwatch, Target, Tolerance } from "../../src/index.ts"

// RTO and RPO are pure functions of the journal, so a report recomputed from journal.jsonl
// agrees with the live run. These tests build journals by hand to pin each rule down.

const entry = (event: Journal.Event, seq = 0): Journal.Entry => ({ seq, runId: "r", at: 0, mono: 0, event, prev: "", hash: "" })

const started = (options: {
  readonly stableFor?: number
  readonly from?: string | null
  readonly everyMs?: number
  readonly tolerance?: unknown
  readonly hypothesis?: string
}): Journal.Entry =>
  entry({
    _tag: "RunStarted",
    experiment: "e",
    dryRun: false,
    hypotheses: [{
      name: "serves",
      probe: "p",
      spec: {},
      everyMs: options.everyMs ?? 10,
      samples: 10,
      tolerance: options.tolerance ?? Tolerance.all()
    }],
    objectives: { rtoMs: null, rpoMs: null },
    rto: { hypothesis: options.hypothesis ?? "serves", stableFor: options.stableFor ?? 2, from: options.from ?? null },
    rpo: null,
    abort: []
  })

const target = Target.make({ kind: "memory", id: "a", name: "a" })
const injected = (fault: string, startedMono: number): Journal.Entry =>
  entry({
    _tag: "FaultInjected",
    faultId: `${fault}-1`,
    fault,
    startedMono,
    revert: { driver: "memory", fault, target, data: {} }
  })

const sample = (mono: number, ok: boolean, options?: { latencyMs?: number; value?: unknown; phase?: Journal.Phase; hypothesis?: string }) =>
  entry({
    _tag: "Sample",
    hypothesis: options?.hypothesis ?? "serves",
    phase: options?.phase ?? "during",
    sample: options?.value === undefined
      ? { at: mono, mono, ok, latencyMs: options?.latencyMs ?? 0 }
      : { at: mono, mono, ok, latencyMs: options?.latencyMs ?? 0, value: options.value }
  })

// Good at 100 and 110, bad from 120 to 140, good again from 150.
const outage = (t0: number) => [
  sample(t0 + 0, true),
  sample(t0 + 10, true),
  sample(t0 + 20, false),
  sample(t0 + 30, false),
  sample(t0 + 40, false),
  sample(t0 + 50, true),
  sample(t0 + 60, true),
  sample(t0 + 70, true)
]

describe("RTO from the journal", () => {
  it("is absent without a RunStarted or without an RTO stopwatch", () => {
    assert.isNull(Stopwatch.computeRto([]))
    const noRto = started({})
    const withoutRto = { ...noRto, event: { ...noRto.event, rto: null } } as Journal.Entry
    assert.isNull(Stopwatch.computeRto([withoutRto, injected("kill", 100), ...outage(100)]))
  })

  it("runs from the injection to the answer of the first of stableFor good samples after the outage", () => {
    const r = Stopwatch.computeRto([started({ stableFor: 2 }), injected("kill", 100), ...outage(100)])!
    assert.deepStrictEqual(r, { measuredMs: 50, detectMs: 20, recoverMs: 30, resolutionMs: 10, outageObserved: true })
  })

  it("counts recovery from when the good answer arrived, not when the probe was sent", () => {
    const samples = outage(100).map((e, i) => i === 5 ? sample(150, true, { latencyMs: 7 }) : e)
    const r = Stopwatch.computeRto([started({ stableFor: 2 }), injected("kill", 100), ...samples])!
    assert.strictEqual(r.measuredMs, 57)
    assert.strictEqual(r.recoverMs, 37)
  })

  it("needs stableFor consecutive good samples: a bad one in between starts the count again", () => {
    const flapping = [
      sample(110, false),
      sample(120, true),
      sample(130, false),
      sample(140, true),
      sample(150, true),
      sample(160, true)
    ]
    const r = Stopwatch.computeRto([started({ stableFor: 3 }), injected("kill", 100), ...flapping])!
    assert.strictEqual(r.measuredMs, 40)
    assert.strictEqual(r.detectMs, 10)
    // Exactly stableFor good samples after the last bad one were enough; one fewer is not.
    const tooFew = Stopwatch.computeRto([started({ stableFor: 3 }), injected("kill", 100), ...flapping.slice(0, 5)])!
    assert.isNull(tooFew.measuredMs)
  })

  it("never recovered: the outage is seen, the RTO and recovery time are unknown", () => {
    const r = Stopwatch.computeRto([started({ stableFor: 2 }), injected("kill", 100), sample(110, true), sample(120, false), sample(130, false)])!
    assert.deepStrictEqual(r, { measuredMs: null, detectMs: 20, recoverMs: null, resolutionMs: 10, outageObserved: true })
  })

  it("no bad sample: an RTO of 0 and no outage observed", () => {
    const r = Stopwatch.computeRto([started({}), injected("kill", 100), sample(110, true), sample(120, true)])!
    assert.deepStrictEqual(r, { measuredMs: 0, detectMs: null, recoverMs: 0, resolutionMs: 10, outageObserved: false })
  })

  it("no injection: nothing measured, and the resolution is the hypothesis interval", () => {
    const r = Stopwatch.computeRto([started({ everyMs: 25 }), ...outage(100)])!
    assert.deepStrictEqual(r, { measuredMs: null, detectMs: null, recoverMs: null, resolutionMs: 25, outageObserved: false })
  })

  it("with `from`, measures from the injection of that fault, not the first one", () => {
    const entries = [started({ from: "partition", stableFor: 2 }), injected("kill", 60), injected("partition", 100), ...outage(100)]
    assert.strictEqual(Stopwatch.computeRto(entries)!.measuredMs, 50)
    const fromFirst = [started({ stableFor: 2 }), injected("kill", 60), injected("partition", 100), ...outage(100)]
    assert.strictEqual(Stopwatch.computeRto(fromFirst)!.measuredMs, 90)
  })

  it("ignores samples before the injection, of the before phase, and of other hypotheses", () => {
    const noise = [
      sample(50, false),
      sample(105, false, { phase: "before" }),
      sample(106, false, { hypothesis: "other" })
    ]
    const r = Stopwatch.computeRto([started({ stableFor: 2 }), injected("kill", 100), ...noise, ...outage(100)])!
    assert.strictEqual(r.detectMs, 20)
    assert.strictEqual(r.measuredMs, 50)
  })

  it("orders samples by the instant they were sent, not by journal order", () => {
    const shuffled = [...outage(100)].reverse()
    const r = Stopwatch.computeRto([started({ stableFor: 2 }), injected("kill", 100), ...shuffled])!
    assert.strictEqual(r.detectMs, 20)
    assert.strictEqual(r.measuredMs, 50)
  })

  it("judges samples by the journaled tolerance; a predicate, which the journal cannot hold, by the probe's success", () => {
    const values = [
      sample(110, true, { value: "up" }),
      sample(120, true, { value: "down" }),
      sample(130, true, { value: "up" }),
      sample(140, true, { value: "up" })
    ]
    const exact = Stopwatch.computeRto([started({ tolerance: Tolerance.exact("up") }), injected("kill", 100), ...values])!
    assert.strictEqual(exact.detectMs, 20)
    assert.strictEqual(exact.measuredMs, 30)
    const nested = Stopwatch.computeRto([started({ tolerance: Tolerance.all(Tolerance.exact("up")) }), injected("kill", 100), ...values])!
    assert.strictEqual(nested.detectMs, 20)
    // As journaled: the predicate's function is gone, only its tag and name remain.
    const predicate = { _tag: "Predicate", name: "never" }
    const byOk = Stopwatch.computeRto([started({ tolerance: predicate }), injected("kill", 100), ...values])!
    assert.isFalse(byOk.outageObserved)
    const nestedPredicate = Stopwatch.computeRto([started({ tolerance: { _tag: "All", of: [predicate] } }), injected("kill", 100), ...values])!
    assert.isFalse(nestedPredicate.outageObserved)
  })

  it("an RTO stopwatch on a hypothesis the run does not have judges on success at a resolution of 0", () => {
    const r = Stopwatch.computeRto([
      started({ hypothesis: "missing", stableFor: 1 }),
      injected("kill", 100),
      sample(110, false, { hypothesis: "missing" }),
      sample(120, true, { hypothesis: "missing" })
    ])!
    assert.deepStrictEqual(r, { measuredMs: 20, detectMs: 10, recoverMs: 10, resolutionMs: 0, outageObserved: true })
  })
})

const ack = (seq: number, mono: number) => entry({ _tag: "HeartbeatAck", seq, mono })
const readBack = (surviving: ReadonlyArray<number>, checked: number) => entry({ _tag: "HeartbeatReadBack", checked, surviving: [...surviving] })

describe("RPO from the journal", () => {
  it("is absent until the writes were read back", () => {
    assert.isNull(Stopwatch.computeRpo([ack(1, 10), ack(2, 20)]))
  })

  it("nothing lost: every acknowledged write counted, a window of 0", () => {
    const r = Stopwatch.computeRpo([ack(1, 10), ack(2, 20), readBack([1, 2], 2)])!
    assert.deepStrictEqual(r, { ackedWrites: 2, lostWrites: 0, windowMs: 0, lostSeqs: [] })
  })

  it("the window runs from the last surviving write before the first lost one to the last lost one", () => {
    const acks = [ack(1, 10), ack(2, 20), ack(3, 30), ack(4, 40), ack(5, 50), ack(6, 60)]
    // 3 and 5 lost; 4 survived in between but does not shorten the window.
    const r = Stopwatch.computeRpo([...acks, readBack([1, 2, 4, 6], 6)])!
    assert.deepStrictEqual(r, { ackedWrites: 6, lostWrites: 2, windowMs: 30, lostSeqs: [3, 5] })
  })

  it("when the first write is lost, the window starts at that write", () => {
    const r = Stopwatch.computeRpo([ack(1, 10), ack(2, 25), ack(3, 45), readBack([3], 3)])!
    assert.deepStrictEqual(r, { ackedWrites: 3, lostWrites: 2, windowMs: 15, lostSeqs: [1, 2] })
  })
})
