/**
 * (b) Abort latency: three idle real processes are SIGSTOPped by `process.pause`; a manual
 * halt fires; latency = halt call -> last FaultReverted (all three SIGCONTed and journaled).
 * Baseline: the same three SIGCONTs sent directly, timed the same way, interleaved trial by
 * trial in the same run.
 */
import { NodeServices } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { Abort, Experiment, Fault, Hypothesis, Probe, Process, Selector, Tolerance } from "../src/index.ts"
import { percentile, row, type Row, summary } from "./stats.ts"

export interface AbortOptions {
  readonly trials: number
  readonly warmup: number
  readonly log: (line: string) => void
  /** Receives the pid of every process started, so the caller can check none is left. */
  readonly started: (pid: number) => void
}

const NAMES = ["idle-0", "idle-1", "idle-2"] as const
const PAUSE_MS = 50

// Idle, and exits by itself if the bench process disappears (no orphans on a crash).
const IDLE_SCRIPT = [
  "const parent = Number(process.env.FAULTLINE_BENCH_PARENT)",
  "setInterval(() => { try { process.kill(parent, 0) } catch { process.exit(0) } }, 500)",
  "setInterval(() => {}, 1000)",
  "console.log('READY')"
].join(";")

/** Waits (up to `limitMs`) until no pid is stopped; returns how many are still stopped. */
const awaitRunning = (pids: ReadonlyArray<number>, limitMs = 200) =>
  Effect.gen(function*() {
    for (let waited = 0;; waited += 1) {
      const stopped = pids.filter((p) => Process.isStopped(p) !== false).length
      if (stopped === 0 || waited >= limitMs) return stopped
      yield* Effect.sleep("1 millis")
    }
  })

const countStopped = (pids: ReadonlyArray<number>) => pids.filter((p) => Process.isStopped(p) === true).length

export const run = (options: AbortOptions): Effect.Effect<ReadonlyArray<Row>, unknown> =>
  Effect.gen(function*() {
    const driver = yield* Process.ProcessDriver
    const pids: Array<number> = []
    for (const name of NAMES) {
      const p = yield* driver.start({
        name,
        command: process.execPath,
        args: ["-e", IDLE_SCRIPT],
        env: { FAULTLINE_BENCH_PARENT: String(process.pid) },
        ready: "READY",
        labels: { app: "bench-idle" }
      })
      pids.push(p.pid)
      options.started(p.pid)
    }
    options.log(`  idle processes: ${NAMES.map((n, i) => `${n}=${pids[i]}`).join(" ")}`)

    const ok = Hypothesis.make("ok", {
      probe: Probe.make("ok", Effect.succeed(1)),
      every: "10 millis",
      samples: 3,
      tolerance: Tolerance.exact(1)
    })

    const latency: Array<number> = []
    const firedToReverted: Array<number> = []
    const direct: Array<number> = []
    let notStoppedDuring = 0
    let notResumed = 0
    let badRuns = 0
    let directNotStopped = 0
    let directNotResumed = 0

    const body = Effect.gen(function*() {
      for (let i = 0; i < options.warmup + options.trials; i++) {
        const warm = i < options.warmup

        // faultline: inject, halt, let the abort revert.
        const halt = yield* Abort.makeHalt
        let haltMono = Number.NaN
        let stoppedAtHalt = 0
        const exp = Experiment.make({
          name: "bench: abort latency",
          hypothesis: ok,
          method: Effect.gen(function*() {
            yield* Fault.inject(Process.pause({ target: Selector.name(...NAMES) }))
            yield* Effect.sleep(Duration.millis(PAUSE_MS))
            stoppedAtHalt = countStopped(pids)
            haltMono = yield* Probe.monoMillis
            yield* halt.halt("bench")
            yield* Effect.sleep("1 hour")
          }),
          abort: [Abort.manual(halt), Abort.maxDuration("20 seconds")]
        })
        const result = yield* Experiment.run(exp)
        const stillStopped = yield* awaitRunning(pids)
        const fired = result.entries.find((e) => e.event._tag === "AbortFired")
        const reverted = result.entries.filter((e) => e.event._tag === "FaultReverted")
        const good = result.verdict.status === "aborted" && result.verdict.cleanup === "ok" && fired !== undefined &&
          reverted.length === NAMES.length && Number.isFinite(haltMono)
        const lastRevert = Math.max(...reverted.map((e) => e.mono))

        // Baseline: the same three reverts, sent directly.
        for (const pid of pids) process.kill(-pid, "SIGSTOP")
        yield* Effect.sleep(Duration.millis(PAUSE_MS))
        const directStopped = countStopped(pids)
        const t0 = yield* Probe.monoMillis
        for (const pid of [...pids].reverse()) {
          try {
            process.kill(-pid, "SIGCONT")
          } catch {
            // gone: nothing to resume
          }
        }
        const t1 = yield* Probe.monoMillis
        const directStill = yield* awaitRunning(pids)

        if (warm) continue
        if (!good) {
          badRuns++
          options.log(
            `  abort trial ${i - options.warmup + 1}: unexpected run: ${result.verdict.status} (${result.verdict.reason}), ${reverted.length} reverted`
          )
        } else {
          latency.push(lastRevert - haltMono)
          firedToReverted.push(lastRevert - fired.mono)
        }
        if (stoppedAtHalt !== NAMES.length) notStoppedDuring++
        if (stillStopped !== 0) notResumed++
        direct.push(t1 - t0)
        if (directStopped !== NAMES.length) directNotStopped++
        if (directStill !== 0) directNotResumed++
      }
    })
    // Whatever happens, leave no process stopped (a stopped process ignores SIGTERM on cleanup).
    yield* body.pipe(
      Effect.ensuring(Effect.sync(() => {
        for (const pid of pids) {
          try {
            process.kill(-pid, "SIGCONT")
          } catch {
            // gone
          }
        }
      }))
    )

    options.log(`  faultline halt -> last FaultReverted: ${summary(latency)}`)
    options.log(`  faultline AbortFired -> last FaultReverted: ${summary(firedToReverted)}`)
    options.log(`  direct SIGCONT x3: ${summary(direct)}`)
    options.log(
      `  checks: ${options.trials} trials, bad runs ${badRuns}, not all stopped at halt ${notStoppedDuring}, ` +
        `not all running after ${notResumed}; direct: not all stopped ${directNotStopped}, not all running after ${directNotResumed}`
    )
    const p50 = percentile(latency, 50)
    const p99 = percentile(latency, 99)
    const allGood = badRuns === 0 && notStoppedDuring === 0 && notResumed === 0 && latency.length > 0
    return [
      row({
        name: "abort.latency",
        unit: "ms",
        baseline: percentile(direct, 50),
        measured: p50,
        p50,
        p95: percentile(latency, 95),
        p99,
        goal: "p50 <= 50 ms, p99 <= 200 ms",
        met: allGood && p50 <= 50 && p99 <= 200
      }),
      row({
        name: "abort.fired_to_reverted",
        unit: "ms",
        baseline: percentile(direct, 50),
        measured: percentile(firedToReverted, 50),
        p50: percentile(firedToReverted, 50),
        p95: percentile(firedToReverted, 95),
        p99: percentile(firedToReverted, 99),
        goal: null,
        met: null
      })
    ]
  }).pipe(Effect.provide(Process.ProcessDriver.layer.pipe(Layer.provideMerge(NodeServices.layer))))
