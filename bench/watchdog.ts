/**
 * (d) Runner death: the runner is SIGKILLed at a seeded moment between the start of its
 * injection and the end of its revert; the time until its watchdog alone has reverted
 * everything and closed the run, per target family (process: pause, kill; network: a
 * latency toxic on `faultline proxy`; Docker: pause, partition, bandwidth, kill). Each
 * trial then checks the system (test/fixtures/crashTrial.ts); a trial whose run the
 * watchdog did not close, or whose system is not clean, counts as needing `recover`.
 * Baseline: the same fault's undisturbed revert (FaultReverting -> FaultReverted in the
 * journal of a run that was not killed), same run of the benchmark.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import { dockerMissing, type Session, startSession } from "../test/integration/docker/fixture.ts"
import { type Kind, seeded, trial, type TrialEnv, type TrialResult } from "../test/fixtures/crashTrial.ts"
import { percentile, row, type Row } from "./stats.ts"

const root = fileURLToPath(new URL("../", import.meta.url))

const startProxy = async (): Promise<{ child: ChildProcess; url: string; token: string }> => {
  const token = randomBytes(24).toString("base64url")
  const child = spawn(process.execPath, [`${root}src/cli/main.ts`, "proxy", "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, FAULTLINE_PROXY_TOKEN: token }
  })
  const url = await new Promise<string>((resolve, reject) => {
    let buf = ""
    const timer = setTimeout(() => reject(new Error(`faultline proxy did not start: ${buf}`)), 20_000)
    child.stdout!.on("data", (c: Buffer) => {
      buf += c.toString()
      const m = /listening on (http:\/\/\S+)/.exec(buf)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
  })
  return { child, url, token }
}

const family = async (
  name: string,
  kinds: ReadonlyArray<Kind>,
  trials: number,
  env: TrialEnv,
  goalMs: number,
  log: (line: string) => void
): Promise<Row> => {
  const next = seeded(20261129)
  const killed: Array<TrialResult> = []
  const baseline: Array<number> = []
  for (const kind of kinds) {
    const first = await trial(kind, null, env)
    const w = first.windows!
    baseline.push(w.revert[1] - w.revert[0])
    for (let i = 0; i < Math.ceil(trials / kinds.length); i++) {
      // Somewhere between the start of the injection and the end of the revert.
      const at = w.inject[0] + next() * (w.revert[1] - w.inject[0])
      const r = await trial(kind, at, env)
      if (r.killed) killed.push(r)
      baseline.push(...(r.killed ? [] : [w.revert[1] - w.revert[0]]))
    }
  }
  const needed = killed.filter((r) => r.neededRecover || r.problems.length > 0 || !r.truthful)
  const ms = killed.filter((r) => !r.neededRecover).map((r) => r.killToClosedMs)
  const p95 = percentile(ms, 95)
  log(
    `  ${name}: ${killed.length} killed runs, ${needed.length} needed recover; kill -> everything reverted p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${
      p95.toFixed(1)
    } ms (undisturbed revert p50 ${percentile(baseline, 50).toFixed(1)} ms)`
  )
  for (const r of needed.slice(0, 3)) {
    log(`    left: ${r.kind} at ${r.killAt?.toFixed(0)} ms: ${r.problems.join("; ") || (r.neededRecover ? "run not closed" : "journal untruthful")}`)
  }
  return row({
    name: `watchdog.kill_to_reverted.${name}`,
    unit: "ms",
    baseline: percentile(baseline, 50),
    measured: percentile(ms, 50),
    p50: percentile(ms, 50),
    p95,
    p99: percentile(ms, 99),
    goal: `p95 <= ${goalMs} ms; needed recover: ${needed.length} of ${killed.length} (goal 0)`,
    met: p95 <= goalMs && needed.length === 0 && killed.length > 0
  })
}

export const run = async (options: { readonly trials: number; readonly log: (line: string) => void }): Promise<ReadonlyArray<Row>> => {
  const rows: Array<Row> = []
  // No stretching sleeps here: the revert the watchdog times is the real one.
  rows.push(await family("process", ["pause", "kill"], options.trials, { stretchMs: 0 }, 100, options.log))
  const proxy = await startProxy()
  try {
    rows.push(await family("network", ["latency"], options.trials, { stretchMs: 0, proxy: { url: proxy.url, token: proxy.token } }, 100, options.log))
  } finally {
    proxy.child.kill("SIGKILL")
  }
  const missing = await dockerMissing()
  if (missing !== null) {
    options.log(`  docker: skipped (${missing})`)
    rows.push(
      row({
        name: "watchdog.kill_to_reverted.docker",
        unit: "ms",
        baseline: null,
        measured: null,
        p50: null,
        p95: null,
        p99: null,
        goal: `skipped: ${missing}`,
        met: null
      })
    )
    return rows
  }
  let s: Session | undefined
  try {
    s = await startSession("faultline-bench-crash")
    await s.start(`${s.id}-peer`)
    await s.start(`${s.id}-target`)
    const docker = { docker: s.docker, container: `${s.id}-target`, peer: `${s.id}-peer`, helperImage: s.images.nettools, prefix: s.id }
    rows.push(
      await family(
        "docker",
        ["docker.pause", "docker.partition", "docker.bandwidth", "docker.kill"],
        options.trials,
        { stretchMs: 0, docker },
        1000,
        options.log
      )
    )
  } finally {
    await s?.cleanup()
  }
  return rows
}
