/**
 * (d) Docker fan-out: `docker.pause` injected into and reverted from N = 1, 10, 50 real
 * containers through `Fault.inject(..., { concurrency })` and `Fault.revert` with the same
 * bounded concurrency. Time per trial = first engine call of the injection -> last container
 * unpaused and its marker removed. Baseline for N: N times the N = 1 median (linear growth);
 * the goal is clearly sub-linear growth, at most half of that. For reference, the same N one
 * by one (concurrency 1) is measured in the same run.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { Effect, Layer } from "effect"
import * as Fault from "../src/core/Fault.ts"
import * as Guard from "../src/core/Guard.ts"
import * as Journal from "../src/core/Journal.ts"
import * as Ledger from "../src/core/Ledger.ts"
import { Run } from "../src/core/Run.ts"
import * as Windows from "../src/core/Windows.ts"
import * as Selector from "../src/core/Selector.ts"
import * as Docker from "../src/targets/docker/index.ts"
import { percentile, row, type Row } from "./stats.ts"

const root = fileURLToPath(new URL("../", import.meta.url))

export interface DockerBenchOptions {
  readonly sizes: ReadonlyArray<number>
  readonly trials: (n: number) => number
  readonly concurrency: number
  readonly log: (line: string) => void
}

const skipped = (reason: string): ReadonlyArray<Row> => [
  row({ name: `docker.pause_fanout (skipped: ${reason})`, unit: "ms", baseline: null, measured: null, p50: null, p95: null, p99: null, goal: null, met: null })
]

/** Runs the fan-out benchmark, or returns one row saying why it was skipped. */
export const run = async (options: DockerBenchOptions): Promise<ReadonlyArray<Row>> => {
  let DockerCtor: typeof import("dockerode")
  try {
    DockerCtor = (await import("dockerode")).default
  } catch {
    return skipped("dockerode is not installed")
  }
  const docker = new DockerCtor()
  try {
    await docker.ping()
  } catch (e) {
    return skipped(`no Docker Engine answers (${(e as Error).message})`)
  }
  const sid = `faultline-bench-${Math.random().toString(36).slice(2, 8)}`
  const image = `faultline-fixture/busybox:${sid}`
  const maxN = Math.max(...options.sizes)
  const ids: Array<string> = []
  try {
    await promisify(execFile)("bash", [`${root}scripts/docker-images.sh`, "faultline-fixture/", sid], {
      cwd: root,
      env: { ...process.env, FAULTLINE_IMAGES: "busybox" }
    })
    const t0 = performance.now()
    for (let i = 0; i < maxN; i += options.concurrency) {
      const batch = await Promise.all(Array.from({ length: Math.min(options.concurrency, maxN - i) }, async (_, j) => {
        const c = await docker.createContainer({
          name: `${sid}-${i + j}`,
          Image: image,
          Cmd: ["/bin/sleep", "3600"],
          Labels: { "faultline.run": sid, "faultline.allow": "true", "faultline.bench": sid },
          HostConfig: { NetworkMode: "none" }
        })
        await c.start()
        return c.id
      }))
      ids.push(...batch)
    }
    options.log(`  ${maxN} containers started in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const runLayer = Layer.effect(
      Run,
      Effect.gen(function*() {
        const journal = yield* Journal.make({ runId: sid })
        const ledger = yield* Ledger.makeMemory
        let n = 0
        return Run.of({
          runId: sid,
          journal,
          windows: Windows.make([]),
          ledger,
          guards: [Guard.maxTargets(maxN)],
          dryRun: false,
          cleanupFailed: { value: false },
          nextFaultId: () => `${sid}/f${++n}`
        })
      })
    )
    const layer = Layer.merge(Docker.DockerDriver.layer, runLayer)

    const trial = (n: number, concurrency = options.concurrency) =>
      Effect.scoped(Effect.gen(function*() {
        const started = performance.now()
        const fault = Docker.pause({ target: Selector.cap(Selector.count(Selector.label("faultline.bench", sid), n), maxN) })
        const injections = yield* Fault.inject(fault, { concurrency })
        yield* Effect.forEach(injections, Fault.revert, { concurrency, discard: true })
        const ms = performance.now() - started
        if (injections.length !== n) return yield* Effect.die(new Error(`expected ${n} injections, got ${injections.length}`))
        return ms
      }))

    const results = new Map<number, Array<number>>()
    const sequential = new Map<number, Array<number>>()
    await Effect.runPromise(
      Effect.gen(function*() {
        yield* trial(1) // warm-up
        for (const n of options.sizes) {
          const times: Array<number> = []
          for (let t = 0; t < options.trials(n); t++) times.push(yield* trial(n))
          results.set(n, times)
          options.log(`  N=${n}: p50 ${percentile(times, 50).toFixed(1)} ms over ${times.length} trials (concurrency ${options.concurrency})`)
          if (n > 1) {
            const seq: Array<number> = []
            for (let t = 0; t < Math.max(1, Math.floor(options.trials(n) / 2)); t++) seq.push(yield* trial(n, 1))
            sequential.set(n, seq)
            options.log(`  N=${n}: p50 ${percentile(seq, 50).toFixed(1)} ms one by one (reference)`)
          }
        }
      }).pipe(Effect.provide(layer))
    )

    const stillPaused = (await docker.listContainers({ filters: JSON.stringify({ label: [`faultline.bench=${sid}`], status: ["paused"] }) })).length
    if (stillPaused > 0) throw new Error(`${stillPaused} containers still paused after the benchmark`)

    const one = percentile(results.get(1) ?? [], 50)
    const reference = [...sequential.entries()].map(([n, times]) =>
      row({
        name: `docker.pause_fanout.n${n}_one_by_one`,
        unit: "ms",
        baseline: null,
        measured: percentile(times, 50),
        p50: percentile(times, 50),
        p95: percentile(times, 95),
        p99: percentile(times, 99),
        goal: null,
        met: null
      })
    )
    return [
      ...options.sizes.map((n) => {
        const times = results.get(n)!
        const p50 = percentile(times, 50)
        const linear = n * one
        return row({
          name: `docker.pause_fanout.n${n}`,
          unit: "ms",
          baseline: n === 1 ? null : linear,
          measured: p50,
          p50,
          p95: percentile(times, 95),
          p99: percentile(times, 99),
          goal: n === 1 ? null : `<= 0.5 x ${n} x N=1 (sub-linear)`,
          met: n === 1 ? null : p50 <= 0.5 * linear
        })
      }),
      ...reference
    ]
  } finally {
    await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)))
    const vols = await (docker.listVolumes as (o: unknown) => Promise<{ Volumes?: Array<{ Name: string }> }>)({
      filters: JSON.stringify({ label: [`faultline.run=${sid}`] })
    }).catch(() => ({ Volumes: [] }))
    await Promise.all((vols.Volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)))
    await docker.getImage(image).remove({ force: true }).catch(() => undefined)
  }
}

// `node bench/docker.ts` runs this benchmark alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  run({ sizes: [1, 10, 50], trials: (n) => (n === 1 ? 10 : n === 10 ? 5 : 3), concurrency: 10, log: (l) => process.stdout.write(`${l}\n`) }).then(
    (rows) => process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`),
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
      process.exitCode = 1
    }
  )
}
