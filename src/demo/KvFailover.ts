/**
 * The demo: the kv-failover example system (a router that health-checks and fails over, a
 * primary and a standby KV service with asynchronous replication), driven by a
 * primary-loss experiment that measures RTO and RPO.
 *
 * @since 0.1.0
 */
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import * as Abort from "../core/Abort.ts"
import * as Experiment from "../core/Experiment.ts"
import * as Fault from "../core/Fault.ts"
import * as Hypothesis from "../core/Hypothesis.ts"
import * as Selector from "../core/Selector.ts"
import * as Stopwatch from "../core/Stopwatch.ts"
import * as Tolerance from "../core/Tolerance.ts"
import * as Probes from "../probes/index.ts"
import * as Process from "../targets/process/index.ts"

const exampleDir = fileURLToPath(new URL("../../examples/kv-failover/", import.meta.url))

/** @since 0.1.0 */
export interface DemoOptions {
  /** Replication lag of the primary, ms (what the RPO measures). */
  readonly lagMs?: number
  /** Router health-check interval, ms. */
  readonly checkMs?: number
  /** How long the primary stays dead before faults are reverted. */
  readonly outage?: "2 seconds" | `${number} millis` | `${number} seconds`
}

/**
 * Starts the example system through the process driver and returns its router URL.
 *
 * @since 0.1.0
 */
export const startSystem = (options: DemoOptions = {}) =>
  Effect.gen(function*() {
    const driver = yield* Process.ProcessDriver
    const node = process.execPath
    const common = ["--host", "127.0.0.1", "--parent-pid", String(process.pid)]
    const standby = yield* driver.start({
      name: "kv-standby",
      command: node,
      args: [`${exampleDir}kv.mjs`, "--port", "0", "--role", "standby", ...common],
      ready: "LISTENING (\\d+)",
      labels: { app: "kv", role: "standby" }
    })
    const standbyUrl = `http://127.0.0.1:${standby.readyMatch}`
    const primary = yield* driver.start({
      name: "kv-primary",
      command: node,
      args: [`${exampleDir}kv.mjs`, "--port", "0", "--role", "primary", "--replicate-to", standbyUrl, "--lag-ms", String(options.lagMs ?? 50), ...common],
      ready: "LISTENING (\\d+)",
      labels: { app: "kv", role: "primary" }
    })
    const primaryUrl = `http://127.0.0.1:${primary.readyMatch}`
    const router = yield* driver.start({
      name: "kv-router",
      command: node,
      args: [`${exampleDir}router.mjs`, "--port", "0", "--primary", primaryUrl, "--standby", standbyUrl, "--check-ms", String(options.checkMs ?? 20), "--fail-after", "2", ...common],
      ready: "LISTENING (\\d+)",
      labels: { app: "kv", role: "router" }
    })
    return { routerUrl: `http://127.0.0.1:${router.readyMatch}`, primaryUrl, standbyUrl }
  })

/**
 * The primary-loss experiment against a running kv-failover system.
 *
 * @since 0.1.0
 */
export const primaryLoss = (routerUrl: string, options: DemoOptions = {}) => {
  const serves = Hypothesis.make("router serves", {
    probe: Probes.http(`${routerUrl}/health`, { timeout: "500 millis" }),
    every: "10 millis",
    samples: 40,
    tolerance: Tolerance.all(Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 }), Tolerance.latency({ p99: "100 millis" }))
  })
  const writer = Stopwatch.heartbeat({
    every: "10 millis",
    timeout: "500 millis",
    write: (seq) =>
      Effect.flatMap(Probes.request(`${routerUrl}/kv/hb-${seq}`, { method: "PUT", body: String(seq), timeout: "500 millis" }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(new Error(`HTTP ${r.status}`))),
    readBack: (acked) =>
      Effect.map(
        Effect.forEach(acked, (seq) =>
          Effect.map(Probes.request(`${routerUrl}/kv/hb-${seq}`, { timeout: "2 seconds" }), (r) => r.status === 200 && r.body === String(seq) ? [seq] : []), { concurrency: 16 }),
        (xs) => xs.flat()
      )
  })
  return Experiment.make({
    name: "kv-failover: primary loss",
    description: "Kill the primary KV process; the router must fail over to the standby within the RTO objective, losing at most the RPO objective of acknowledged writes.",
    hypothesis: serves,
    method: Effect.gen(function*() {
      yield* Fault.inject(Process.kill({ target: Selector.name("kv-primary"), signal: "SIGKILL" }))
      yield* Effect.sleep(options.outage ?? "2 seconds")
    }),
    abort: [Abort.breach(serves, { below: 0.2, over: "5 seconds" }), Abort.maxDuration("30 seconds")],
    stopwatches: { rto: Stopwatch.rto(serves, { stableFor: 5 }), rpo: writer },
    objectives: { rto: "2 seconds", rpo: "500 millis" }
  })
}
