// Pause a KV service for one second and measure how fast it serves again.
// Run: npx faultline run experiments/pause-kv.ts (`setup` starts the service; plan and --dry-run never run it)
import { Effect } from "effect"
import { Abort, Experiment, Fault, Hypothesis, Probe, Process, Selector, Stopwatch, Tolerance } from "faultline"

let port = "0"
export const setup = Effect.gen(function*() {
  const processes = yield* Process.ProcessDriver
  const kv = yield* processes.start({
    name: "kv",
    command: process.execPath,
    args: ["examples/kv-failover/kv.mjs", "--port", "0", "--parent-pid", String(process.pid)],
    ready: "LISTENING (\\d+)"
  })
  port = kv.readyMatch ?? "0"
})

export default Effect.sync(() => {
  const serves = Hypothesis.make("kv serves", {
    probe: Probe.http(`http://127.0.0.1:${port}/health`, { timeout: "200 millis" }),
    every: "10 millis",
    tolerance: Tolerance.all(Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 }), Tolerance.latency({ p99: "50 millis" }))
  })
  return Experiment.make({
    name: "kv pause",
    hypothesis: serves,
    method: Effect.gen(function*() {
      const [paused] = yield* Fault.inject(Process.pause({ target: Selector.name("kv") }))
      yield* Effect.sleep("1 second")
      yield* Fault.revert(paused!) // resume early; the scope would revert it anyway
      yield* Effect.sleep("500 millis")
    }),
    abort: [Abort.breach(serves, { below: 0.1, over: "5 seconds" }), Abort.maxDuration("1 minute"), Abort.signals()],
    stopwatches: { rto: Stopwatch.rto(serves, { stableFor: 5 }) },
    objectives: { rto: "1500 millis" }
  })
})
