/**
 * (i) Breach detection: a hypothesis probed every 10 ms turns bad when a fault lands; an
 * `Abort.breach` over a 500 ms window stops the run. Latency = the first failing sample's
 * completion -> the last fault reverted, both from the run's journal (monotonic clock).
 * Goal: p95 <= window + 2 probe intervals. Baseline: the same run with a manual halt fired
 * at the first failing sample (the engine's own stop-and-revert cost), interleaved.
 */
import { Effect, Fiber } from "effect"
import { Abort, Experiment, Fault, Hypothesis, Selector, Tolerance } from "../src/index.ts"
import { breakTargets, healthy, MemoryDriver } from "../src/testing/index.ts"
import { percentile, type Row, row, summary } from "./stats.ts"

const WINDOW_MS = 500
const EVERY_MS = 10

const latency = (r: Experiment.RunResult): number | null => {
  const events = r.entries
  const firstBad = events.find((e) => e.event._tag === "Sample" && e.event.phase === "during" && !e.event.sample.ok)
  const reverted = events.filter((e) => e.event._tag === "FaultReverted").at(-1)
  if (firstBad?.event._tag !== "Sample" || reverted === undefined) return null
  const done = firstBad.event.sample.mono + firstBad.event.sample.latencyMs
  return reverted.mono - done
}

const trial = (kind: "breach" | "halt") =>
  Effect.gen(function*() {
    const h = Hypothesis.make("healthy", {
      probe: healthy(),
      every: `${EVERY_MS} millis`,
      samples: 20,
      tolerance: Tolerance.successRatio({ atLeast: 0.9, confidence: 0 }),
      during: "observe"
    })
    const halt = yield* Abort.makeHalt
    const exp = Experiment.make({
      name: `breach bench ${kind}`,
      hypothesis: h,
      method: Effect.andThen(Fault.inject(breakTargets(Selector.name("a"))), Effect.sleep("10 seconds")),
      abort: kind === "breach" ? [Abort.breach(h, { below: 0.5, over: `${WINDOW_MS} millis` })] : [Abort.manual(halt)]
    })
    if (kind === "breach") return latency(yield* Experiment.run(exp))
    // The baseline halts as soon as a failing sample is journaled.
    let fired = false
    const fiber = yield* Effect.forkChild(Experiment.run(exp, {
      onEntry: (e) => {
        if (!fired && e.event._tag === "Sample" && e.event.phase === "during" && !e.event.sample.ok) {
          fired = true
          Effect.runFork(halt.halt("bench"))
        }
      }
    }))
    return latency(yield* Fiber.join(fiber))
  }).pipe(Effect.provide(MemoryDriver.layer({ targets: [{ name: "a" }] })))

/** Runs the breach-detection rows. */
export const run = async (options: { readonly trials: number; readonly log: (line: string) => void }): Promise<ReadonlyArray<Row>> => {
  const breach: Array<number> = []
  const halt: Array<number> = []
  for (let i = 0; i < options.trials + 1; i++) {
    const b = await Effect.runPromise(trial("breach"))
    const h = await Effect.runPromise(trial("halt"))
    if (i === 0) continue
    if (b !== null) breach.push(b)
    if (h !== null) halt.push(h)
  }
  options.log(`  breach: first failing sample -> reverted: ${summary(breach)}; halt at that sample: ${summary(halt)}`)
  const goal = WINDOW_MS + 2 * EVERY_MS
  return [row({
    name: `breach detection (${WINDOW_MS} ms window, probe every ${EVERY_MS} ms): first failing sample -> every fault reverted`,
    unit: "ms",
    baseline: percentile(halt, 50),
    measured: percentile(breach, 50),
    p50: percentile(breach, 50),
    p95: percentile(breach, 95),
    p99: percentile(breach, 99),
    goal: `p95 <= window + 2 intervals (${goal} ms)`,
    met: breach.length > 0 && percentile(breach, 95) <= goal
  })]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run({ trials: Number(process.argv[2] ?? 10), log: (l) => process.stdout.write(`${l}\n`) }).then((rows) => {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`)
  })
}
