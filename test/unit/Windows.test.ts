import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Fault, Hypothesis, type Journal, Probe, Report, Runner, Selector, Stopwatch, Tolerance, Windows } from "../../src/index.ts"
import * as FileJournal from "../../src/run/FileJournal.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const sample = (mono: number, ok: boolean, latencyMs = 1): Probe.Sample =>
  ok ? { at: mono, mono, ok, latencyMs } : { at: mono, mono, ok, latencyMs, error: "down" }

// Journal entries with only the fields the folds read; the chain is not under test here.
let seq = 0
const entry = (mono: number, event: Journal.Event): Journal.Entry => ({ seq: seq++, runId: "r", at: mono, mono, event, prev: "", hash: "" })
const started = (rto: { hypothesis: string; stableFor: number } | null): Journal.Entry =>
  entry(0, {
    _tag: "RunStarted",
    experiment: "x",
    dryRun: false,
    hypotheses: [{ name: "h", probe: "p", spec: {}, everyMs: 10, samples: 1, tolerance: { _tag: "All", of: [] } }],
    objectives: { rtoMs: null, rpoMs: null },
    rto: rto === null ? null : { ...rto, from: null },
    rpo: null,
    abort: []
  })
const target = { kind: "memory", id: "1", name: "a", labels: {} } as any
const during = (mono: number, ok: boolean, journaledAt = mono) =>
  entry(journaledAt, { _tag: "Sample", hypothesis: "h", phase: "during", sample: sample(mono, ok) })

describe("Tolerance.accumulate", () => {
  it("judges like Tolerance.judge over the same samples while the window is small", () => {
    const t = Tolerance.all(Tolerance.successRatio({ atLeast: 0.8 }), Tolerance.latency({ p90: "5 millis" }))
    const samples = Array.from({ length: 200 }, (_, i) => sample(i, i % 7 !== 0, (i * 37) % 11))
    const acc = Tolerance.accumulate(t)
    samples.forEach(acc.add)
    assert.deepStrictEqual(acc.judge(), Tolerance.judge(t, samples))
  })

  it("beyond EXACT_LATENCIES reports a percentile no lower than the true one and within 0.1 %", () => {
    const t = Tolerance.latency({ p99: "1 second" })
    const acc = Tolerance.accumulate(t)
    const n = Tolerance.EXACT_LATENCIES * 3
    const values: Array<number> = []
    for (let i = 0; i < n; i++) {
      const v = 1 + ((i * 7919) % 100_000) / 1000
      values.push(v)
      acc.add(sample(i, true, v))
    }
    const truth = Tolerance.percentile(values, 99)
    const j = acc.judge()
    const shown = Number(/<= ([\d.]+) \(0\.1 % buckets\)/.exec(j.details[0]!)![1])
    assert.isAtLeast(shown, Math.floor(truth * 100) / 100)
    assert.isAtMost(shown, truth * 1.001 + 0.01)
    assert.strictEqual(j.samples, n)
    assert.isTrue(j.met)
  })
})

describe("Windows", () => {
  it("keeps only the retained span of recent samples, and counts what a full scan counts", () => {
    const h = Hypothesis.make("h", { probe: Probe.make("p", Effect.succeed(1)), every: "10 millis" })
    const w = Windows.make([h])
    w.retain("h", 1000)
    const all: Array<Journal.Entry> = []
    for (let i = 0; i < 100_000; i++) {
      // Answers arrive up to 50 ms late and out of order.
      const e = during(i * 10, i % 13 !== 0, i * 10 + (i % 5) * 10)
      all.push(e)
      w.observe(e)
    }
    const now = all.at(-1)!.mono
    const recent = w.recent("h")
    assert.isBelow(recent.length, 2 * 1024 + 200)
    // The breach scan (newest first, stop at the first sample older than the window) counts the same.
    const scan = (samples: ReadonlyArray<Probe.Sample>) => {
      let n = 0
      for (let i = samples.length - 1; i >= 0 && samples[i]!.mono >= now - 1000; i--) n++
      return n
    }
    const full = all.map((e) => (e.event as Extract<Journal.Event, { _tag: "Sample" }>).sample)
    assert.strictEqual(scan(recent), scan(full))
    assert.deepStrictEqual(w.during(h), Tolerance.judge(h.tolerance, full))
  })
})

// The RTO as defined before it became a fold: every sample in memory, sorted by send time.
const reference = (entries: ReadonlyArray<Journal.Entry>, stableFor: number) => {
  const t0 = (entries.find((e) => e.event._tag === "FaultInjected")!.event as any).startedMono as number
  const samples = entries.flatMap((e) => e.event._tag === "Sample" && e.event.sample.mono >= t0 ? [e.event.sample] : [])
    .sort((a, b) => a.mono - b.mono)
  const firstBad = samples.findIndex((x) => !x.ok)
  const detect = samples[firstBad]!.mono
  let run = 0
  for (let i = firstBad + 1; i < samples.length; i++) {
    run = samples[i]!.ok ? run + 1 : 0
    if (run === stableFor) {
      const first = samples[i - stableFor + 1]!
      const rec = first.mono + first.latencyMs
      return { measuredMs: rec - t0, detectMs: detect - t0, recoverMs: rec - detect, resolutionMs: 10, outageObserved: true }
    }
  }
  return null
}

describe("Stopwatch.rtoFold", () => {
  const injected = (mono: number) => [
    entry(mono, { _tag: "FaultInjecting", faultId: "f1", fault: "memory.break", spec: {}, target }),
    entry(mono, {
      _tag: "FaultInjected",
      faultId: "f1",
      fault: "memory.break",
      startedMono: mono,
      revert: { driver: "memory", fault: "memory.break", target, data: {} }
    })
  ]

  it("gives the answer of the in-memory definition on a three-hour run", () => {
    const entries: Array<Journal.Entry> = [started({ hypothesis: "h", stableFor: 5 }), ...injected(1000)]
    // 3 hours at 10 ms: an outage from 1 h to 1 h + 2 s, answers journaled 20 ms late.
    for (let t = 1000; t < 3 * 3600_000; t += 10) {
      const down = t >= 3600_000 && t < 3600_000 + 2000
      entries.push(during(t, !down, t + 20))
    }
    const fold = Stopwatch.rtoFold()
    entries.forEach(fold.step)
    const r = fold.result()!
    assert.strictEqual(r.measuredMs, 3600_000 + 2000 + 1 - 1000)
    assert.strictEqual(r.detectMs, 3600_000 - 1000)
    assert.isTrue(r.outageObserved)
    assert.deepStrictEqual(r, reference(entries, 5))
  })

  it("a bad sample journaled late still moves the outage's start", () => {
    const fold = Stopwatch.rtoFold()
    const entries = [started({ hypothesis: "h", stableFor: 2 }), ...injected(0)]
    for (let t = 0; t < 20 * 60_000; t += 10) entries.push(during(t, !(t >= 700_000 && t < 700_050)))
    // A probe sent at 699,000 ms that failed, answered 40 s later.
    entries.push(during(699_000, false, 739_000))
    entries.forEach(fold.step)
    assert.strictEqual(fold.result()!.detectMs, 699_000)
    assert.deepStrictEqual(fold.result(), reference(entries, 2))
  })
})

describe("Runner on a long-ish run", () => {
  it.effect("keeps no entries, and its report equals the one folded from the file and the one from all entries", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-windows-"))
      const h = Hypothesis.make("healthy", { probe: healthy(["a"]), every: "10 millis" })
      const exp = Experiment.make({
        name: "three minutes",
        hypothesis: h,
        method: Effect.gen(function*() {
          const [inj] = yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("1 second")
          yield* Fault.revert(inj!)
          yield* Effect.sleep("3 minutes")
        }),
        stopwatches: { rto: Stopwatch.rto(h) },
        objectives: { rto: "2 seconds" }
      })
      const fiber = yield* Effect.forkChild(Runner.run(exp, { out, runId: "r" }))
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("1 minute")
      const o = yield* Fiber.join(fiber)
      assert.strictEqual(o.result.entries.length, 0)
      const file = path.join(o.dir, "journal.jsonl")
      const folded = yield* FileJournal.fold(file, Report.fold())
      const all = yield* FileJournal.readFile(file)
      assert.isAbove(all.length, 15_000)
      assert.deepStrictEqual(folded, o.report)
      assert.deepStrictEqual(Report.fromJournal(all), o.report)
      assert.strictEqual(o.report.status, "passed")
      assert.strictEqual(o.report.rto!.measuredMs, 1000)
      fs.rmSync(out, { recursive: true, force: true })
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }] })), Effect.provide(NodeFileSystem.layer)))

  it.effect("FileJournal.fold refuses an edited line, naming it", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-fold-"))
      const file = path.join(dir, "journal.jsonl")
      yield* Effect.scoped(Effect.gen(function*() {
        const j = yield* FileJournal.make({ runId: "r", file, retain: false })
        for (let i = 0; i < 5; i++) yield* j.append({ _tag: "Note", message: `note ${i}` })
        assert.strictEqual(j.snapshot().length, 0)
      }))
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("note 3", "note X"))
      const e = yield* Effect.flip(FileJournal.fold(file, Report.fold()))
      assert.strictEqual(e.line, 4)
      assert.include(e.problem, "hash chain")
      fs.rmSync(dir, { recursive: true, force: true })
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
