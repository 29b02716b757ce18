// An end-to-end test as a project that uses faultline writes it: a real process, a real
// probe, a real pause. docs/testing.md shows this file verbatim (test/docs/docs.test.ts checks it).
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Abort, Experiment, Fault, Hypothesis, Ledger, Probe, Process, Runner, Selector, Stopwatch, Tolerance } from "faultline"

// The service under test: faultline's example KV store. Put your own here.
const KV = ["examples/kv-failover/kv.mjs", "--port", "0", "--parent-pid", String(process.pid)]

// What the experiment needs: the process driver (it spawns through NodeServices) and a
// ledger. Ledger.layerMemory keeps the write-ahead ledger in memory; FileLedger.layer({ dir })
// instead also lets a watchdog revert the faults if this test process dies mid-run.
const TestLayer = Layer.mergeAll(Process.ProcessDriver.layer, Ledger.layerMemory).pipe(Layer.provide(NodeServices.layer))

const kvPause = Effect.gen(function*() {
  const processes = yield* Process.ProcessDriver
  const kv = yield* processes.start({ name: "kv", command: process.execPath, args: KV, ready: "LISTENING (\\d+)" })
  const url = `http://127.0.0.1:${kv.readyMatch}`
  const serves = Hypothesis.make("kv serves", {
    probe: Probe.http(`${url}/health`, { timeout: "500 millis" }),
    every: "10 millis",
    // 100 samples before and after: with 95 % confidence, 40 would have to be all good.
    samples: 100,
    tolerance: Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 })
  })
  // RPO: write sequence numbers, then read back which acknowledged ones survived.
  const writes = Stopwatch.heartbeat({
    every: "20 millis",
    write: (seq) => Probe.request(`${url}/kv/hb-${seq}`, { method: "PUT", body: String(seq), timeout: "200 millis" }),
    readBack: (acked) =>
      Effect.forEach(acked, (seq) => Probe.request(`${url}/kv/hb-${seq}`), { concurrency: 16 }).pipe(
        Effect.map((rs) => acked.filter((seq, i) => rs[i]!.body === String(seq)))
      )
  })
  return Experiment.make({
    name: "kv pause",
    hypothesis: serves,
    method: Effect.gen(function*() {
      yield* Fault.inject(Process.pause({ target: Selector.name("kv") }))
      yield* Effect.sleep("1 second")
    }),
    abort: [Abort.maxDuration("30 seconds")],
    stopwatches: { rto: Stopwatch.rto(serves, { stableFor: 5 }), rpo: writes },
    objectives: { rto: "3 seconds", rpo: "500 millis" }
  })
})

describe("kv pause", () => {
  it.live("recovers within its RTO and loses no acknowledged write", () =>
    Effect.gen(function*() {
      const experiment = yield* kvPause
      // Runner.run writes journal.jsonl, report.json and report.md to <out>/<run id>/.
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-test-"))
      const { result, report, dir } = yield* Runner.run(experiment, { out })

      assert.strictEqual(result.verdict.status, "passed", result.verdict.reason)
      assert.strictEqual(result.verdict.cleanup, "ok")
      // RTO: from the injection to the first of 5 good samples after the outage, to within
      // one probe interval (resolutionMs). The pause lasted 1 s, so the outage did too.
      assert.isTrue(report.rto !== null && report.rto.outageObserved)
      assert.isAtLeast(report.rto!.measuredMs!, 1000 - report.rto!.resolutionMs)
      // RPO: acknowledged writes that did not survive. A pause loses none.
      assert.isAbove(report.rpo!.ackedWrites, 0)
      assert.strictEqual(report.rpo!.lostWrites, 0)
      for (const file of ["journal.jsonl", "report.json", "report.md"]) assert.isTrue(fs.existsSync(path.join(dir, file)))
      fs.rmSync(out, { recursive: true, force: true })
    }).pipe(Effect.provide(TestLayer)), 60_000)
})
