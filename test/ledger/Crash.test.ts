import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { describeWith } from "../integration/require.ts"
import { dockerMissing, leftovers, type Session, startSession } from "../integration/docker/fixture.ts"
import {
  type DockerEnv,
  inWindow,
  type Kind,
  killMoments,
  type ProxyApi,
  seeded,
  trial,
  type TrialEnv,
  type TrialResult,
  type Windows
} from "../fixtures/crashTrial.ts"

// Runner death: the runner (a real process) is SIGKILLed at seeded random moments of its
// run, a third of them inside the injection window (FaultInjecting..FaultInjected) or the
// revert window (FaultReverting..FaultReverted), both taken from a first undisturbed run's
// journal. Then the system itself is checked, not the journal: nothing paused, no rules or
// qdiscs in the container's namespace, no helpers or markers, exactly one copy of a
// restarted process, and a journal that ends in RunEnded telling the truth about cleanup.
const SEED = 20261129
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

// Runs a plan of kinds: one undisturbed run each (its windows), then `perKind` kills.
const campaign = async (kinds: ReadonlyArray<Kind>, perKind: number, env: TrialEnv, seed: number) => {
  const next = seeded(seed)
  const results: Array<TrialResult & { readonly windows: Windows; readonly inside: boolean }> = []
  const baselines: Array<TrialResult> = []
  for (const kind of kinds) {
    const first = await trial(kind, null, env)
    baselines.push(first)
    const w = first.windows!
    for (const at of killMoments(w, perKind, next)) results.push({ ...(await trial(kind, at, env)), windows: w, inside: inWindow(w, at) })
  }
  return { results, baselines }
}

const judge = (results: ReadonlyArray<TrialResult>, baselines: ReadonlyArray<TrialResult>) => {
  // An undisturbed run is clean and says so: otherwise the windows mean nothing.
  for (const b of baselines) {
    expect({ kind: b.kind, problems: b.problems, ended: b.ended }).toEqual({ kind: b.kind, problems: [], ended: { status: "passed", cleanup: "ok" } })
  }
  const bad = results.filter((r) => r.problems.length > 0 || !r.truthful || r.neededRecover)
  expect(bad.map((r) => ({ kind: r.kind, killAt: Math.round(r.killAt ?? -1), problems: r.problems, ended: r.ended, neededRecover: r.neededRecover }))).toEqual(
    []
  )
}

const report = (label: string, results: ReadonlyArray<TrialResult & { readonly inside: boolean }>) => {
  const ms = results.filter((r) => r.killed).map((r) => r.killToClosedMs).sort((a, b) => a - b)
  console.log(
    `crash trials (${label}): ${results.length}, ${results.filter((r) => r.killed).length} killed, ${
      results.filter((r) => r.inside).length
    } inside a window; ` +
      `kill -> run closed by the watchdog ms p50 ${ms[Math.floor(ms.length / 2)]?.toFixed(0)}, max ${ms.at(-1)?.toFixed(0)}`
  )
}

describe("runner SIGKILLed at random moments: the watchdog alone leaves nothing behind", () => {
  let proxy: ChildProcess
  let api: ProxyApi

  beforeAll(async () => {
    // The proxy's API token, shared through the environment as a CI job would: the runner and
    // the watchdog it leaves behind read $FAULTLINE_PROXY_TOKEN.
    const token = randomBytes(24).toString("base64url")
    proxy = spawn(process.execPath, [path.join(root, "src/cli/main.ts"), "proxy", "--listen", "127.0.0.1:0"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, FAULTLINE_PROXY_TOKEN: token }
    })
    api = await new Promise<ProxyApi>((resolve, reject) => {
      let buf = ""
      const timer = setTimeout(() => reject(new Error(`faultline proxy did not start: ${buf}`)), 20_000)
      proxy.stdout!.on("data", (c: Buffer) => {
        buf += c.toString()
        const m = /listening on (http:\/\/\S+)/.exec(buf)
        if (m) {
          clearTimeout(timer)
          resolve({ url: m[1]!, token })
        }
      })
    })
  }, 30_000)

  afterAll(() => {
    proxy?.kill("SIGKILL")
  })

  it("process (pause, kill) and network (latency) faults: 40 trials each", { timeout: 600_000 }, async () => {
    const [processes, network] = await Promise.all([
      campaign(["pause", "kill"], 20, {}, SEED),
      campaign(["latency"], 40, { proxy: api }, SEED + 1)
    ])
    report("process", processes.results)
    report("network", network.results)
    expect(processes.results.length).toBe(40)
    expect(network.results.length).toBe(40)
    // A third of the moments are aimed inside the windows (seeded: the same every run).
    expect(processes.results.filter((r) => r.inside).length).toBeGreaterThanOrEqual(13)
    judge([...processes.results, ...network.results], [...processes.baselines, ...network.baselines])
  })
})

const missing = await dockerMissing()

describeWith("Docker Engine", missing, () => {
  let s: Session
  let env: DockerEnv

  beforeAll(async () => {
    s = await startSession("faultline-crash")
    await s.start(`${s.id}-peer`)
    await s.start(`${s.id}-target`)
    env = { docker: s.docker, container: `${s.id}-target`, peer: `${s.id}-peer`, helperImage: s.images.nettools, prefix: s.id }
  }, 120_000)

  afterAll(async () => {
    await s?.cleanup()
  }, 60_000)

  it("Docker faults (pause, partition, bandwidth, kill): 40 trials", { timeout: 600_000 }, async () => {
    const { results, baselines } = await campaign(["docker.pause", "docker.partition", "docker.bandwidth", "docker.kill"], 10, { docker: env }, SEED + 2)
    report("docker", results)
    expect(results.length).toBe(40)
    judge(results, baselines)
    // Nothing of the driver's (helpers, markers) is left anywhere in the session.
    const left = await leftovers(s.docker, s.id, "driver")
    expect({ containers: left.containers, volumes: left.volumes }).toEqual({ containers: [], volumes: [] })
  })
})
