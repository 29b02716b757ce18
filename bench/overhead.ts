/**
 * (c) Overhead of continuous hypotheses: 10 hypotheses sampled every 10 ms while the method
 * sleeps, journaled to a file. CPU of this process over the method window, minus CPU over an
 * idle window of the same length in the same run, per wall-clock time.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Duration, Effect } from "effect"
import { Experiment, FileJournal, Hypothesis, type Journal, Probe, Tolerance } from "../src/index.ts"
import { percentile, row, type Row } from "./stats.ts"

export interface OverheadOptions {
  readonly windowMs: number
  /** A first, unmeasured run of the same experiment (JIT warm-up); its cold figure is logged. */
  readonly warmupMs: number
  /** Measured windows; the overhead reported is their median. */
  readonly repeats: number
  /** The outage fixture, for the HTTP-probe variant; null to skip it. */
  readonly url: string | null
  readonly log: (line: string) => void
}

const HYPOTHESES = 10
const EVERY_MS = 10

interface Window {
  /** CPU time of the whole process (every thread: main, GC, JIT, libuv). */
  readonly cpuMs: number
  /** CPU time of the main (JavaScript) thread alone. */
  readonly mainMs: number
  readonly wallMs: number
  readonly startMono: number
  readonly endMono: number
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000

/** Runs `inner` and measures this process's CPU time and the wall time around it. */
const measured = <E, R>(inner: Effect.Effect<unknown, E, R>) =>
  Effect.gen(function*() {
    const startMono = yield* Probe.monoMillis
    const c0 = process.cpuUsage()
    const t0 = process.threadCpuUsage()
    yield* inner
    const c1 = process.cpuUsage(c0)
    const t1 = process.threadCpuUsage(t0)
    const endMono = yield* Probe.monoMillis
    return { cpuMs: cpuMs(c1), mainMs: cpuMs(t1), wallMs: endMono - startMono, startMono, endMono } satisfies Window
  })

const withTmpDir = <A, E, R>(use: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-"))),
    use,
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

const samplesIn = (entries: ReadonlyArray<Journal.Entry>, w: Window) =>
  entries.filter((e) => e.event._tag === "Sample" && e.event.phase === "during" && e.event.sample.mono >= w.startMono && e.event.sample.mono < w.endMono).length

interface Sampled {
  readonly window: Window
  readonly samples: number
  readonly verdict: string
  readonly bytes: number
  readonly entries: number
}

/** One experiment with 10 hypotheses of `probe`, method = a measured sleep of `windowMs`. */
const sampled = <R>(label: string, probe: (i: number) => Probe.Probe<R>, tolerance: Tolerance.Tolerance, windowMs: number) =>
  withTmpDir((dir) =>
    Effect.gen(function*() {
      const hypotheses = Array.from({ length: HYPOTHESES }, (_, i) =>
        Hypothesis.make(`${label} ${i}`, { probe: probe(i), every: Duration.millis(EVERY_MS), samples: 3, tolerance }))
      let window: Window | undefined
      const exp = Experiment.make({
        name: `bench: ${HYPOTHESES} hypotheses at ${EVERY_MS} ms (${label})`,
        hypothesis: hypotheses,
        method: Effect.map(measured(Effect.sleep(Duration.millis(windowMs))), (w) => {
          window = w
        })
      })
      const result = yield* Effect.scoped(Effect.flatMap(FileJournal.open(path.join(dir, "journal.jsonl")), (storage) =>
        Experiment.run(exp, { storage })))
      const bytes = result.journalFile ? fs.statSync(result.journalFile).size : 0
      if (window === undefined) return yield* Effect.fail(new Error(`${label}: method did not run (${result.verdict.reason})`))
      const out: Sampled = { window, samples: samplesIn(result.entries, window), verdict: result.verdict.status, bytes, entries: result.entries.length }
      return out
    })
  )

// Reference floors, in the same process and window length: what any sampler pays on this
// machine before faultline does anything. (1) a bare timer firing every 10 ms; (2) that timer
// sending 10 GETs over 10 kept-alive raw sockets and waiting for any bytes back — no HTTP
// parsing, no sample, no journal: the least 1,000 requests a second can cost here.
const floor = (url: string | null, windowMs: number) =>
  Effect.promise(async () => {
    const sockets: Array<net.Socket> = []
    const u = url === null ? null : new URL(`${url}/health`)
    if (u !== null) {
      for (let i = 0; i < HYPOTHESES; i++) {
        const s = net.connect(Number(u.port), u.hostname)
        s.setNoDelay(true)
        await new Promise<void>((resolve, reject) => s.once("connect", () => resolve()).once("error", reject))
        s.on("data", () => {})
        sockets.push(s)
      }
    }
    const request = u === null ? "" : `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`
    const tick = () => {
      for (const s of sockets) s.write(request)
    }
    tick()
    const timer = setInterval(tick, EVERY_MS)
    await new Promise((r) => setTimeout(r, 200))
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await new Promise((r) => setTimeout(r, windowMs))
    const c = process.cpuUsage(c0)
    const wallMs = performance.now() - t0
    clearInterval(timer)
    for (const s of sockets) s.destroy()
    return (cpuMs(c) / wallMs) * 100
  })

export const run = (options: OverheadOptions): Effect.Effect<ReadonlyArray<Row>, unknown> =>
  Effect.gen(function*() {
    const cheapProbe = (i: number) => Probe.make(`const ${i}`, Effect.succeed(1))
    const pct = (ms: number, w: Window) => (ms / w.wallMs) * 100
    // A row with no goal: a figure kept beside the measured ones, against the idle process.
    const reference = (name: string, measured: number) =>
      row({ name, unit: "% of one core", baseline: idlePct, measured, p50: null, p95: null, p99: null, goal: null, met: null })
    const describe = (label: string, r: Sampled, idlePct: number) => {
      const rate = r.samples / (r.window.wallMs / 1000)
      const overhead = pct(r.window.cpuMs, r.window) - idlePct
      options.log(
        `  ${label}: process cpu ${r.window.cpuMs.toFixed(1)} ms (main thread ${r.window.mainMs.toFixed(1)} ms) over ` +
          `${r.window.wallMs.toFixed(1)} ms wall = ${pct(r.window.cpuMs, r.window).toFixed(2)}% of a core ` +
          `(main thread ${pct(r.window.mainMs, r.window).toFixed(2)}%); overhead ${overhead.toFixed(2)} points; ` +
          `${r.samples} samples in window = ${rate.toFixed(1)}/s; journal ${r.entries} entries, ` +
          `${(r.bytes / 1024).toFixed(0)} KiB; verdict ${r.verdict}`
      )
      return { overhead, rate }
    }

    // Cold: the first run of the sampling path in this process pays for JIT compilation.
    const cold = yield* sampled("cheap", cheapProbe, Tolerance.exact(1), options.warmupMs)

    const idle = yield* measured(Effect.sleep(Duration.millis(options.windowMs)))
    const idlePct = pct(idle.cpuMs, idle)
    options.log(
      `  idle window: process cpu ${idle.cpuMs.toFixed(1)} ms (main thread ${idle.mainMs.toFixed(1)} ms) over ` +
        `${idle.wallMs.toFixed(1)} ms wall = ${idlePct.toFixed(3)}% of a core`
    )
    const c0 = describe(`cold run (${options.warmupMs} ms, unmeasured warm-up)`, cold, idlePct)

    const overheads: Array<number> = []
    let samples = 0
    let wallMs = 0
    for (let i = 0; i < options.repeats; i++) {
      const cheap = yield* sampled("cheap", cheapProbe, Tolerance.exact(1), options.windowMs)
      overheads.push(describe(`in-process probes, window ${i + 1}/${options.repeats}`, cheap, idlePct).overhead)
      samples += cheap.samples
      wallMs += cheap.window.wallMs
    }
    const c = { overhead: percentile(overheads, 50), rate: samples / (wallMs / 1000) }
    options.log(
      `  in-process probes: median overhead ${c.overhead.toFixed(2)} points (${overheads.map((o) => o.toFixed(2)).join(", ")}); ${
        c.rate.toFixed(1)
      } samples/s overall`
    )
    const rows: Array<Row> = [
      row({
        name: "hypothesis.cpu_overhead",
        unit: "% of one core",
        baseline: idlePct,
        measured: c.overhead,
        p50: null,
        p95: null,
        p99: null,
        goal: "<= 10%",
        met: c.overhead <= 10
      }),
      row({
        name: "hypothesis.sample_rate",
        unit: "samples/s",
        baseline: null,
        measured: c.rate,
        p50: null,
        p95: null,
        p99: null,
        goal: ">= 900/s (nominal 1000/s)",
        met: c.rate >= 900
      }),
      reference("hypothesis.cpu_overhead_cold", c0.overhead)
    ]
    if (options.url !== null) {
      const url = options.url
      const httpProbe = () => Probe.http(`${url}/health`, { timeout: "500 millis" })
      // The HTTP client's own first run (connections, its JIT) is as unmeasured as the
      // in-process warm-up above; its cold figure is logged and kept as a row.
      const httpCold = describe(
        `HTTP cold run (${options.warmupMs} ms, unmeasured warm-up)`,
        yield* sampled("http", httpProbe, Tolerance.exact(200), options.warmupMs),
        idlePct
      )
      const httpOverheads: Array<number> = []
      let httpSamples = 0
      let httpWall = 0
      for (let i = 0; i < options.repeats; i++) {
        const httpRun = yield* sampled("http", httpProbe, Tolerance.exact(200), options.windowMs)
        httpOverheads.push(describe(`HTTP probes, window ${i + 1}/${options.repeats}`, httpRun, idlePct).overhead)
        httpSamples += httpRun.samples
        httpWall += httpRun.window.wallMs
      }
      const h = { overhead: percentile(httpOverheads, 50), rate: httpSamples / (httpWall / 1000) }
      options.log(`  HTTP probes: median overhead ${h.overhead.toFixed(2)} points (${httpOverheads.map((o) => o.toFixed(2)).join(", ")})`)
      const timerFloor: Array<number> = []
      const socketFloor: Array<number> = []
      for (let i = 0; i < options.repeats; i++) {
        timerFloor.push((yield* floor(null, options.windowMs)) - idlePct)
        socketFloor.push((yield* floor(url, options.windowMs)) - idlePct)
      }
      options.log(
        `  floors: a 10 ms timer alone ${timerFloor.map((o) => o.toFixed(2)).join(", ")} points; ` +
          `that timer writing 10 raw GETs per tick on kept-alive sockets ${socketFloor.map((o) => o.toFixed(2)).join(", ")} points`
      )
      rows.push(
        row({
          name: "hypothesis.cpu_overhead_http",
          unit: "% of one core",
          baseline: idlePct,
          measured: h.overhead,
          p50: null,
          p95: null,
          p99: null,
          goal: "<= 8% (keep-alive connections)",
          met: h.overhead <= 8
        }),
        reference("hypothesis.cpu_floor_timer", percentile(timerFloor, 50)),
        reference("hypothesis.cpu_floor_raw_http", percentile(socketFloor, 50)),
        reference("hypothesis.cpu_overhead_http_cold", httpCold.overhead),
        row({
          name: "hypothesis.sample_rate_http",
          unit: "samples/s",
          baseline: null,
          measured: h.rate,
          p50: null,
          p95: null,
          p99: null,
          goal: null,
          met: null
        })
      )
    }
    return rows
  })
