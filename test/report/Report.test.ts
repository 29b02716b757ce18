import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { createRequire } from "node:module"
import { TestClock } from "effect/testing"
import { Abort, Experiment, Fault, Guard, Hypothesis, Report, Runner, Selector, Stopwatch, Tolerance } from "../../src/index.ts"
import * as FileJournal from "../../src/run/FileJournal.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

describe("Report", () => {
  it.effect("the report rebuilt from journal.jsonl equals the one written at the end of the run", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-report-"))
      const h = Hypothesis.make("healthy", { probe: healthy(), every: "10 millis" })
      const exp = Experiment.make({
        name: "report roundtrip",
        hypothesis: h,
        method: Effect.gen(function*() {
          const [inj] = yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("300 millis")
          yield* Fault.revert(inj!)
          yield* Effect.sleep("200 millis")
        }),
        stopwatches: { rto: Stopwatch.rto(h) },
        objectives: { rto: "1 second" }
      })
      const fiber = yield* Effect.forkChild(Runner.run(exp, { out, runId: "r1" }))
      yield* TestClock.adjust("1 minute")
      const o = yield* Fiber.join(fiber)
      assert.deepStrictEqual(fs.readdirSync(o.dir).sort(), ["journal.jsonl", "report.html", "report.json", "report.md"])
      const written = JSON.parse(fs.readFileSync(path.join(o.dir, "report.json"), "utf8"))
      const entries = yield* FileJournal.readFile(path.join(o.dir, "journal.jsonl")).pipe(Effect.provide(NodeFileSystem.layer))
      assert.deepStrictEqual(Report.fromJournal(entries), written)
      assert.strictEqual(written.status, "passed")
      assert.strictEqual(written.rto.measuredMs, 300)
      assert.strictEqual(written.rto.met, true)
      assert.strictEqual(written.faults.length, 1)
      assert.isString(written.faults[0].revertedAt)
      assert.include(fs.readFileSync(path.join(o.dir, "report.md"), "utf8"), "report roundtrip — PASSED")
      fs.rmSync(out, { recursive: true, force: true })
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }] }))))

  // A run of the memory driver: one fault in place for 300 ms, an RTO objective, a guard and
  // an abort condition, so that every part of the definition has something to say.
  const definedRun = (out: string, runId: string) =>
    Effect.gen(function*() {
      const h = Hypothesis.make("healthy", {
        probe: healthy(),
        every: "10 millis",
        samples: 5,
        tolerance: Tolerance.successRatio({ atLeast: 0.5, confidence: 0.95 })
      })
      const exp = Experiment.make({
        name: "who what where",
        description: "breaks target a for 300 ms",
        hypothesis: h,
        method: Effect.gen(function*() {
          const [inj] = yield* Fault.inject(breakTargets(Selector.name("a")))
          yield* Effect.sleep("300 millis")
          yield* Fault.revert(inj!)
          yield* Effect.sleep("200 millis")
        }),
        abort: [Abort.maxDuration("1 minute")],
        guards: [Guard.maxTargets(3), Guard.allowLabel("chaos", "yes")],
        stopwatches: { rto: Stopwatch.rto(h) },
        objectives: { rto: "1 second" }
      })
      const fiber = yield* Effect.forkChild(Runner.run(exp, { out, runId }))
      yield* TestClock.adjust("1 minute")
      return yield* Fiber.join(fiber)
    }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a", labels: { chaos: "yes" } }] })))

  it.effect("report.json and report.md say who ran what, where, and for how long each fault was in place", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-report-"))
      const o = yield* definedRun(out, "r-who")
      const r = JSON.parse(fs.readFileSync(path.join(o.dir, "report.json"), "utf8"))
      const pkg = createRequire(import.meta.url)("../../package.json") as { version: string }
      assert.deepStrictEqual(r.environment, {
        faultline: pkg.version,
        host: os.hostname(),
        user: os.userInfo().username,
        platform: `${process.platform} ${process.arch}`,
        node: process.versions.node
      })
      assert.strictEqual(r.method.outcome, "completed", r.reason)
      assert.strictEqual(r.description, "breaks target a for 300 ms")
      assert.deepStrictEqual(r.definition.hypotheses, [{
        name: "healthy",
        probe: "memory healthy *",
        everyMs: 10,
        samples: 5,
        tolerance: { _tag: "SuccessRatio", atLeast: 0.5, confidence: 0.95 },
        during: "counts"
      }])
      assert.deepStrictEqual(r.definition.abort, ["maxDuration(1m)"])
      assert.deepStrictEqual(r.definition.guards, [
        { name: "maxTargets(3)", spec: { _tag: "MaxTargets", n: 3 } },
        { name: "allowLabel(chaos=yes)", spec: { _tag: "AllowLabel", key: "chaos", value: "yes" } }
      ])
      assert.deepStrictEqual(r.definition.objectives, { rtoMs: 1000, rpoMs: null })
      assert.strictEqual(r.hypothesis.healthy.duringMode, "counts")
      // The fault was reverted by the method 300 ms (TestClock) after it landed.
      assert.strictEqual(r.faults[0].durationMs, 300)
      assert.strictEqual(r.complete, true)
      const md = fs.readFileSync(path.join(o.dir, "report.md"), "utf8")
      assert.include(md, "breaks target a for 300 ms")
      assert.include(md, `${os.userInfo().username} on ${os.hostname()}`)
      assert.include(md, `faultline ${pkg.version}`)
      assert.include(md, "| 300 ms |")
      assert.include(md, "maxTargets(3); allowLabel(chaos=yes)")
      assert.include(md, "SuccessRatio (atLeast 0.5, confidence 0.95)")
      assert.include(md, "maxDuration(1m)")
      assert.match(md, /\| healthy \| met \(\d+\/\d+\) \| (met|NOT met) \(\d+\/\d+\), counts \|/)
      // Booleans are words: no bare true/false anywhere a person reads.
      assert.notMatch(md, /\|\s*(true|false)\s*\|/)
      assert.match(md, /\| RTO \| .* \| 1000 ms \| met \|/)
      // No environment value is recorded: the journal names no variable of this process.
      const journal = fs.readFileSync(path.join(o.dir, "journal.jsonl"), "utf8")
      for (const [k, v] of Object.entries(process.env)) {
        if (v !== undefined && v.length >= 12 && !/^\/|^[\w.-]+$/.test(v)) assert.notInclude(journal, v, k)
      }
      fs.rmSync(out, { recursive: true, force: true })
    }))

  it("a journal written before the environment and definition were journaled still gives a report", () => {
    const entries = [{
      seq: 0,
      runId: "old",
      at: 0,
      mono: 0,
      prev: "",
      hash: "h0",
      event: {
        _tag: "RunStarted" as const,
        experiment: "old",
        dryRun: false,
        objectives: { rtoMs: null, rpoMs: null },
        rto: null,
        rpo: null,
        abort: [],
        hypotheses: [{ name: "h", probe: "p", spec: {}, everyMs: 10, samples: 3, tolerance: { _tag: "Exact", value: 1 } }]
      }
    }, {
      seq: 1,
      runId: "old",
      at: 5,
      mono: 5,
      prev: "h0",
      hash: "h1",
      event: { _tag: "RunEnded" as const, status: "passed" as const, cleanup: "ok" as const, reason: "ok" }
    }]
    const r = Report.fromJournal(entries)
    assert.isNull(r.environment)
    assert.strictEqual(r.description, "")
    assert.isNull(r.definition!.guards)
    assert.strictEqual(r.hypothesis.h!.duringMode, "counts")
    assert.include(Report.toMarkdown(r), "guards: — (not journaled)")
  })

  it("a hypothesis whose during is only observed says so in both reports", () => {
    const started = (during: unknown) => ({
      seq: 0,
      runId: "o",
      at: 0,
      mono: 0,
      prev: "",
      hash: "h0",
      event: {
        _tag: "RunStarted" as const,
        experiment: "observe",
        dryRun: false,
        objectives: { rtoMs: null, rpoMs: null },
        rto: null,
        rpo: null,
        abort: [],
        hypotheses: [{ name: "h", probe: "p", spec: {}, everyMs: 10, samples: 3, tolerance: { _tag: "Exact", value: 1 }, during }]
      }
    })
    const checked = {
      seq: 1,
      runId: "o",
      at: 1,
      mono: 1,
      prev: "h0",
      hash: "h1",
      event: { _tag: "HypothesisChecked" as const, hypothesis: "h", phase: "during" as const, met: false, samples: 41, good: 0, details: [] }
    }
    for (const during of ["observe", { mode: "observe" }, { _tag: "Observe" }]) {
      const r = Report.fromJournal([started(during), checked])
      assert.strictEqual(r.hypothesis.h!.duringMode, "observed only", JSON.stringify(during))
      assert.strictEqual(r.definition!.hypotheses[0]!.during, "observed only")
      assert.include(Report.toMarkdown(r), "| NOT met (0/41), observed only |")
    }
    const counted = Report.fromJournal([started({ _tag: "SuccessRatio", atLeast: 0.5, confidence: 0.9 }), checked])
    assert.include(Report.toMarkdown(counted), "| NOT met (0/41), counts |")
  })

  it.effect("a journal cut before RunEnded is reported incomplete, with its last line", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-report-"))
      const o = yield* definedRun(out, "r-cut")
      const file = path.join(o.dir, "journal.jsonl")
      const lines = fs.readFileSync(file, "utf8").trim().split("\n")
      // The runner died just before the verdict: everything but the last line survives.
      fs.writeFileSync(file, lines.slice(0, -1).join("\n") + "\n")
      const r = yield* FileJournal.fold(file, Report.fold()).pipe(Effect.provide(NodeFileSystem.layer))
      assert.strictEqual(r.complete, false)
      assert.strictEqual(r.lastLine, lines.length - 1)
      assert.include(r.reason, `line ${lines.length - 1}`)
      const md = Report.toMarkdown(r)
      assert.strictEqual(md.split("\n")[0], "# who what where — INCOMPLETE")
      assert.include(md, `ends at line ${lines.length - 1} without \`RunEnded\``)
      fs.rmSync(out, { recursive: true, force: true })
    }))

  it.effect("a torn last line ends the journal for foldUpToTornTail, and fails fold", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-report-"))
      const o = yield* definedRun(out, "r-torn")
      const file = path.join(o.dir, "journal.jsonl")
      const lines = fs.readFileSync(file, "utf8").trim().split("\n")
      fs.writeFileSync(file, lines.slice(0, -1).join("\n") + "\n" + lines.at(-1)!.slice(0, 40))
      const { result, torn } = yield* FileJournal.foldUpToTornTail(file, Report.fold()).pipe(Effect.provide(NodeFileSystem.layer))
      assert.strictEqual(torn?.line, lines.length)
      assert.strictEqual(result.complete, false)
      assert.strictEqual(result.lastLine, lines.length - 1)
      const strict = yield* Effect.flip(FileJournal.fold(file, Report.fold())).pipe(Effect.provide(NodeFileSystem.layer))
      assert.strictEqual(strict.line, lines.length)
      // Only the last line may be torn: a bad line with lines after it still fails.
      fs.writeFileSync(file, [...lines.slice(0, 2), "garbage", ...lines.slice(2)].join("\n") + "\n")
      const middle = yield* Effect.flip(FileJournal.foldUpToTornTail(file, Report.fold())).pipe(Effect.provide(NodeFileSystem.layer))
      assert.strictEqual(middle.line, 3)
      fs.rmSync(out, { recursive: true, force: true })
    }))
})
