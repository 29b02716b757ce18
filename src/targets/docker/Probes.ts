/**
 * Docker probes: a container's running state, health status, restart count, and a command
 * run inside it. Each yields a Sample through the core `Probe.sample`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Probe from "../../core/Probe.ts"
import { DockerDriver } from "./DockerDriver.ts"

const spec = (check: string, params: Record<string, unknown>) => ({ kind: `docker.${check}`, params })

/**
 * Good while the container runs (a paused or stopped one is a bad sample); value: its status.
 *
 * @since 0.1.0
 */
export const running = (container: string, options?: { readonly timeout?: "1 second" | `${number} millis` | `${number} seconds` }): Probe.Probe<DockerDriver> =>
  Probe.make(
    `docker running ${container}`,
    Effect.gen(function*() {
      const s = yield* (yield* DockerDriver).inspect(container)
      if (!s.running) return yield* Effect.fail(new Error(`${container} is ${s.paused ? "paused" : s.status}`))
      return s.status
    }),
    { timeout: options?.timeout ?? "2 seconds", spec: spec("running", { container }) }
  )

/**
 * Good while the container's health check says `healthy`; value: the health status.
 *
 * @since 0.1.0
 */
export const health = (container: string): Probe.Probe<DockerDriver> =>
  Probe.make(
    `docker health ${container}`,
    Effect.gen(function*() {
      const s = yield* (yield* DockerDriver).inspect(container)
      if (s.health === null) return yield* Effect.fail(new Error(`${container} has no health check`))
      if (s.health !== "healthy") return yield* Effect.fail(new Error(`${container} is ${s.health}`))
      return s.health
    }),
    { timeout: "2 seconds", spec: spec("health", { container }) }
  )

/**
 * The container's restart count as the sample's value (use a range tolerance on it).
 *
 * @since 0.1.0
 */
export const restartCount = (container: string): Probe.Probe<DockerDriver> =>
  Probe.make(
    `docker restartCount ${container}`,
    Effect.gen(function*() {
      const s = yield* (yield* DockerDriver).inspect(container)
      return s.restartCount
    }),
    { timeout: "2 seconds", spec: spec("restartCount", { container }) }
  )

/**
 * Runs a command in the container (docker exec): good when it exits 0; value: its output.
 *
 * @since 0.1.0
 */
export const exec = (
  container: string,
  cmd: ReadonlyArray<string>,
  options?: { readonly timeout?: `${number} millis` | `${number} seconds` }
): Probe.Probe<DockerDriver> =>
  Probe.make(
    `docker exec ${container} ${cmd.join(" ")}`,
    Effect.gen(function*() {
      const r = yield* (yield* DockerDriver).exec(container, cmd)
      if (r.exitCode !== 0) return yield* Effect.fail(new Error(`exit ${r.exitCode}: ${r.output.trim().slice(0, 200)}`))
      return r.output.trim()
    }),
    { timeout: options?.timeout ?? "5 seconds", spec: spec("exec", { container, cmd }) }
  )
