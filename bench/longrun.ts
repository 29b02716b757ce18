/**
 * (g) Long runs stay small: 10 hypotheses every 10 ms (1,000 samples/s) through the runner
 * (journal streamed to disk, report folded from the file), for 4 simulated hours and, as the
 * baseline in the same bench run, for 5 simulated minutes. TestClock drives the time; the
 * heap is real: `process.memoryUsage().heapUsed` after a full GC, in a child process started
 * with --expose-gc, before the run and while it is live near its end (the memory a game day
 * holds), and after the report is written.
 *
 * The experiment is a realistic game day: a fault at the start (memory.break, 2 s), an RTO
 * stopwatch on one hypothesis, a breach abort over 10 s and a maximum duration.
 *
 *   node --expose-gc bench/longrun.ts 300     # one child run of 300 simulated seconds
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Duration, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Abort, Experiment, Fault, Hypothesis, Probe, Runner, Selector, Stopwatch, Tolerance } from "../src/index.ts"
import { breakTargets, healthy, MemoryDriver } from "../src/testing/index.ts"
import { row, type Row } from "./stats.ts"

const HYPOTHESES = 10
const EVERY_MS = 10
const SELF = fileURLToPath(import.meta.url)
const MB = 1024 * 1024

/** What one child run measured. */
interface Measured {
  readonly simulatedS: number
  readonly samples: number
  readonly heapBeforeMB: number
  /** Live heap after GC with one simulated minute left: what the running game day holds. */
  readonly heapLiveMB: number
  /** Heap after GC once the report is written and the result is still held. */
  readonly heapAfterMB: number
  readonly journalMB: number
  readonly status: string
  readonly rtoMs: number | null
  readonly wallS: number
}

const heapMB = () => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("run with node --expose-gc")
  gc()
  gc()
  return process.memoryUsage().heapUsed / MB
}

const experiment = (simulatedS: number) => {
  const hs = Array.from({ length: HYPOTHESES }, (_, i) =>
    Hypothesis.make(`h${i}`, {
      probe: i === 0 ? healthy(["a"]) : Probe.make(`const ${i}`, Effect.succeed(1)),
      every: Duration.millis(EVERY_MS),
      samples: 20,
      tolerance: Tolerance.all(Tolerance.successRatio({ atLeast: 0.5 }), Tolerance.latency({ p99: "250 millis" }))
    }))
  return Experiment.make({
    name: `long run: ${HYPOTHESES} hypotheses at ${EVERY_MS} ms for ${simulatedS} s`,
    hypothesis: hs,
    method: Effect.gen(function*() {
      const [broken] = yield* Fault.inject(breakTargets(Selector.name("a")))
      yield* Effect.sleep("2 seconds")
      yield* Fault.revert(broken!)
      yield* Effect.sleep(Duration.seconds(simulatedS - 2))
    }),
    abort: [Abort.breach(hs[0]!, { below: 0.5, over: "10 seconds" }), Abort.maxDuration(Duration.seconds(simulatedS + 60))],
    stopwatches: { rto: Stopwatch.rto(hs[0]!, { stableFor: 5 }) },
    objectives: { rto: "5 seconds" }
  })
}

const child = (simulatedS: number): Effect.Effect<Measured, unknown> =>
  Effect.gen(function*() {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-longrun-"))
    const t0 = performance.now()
    let samples = 0
    const exp = experiment(simulatedS)
    const heapBeforeMB = heapMB()
    const fiber = yield* Effect.forkChild(Runner.run(exp, {
      out,
      runId: "longrun",
      onEntry: (e) => {
        if (e.event._tag === "Sample") samples++
      }
    }))
    // One simulated minute at a time, so the fibers that are woken run before the next step.
    const steps = Math.floor(simulatedS / 60)
    for (let m = 0; m < steps - 1; m++) yield* TestClock.adjust("1 minute")
    const heapLiveMB = heapMB()
    yield* TestClock.adjust(Duration.seconds(simulatedS - (steps - 1) * 60 + 120))
    const o = yield* Fiber.join(fiber)
    const heapAfterMB = heapMB()
    const journalMB = fs.statSync(path.join(o.dir, "journal.jsonl")).size / MB
    if (process.env.LONGRUN_KEEP) process.stderr.write(`kept ${o.dir}\n`)
    else fs.rmSync(out, { recursive: true, force: true })
    return {
      simulatedS,
      samples,
      heapBeforeMB,
      heapLiveMB,
      heapAfterMB,
      journalMB,
      status: o.report.status,
      rtoMs: o.report.rto?.measuredMs ?? null,
      wallS: (performance.now() - t0) / 1000
    }
  }).pipe(
    Effect.provide(Layer.merge(TestClock.layer(), MemoryDriver.layer({ targets: [{ name: "a" }] })))
  )

const runChild = (simulatedS: number): Promise<Measured> =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--expose-gc", SELF, String(simulatedS)], { stdio: ["ignore", "pipe", "inherit"] })
    let stdout = ""
    p.stdout.on("data", (d) => stdout += d)
    p.on("exit", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? ""
      if (code !== 0) return reject(new Error(`longrun child (${simulatedS} s) exited ${code}: ${stdout}`))
      resolve(JSON.parse(last) as Measured)
    })
  })

/** Runs the 5-minute baseline and the 4-hour run in child processes; two rows. */
export const run = async (options: { readonly log: (line: string) => void; readonly hours?: number }): Promise<ReadonlyArray<Row>> => {
  const { log } = options
  const longS = (options.hours ?? 4) * 3600
  const describe = (m: Measured) =>
    `${m.simulatedS} s simulated: ${m.samples} samples, journal ${m.journalMB.toFixed(0)} MB on disk, heap ${m.heapBeforeMB.toFixed(1)} MB before, ` +
    `${m.heapLiveMB.toFixed(1)} MB live near the end, ${m.heapAfterMB.toFixed(1)} MB after the report; verdict ${m.status}, RTO ${m.rtoMs} ms; ${
      m.wallS.toFixed(0)
    } s wall`
  const base = await runChild(300)
  log(`  ${describe(base)}`)
  const long = await runChild(longS)
  log(`  ${describe(long)}`)
  const growth = (m: Measured) => Math.max(m.heapLiveMB, m.heapAfterMB) - m.heapBeforeMB
  const g0 = growth(base)
  const g1 = growth(long)
  // Growth is a difference of two heaps after GC and can be negative (JIT and module state
  // settle during the run); the ratio is of the live heaps themselves.
  const ratio = long.heapLiveMB / base.heapLiveMB
  log(
    `  heap growth: ${g0.toFixed(1)} MB (5 min) vs ${g1.toFixed(1)} MB (${longS / 3600} h); live heap ratio ${ratio.toFixed(2)} for ${
      (longS / 300).toFixed(0)
    }x the samples`
  )
  return [
    row({
      name: `long run: heap growth, ${HYPOTHESES} hypotheses at ${EVERY_MS} ms for ${longS / 3600} h simulated (baseline 5 min)`,
      unit: "MB",
      baseline: g0,
      measured: g1,
      p50: null,
      p95: null,
      p99: null,
      goal: "< 64 MB",
      met: g1 < 64
    }),
    row({
      name: `long run: live heap near the end, ${longS / 3600} h vs 5 min (${(longS / 300).toFixed(0)}x the samples)`,
      unit: "MB",
      baseline: base.heapLiveMB,
      measured: long.heapLiveMB,
      p50: null,
      p95: null,
      p99: null,
      goal: null,
      met: null
    })
  ]
}

if (process.argv[1] === SELF && process.argv[2] !== undefined) {
  Effect.runPromise(child(Number(process.argv[2]))).then(
    (m) => process.stdout.write(`${JSON.stringify(m)}\n`),
    (e) => {
      process.stderr.write(`longrun failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
      process.exit(1)
    }
  )
}
