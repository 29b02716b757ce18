import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Fault, Hypothesis, Report, Runner, Selector, Stopwatch } from "../../src/index.ts"
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
      assert.deepStrictEqual(fs.readdirSync(o.dir).sort(), ["journal.jsonl", "report.json", "report.md"])
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
})
