import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Kind, type Point, type ProxyApi, trial, type TrialResult } from "../fixtures/crashTrial.ts"

// Runner death: the runner (a real process) is SIGKILLed at each point of a fault's life,
// for process faults and for embedded-proxy faults (the proxy running as `faultline proxy`,
// its own process, as it must be for a fault to outlive the runner); the watchdog must
// leave zero faults open and close the run every time.
const points: ReadonlyArray<Point> = ["before-intent", "after-intent", "after-injection", "during-revert"]
const plan: Array<[Point, Kind]> = []
for (let i = 0; i < 3; i++) for (const p of points) for (const k of ["pause", "kill", "latency"] as const) plan.push([p, k])
// Shuffled (seeded, so a failure can be replayed): points and kinds in random order.
let seed = 20261122
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
for (let i = plan.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1))
  ;[plan[i], plan[j]] = [plan[j]!, plan[i]!]
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
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

describe("runner SIGKILLed at random points: the watchdog reverts everything", () => {
  it(`${plan.length} trials (process pause, process kill, embedded-proxy latency) leave zero faults open`, { timeout: 300_000 }, async () => {
    const results: Array<TrialResult> = []
    for (const [p, k] of plan) results.push(await trial(p, k, 10_000, api))
    const bad = results.filter((r) => r.openAfter !== 0 || !r.victimOk || !r.runClosed)
    expect(bad).toEqual([])
    // The plan is fixed: 3 rounds x 4 points x 3 kinds, every one run to the end.
    expect(results.length).toBe(36)
    for (const k of ["pause", "kill", "latency"] as const) expect(results.filter((r) => r.kind === k).length).toBe(12)
    const ms = results.map((r) => r.killToRevertMs).sort((a, b) => a - b)
    console.log(
      `crash trials: ${results.length}; kill -> reverted ms p50 ${ms[Math.floor(ms.length / 2)]!.toFixed(0)}, max ${ms.at(-1)!.toFixed(0)}`
    )
  })
})
