/**
 * Write-ahead: when a driver's `inject` (or `injectBatch`) is called, the ledger already
 * holds an `intent` record for that fault on that target. The check is made by the driver
 * itself, at the moment it is called, against the in-memory ledger and against the file
 * ledger read back from disk — so an intent written after the injection fails here.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import type { Driver } from "../../src/core/Driver.ts"
import * as Ledger from "../../src/core/Ledger.ts"
import { Experiment, Fault, Hypothesis, Probe, Selector, Target, Tolerance } from "../../src/index.ts"
import * as FileLedger from "../../src/run/FileLedger.ts"

/** What the ledger held, as the test driver saw it when it was asked to inject. */
interface Seen {
  readonly target: string
  /** States of the ledger records for this fault's target at inject time. */
  readonly states: ReadonlyArray<string>
}

/** The ledger as the test driver can read it at inject time. */
type LedgerView = (runId: string) => Effect.Effect<ReadonlyArray<{ readonly target: Target.Target; readonly state: string; readonly fault: string }>>

// A test driver that records, at the moment `inject`/`injectBatch` is called, which ledger
// records exist for the target. `batch` chooses whether it offers `injectBatch`.
class WriteAheadTestDriver extends Context.Service<WriteAheadTestDriver, Driver & { readonly seen: Array<Seen> }>()(
  "test/WriteAheadTestDriver"
) {}

const driverKey = WriteAheadTestDriver as unknown as Context.Key<WriteAheadTestDriver, Driver>

class Touch extends Schema.TaggedClass<Touch>()("test.touch", { target: Selector.Selector }) {
  get driver() {
    return driverKey
  }
}

const targets = ["a", "b", "c"].map((name, i) => Target.make({ kind: "wa-test", id: String(i + 1), name }))

const testDriverLayer = (options: { readonly batch: boolean; readonly view: LedgerView; readonly runId: string }) =>
  Layer.sync(WriteAheadTestDriver, () => {
    const seen: Array<Seen> = []
    const observe = (target: Target.Target) =>
      Effect.gen(function*() {
        const records = yield* options.view(options.runId)
        const mine = records.filter((r) => Target.key(r.target) === Target.key(target) && r.fault === "test.touch")
        seen.push({ target: target.name, states: mine.map((r) => r.state) })
      })
    const base: Driver & { seen: Array<Seen> } = {
      name: "wa-test",
      seen,
      discover: () => Effect.succeed(targets),
      inject: (_fault, target) => Effect.as(observe(target), { name: target.name }),
      revert: () => Effect.void
    }
    return WriteAheadTestDriver.of(
      options.batch
        ? {
          ...base,
          injectBatch: (_fault, ts) => Effect.as(Effect.forEach(ts, observe, { discard: true }), ts.map((t) => ({ name: t.name })))
        }
        : base
    )
  })

// Every sample must be good (an empty conjunction); a short window keeps the run small.
const ok = Hypothesis.make("ok", { probe: Probe.make("ok", Effect.succeed(1)), every: "10 millis", samples: 3, tolerance: Tolerance.all() })

const experiment = Experiment.make({
  name: "write-ahead",
  hypothesis: ok,
  method: Effect.andThen(Fault.inject(new Touch({ target: Selector.name("a", "b", "c") })), Effect.sleep("100 millis"))
})

const runIt = (options: Experiment.RunOptions) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Experiment.run(experiment, options))
    yield* TestClock.adjust("1 minute")
    return yield* Fiber.join(fiber)
  })

const assertIntentBeforeEachInjection = (seen: ReadonlyArray<Seen>, r: Experiment.RunResult) => {
  assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
  assert.deepStrictEqual(seen.map((s) => s.target), ["a", "b", "c"])
  for (const s of seen) assert.deepStrictEqual(s.states, ["intent"], `ledger records for ${s.target} when the driver injected it`)
}

// The in-memory ledger, read through its `open` view.
const memoryView = (ledger: Ledger.Ledger["Service"]): LedgerView => () => ledger.open

// The file ledger, read from the run's file on disk (what the watchdog would see).
const fileView = (dir: string): LedgerView => (runId) => Effect.sync(() => FileLedger.readRun(dir, runId)?.faults ?? [])

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "faultline-write-ahead-"))

describe("write-ahead: the intent is in the ledger before the driver is called", () => {
  for (const batch of [false, true]) {
    const how = batch ? "injectBatch" : "inject"

    it.effect(`in-memory ledger, ${how}`, () =>
      Effect.gen(function*() {
        const ledger = yield* Ledger.makeMemory
        const runId = `mem-${how}`
        const [r, seen] = yield* Effect.gen(function*() {
          const r = yield* runIt({ runId, ledger })
          const d = yield* WriteAheadTestDriver
          return [r, d.seen] as const
        }).pipe(Effect.provide(testDriverLayer({ batch, view: memoryView(ledger), runId })))
        assertIntentBeforeEachInjection(seen, r)
      }))

    it.effect(`file ledger read from disk, ${how}`, () =>
      Effect.gen(function*() {
        const dir = tmp()
        const runId = `file-${how}`
        const [r, seen] = yield* Effect.gen(function*() {
          const r = yield* runIt({ runId })
          const d = yield* WriteAheadTestDriver
          return [r, d.seen] as const
        }).pipe(
          Effect.provide(Layer.merge(testDriverLayer({ batch, view: fileView(dir), runId }), FileLedger.layer({ dir, watchdog: false })))
        )
        assertIntentBeforeEachInjection(seen, r)
        // And the file ends as it should: every intent injected and closed.
        const run = FileLedger.readRun(dir, runId)!
        assert.deepStrictEqual(run.faults.map((f) => f.state), ["closed", "closed", "closed"])
      }))
  }
})
