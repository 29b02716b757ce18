/**
 * examples/docker-failover: the kv-failover system (examples/kv-failover/*.mjs) as containers on
 * a user-defined Docker network — a router, a primary and a standby, each a container of the
 * fixture Node image — and an experiment that kills the primary container, measures RTO and
 * RPO through the router's port (published on 127.0.0.1 only), and reverts (starts the primary
 * again). Everything the example creates is labelled `faultline.run=<id>` and removed at the end.
 *
 *   npm run example:docker-failover            # or: node examples/docker-failover/run.ts
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import type Dockerode from "dockerode"
import { Effect, Layer } from "effect"
import * as Abort from "../../src/core/Abort.ts"
import * as Experiment from "../../src/core/Experiment.ts"
import * as Fault from "../../src/core/Fault.ts"
import * as Hypothesis from "../../src/core/Hypothesis.ts"
import * as Selector from "../../src/core/Selector.ts"
import * as Stopwatch from "../../src/core/Stopwatch.ts"
import * as Tolerance from "../../src/core/Tolerance.ts"
import * as Probes from "../../src/probes/index.ts"
import * as Runner from "../../src/run/Runner.ts"
import { summary } from "../../src/cli/Summary.ts"
import { kvHeartbeat } from "../kv-failover/demo.ts"
import * as Docker from "../../src/targets/docker/index.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const kvDir = fileURLToPath(new URL("../kv-failover/", import.meta.url))

export interface Options {
  /** Image name prefix and tag of the fixture images (scripts/docker-images.sh). */
  readonly imagePrefix?: string
  readonly imageTag?: string
  /** Replication lag of the primary, ms. */
  readonly lagMs?: number
  /** Where run folders are written. */
  readonly out?: string
  /** Extra labels on everything created (tests use a session label). */
  readonly labels?: Record<string, string>
}

export interface DockerSystem {
  readonly id: string
  readonly routerUrl: string
  readonly names: { readonly primary: string; readonly standby: string; readonly router: string }
  readonly stop: () => Promise<void>
}

const PORT = 7000

/** Builds the Node image if needed and starts network + standby + primary + router. */
export const startSystem = async (docker: Dockerode, options: Options = {}): Promise<DockerSystem> => {
  const prefix = options.imagePrefix ?? "faultline/"
  const tag = options.imageTag ?? "latest"
  await promisify(execFile)("bash", [`${root}scripts/docker-images.sh`, prefix, tag], { cwd: root })
  const id = `kvf-${Math.random().toString(36).slice(2, 8)}`
  const labels = { "faultline.run": id, "faultline.example": "docker-failover", ...options.labels }
  const network = `${id}-net`
  await docker.createNetwork({ Name: network, Driver: "bridge", Labels: labels })
  const names = { primary: `${id}-primary`, standby: `${id}-standby`, router: `${id}-router` }
  const created: Array<string> = []
  const stop = async () => {
    await Promise.all(created.map((c) => docker.getContainer(c).remove({ force: true }).catch(() => undefined)))
    await docker.getNetwork(network).remove().catch(() => undefined)
  }
  const start = async (name: string, args: ReadonlyArray<string>, publish: boolean) => {
    const c = await docker.createContainer({
      name,
      Image: `${prefix}node:${tag}`,
      Cmd: ["/usr/local/bin/node", ...args, "--host", "0.0.0.0", "--port", String(PORT)],
      Labels: { ...labels, "faultline.allow": "true" },
      ExposedPorts: publish ? { [`${PORT}/tcp`]: {} } : {},
      HostConfig: {
        NetworkMode: network,
        Binds: [`${kvDir}:/app:ro`],
        PortBindings: publish ? { [`${PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: "" }] } : {}
      }
    })
    created.push(c.id)
    await c.start()
    return c
  }
  try {
    const lag = String(options.lagMs ?? 50)
    await start(names.standby, ["/app/kv.mjs", "--role", "standby"], false)
    await start(names.primary, ["/app/kv.mjs", "--role", "primary", "--replicate-to", `http://${names.standby}:${PORT}`, "--lag-ms", lag], false)
    const router = await start(names.router, [
      "/app/router.mjs",
      "--primary",
      `http://${names.primary}:${PORT}`,
      "--standby",
      `http://${names.standby}:${PORT}`,
      "--check-ms",
      "20",
      "--fail-after",
      "2"
    ], true)
    const info = await router.inspect()
    const port = info.NetworkSettings.Ports[`${PORT}/tcp`]![0]!.HostPort
    const routerUrl = `http://127.0.0.1:${port}`
    // Ready when the router answers through the published port.
    for (let i = 0;; i++) {
      const ok = await fetch(`${routerUrl}/health`, { signal: AbortSignal.timeout(500) }).then((r) => r.ok, () => false)
      if (ok) break
      if (i > 100) throw new Error(`router at ${routerUrl} did not answer within 10 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
    return { id, routerUrl, names, stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/** The experiment: kill the primary container, the router must fail over; RTO and RPO measured. */
export const primaryLoss = (system: DockerSystem) => {
  const routerUrl = system.routerUrl
  const serves = Hypothesis.make("router serves", {
    probe: Probes.http(`${routerUrl}/health`, { timeout: "500 millis" }),
    every: "10 millis",
    samples: 40,
    tolerance: Tolerance.all(Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 }), Tolerance.latency({ p99: "200 millis" }))
  })
  const writer = kvHeartbeat(routerUrl)
  return Experiment.make({
    name: "docker-failover: primary container loss",
    description:
      "SIGKILL the primary KV container; the router must fail over to the standby container within the RTO objective, losing at most the RPO objective of acknowledged writes.",
    hypothesis: serves,
    method: Effect.gen(function*() {
      yield* Fault.inject(Docker.kill({ target: Selector.name(system.names.primary), signal: "SIGKILL" }))
      yield* Effect.sleep("2 seconds")
    }),
    abort: [Abort.breach(serves, { below: 0.2, over: "5 seconds" }), Abort.maxDuration("60 seconds")],
    stopwatches: { rto: Stopwatch.rto(serves, { stableFor: 5 }), rpo: writer },
    objectives: { rto: "2 seconds", rpo: "500 millis" }
  })
}

/** Starts the system, runs the experiment (report under `out`), tears everything down. */
export const runExample = async (options: Options = {}) => {
  const DockerCtor = (await import("dockerode")).default
  const docker = new DockerCtor()
  const system = await startSystem(docker, options)
  try {
    const layer = Docker.DockerDriver.layer as Layer.Layer<Docker.DockerDriver, Docker.DockerError>
    return await Effect.runPromise(Runner.run(primaryLoss(system), { out: options.out ?? "faultline-runs", runId: system.id }).pipe(Effect.provide(layer)))
  } finally {
    await system.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stderr.write("starting examples/docker-failover: standby, primary, router containers\n")
  runExample().then(
    (o) => {
      process.stdout.write(`\n${summary(o.report, o.dir)}\n`)
      process.exitCode = o.report.status === "passed" ? 0 : 1
    },
    (e) => {
      process.stderr.write(`docker-failover failed: ${e instanceof Error ? e.message : String(e)}\n`)
      process.exitCode = 2
    }
  )
}
