/**
 * The Docker integration: containers on a Docker Engine (optional peer `dockerode`, loaded
 * only when the driver is built).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Integration from "../../core/Integration.ts"
import { DockerDriver } from "./DockerDriver.ts"
import {
  defaultGuards,
  DockerBandwidth,
  DockerDisconnect,
  DockerKill,
  DockerNetem,
  DockerPartition,
  DockerPause,
  DockerRemove,
  DockerRestart,
  DockerStop
} from "./Faults.ts"

const unavailable = (e: unknown) => new Integration.IntegrationUnavailable({ integration: "docker", detail: e instanceof Error ? e.message : String(e) })

/** @since 0.1.0 */
export const integration: Integration.Integration = Integration.make({
  name: "docker",
  summary: "Docker containers: kill, stop, restart, pause, disconnect, partition, bandwidth, netem, remove",
  module: "faultline/docker",
  faults: [DockerKill, DockerStop, DockerRestart, DockerPause, DockerDisconnect, DockerPartition, DockerBandwidth, DockerNetem, DockerRemove],
  defaultGuards,
  layer: Effect.succeed(DockerDriver.layer),
  reverter: Effect.tryPromise({ try: () => import("./Reverter.ts"), catch: unavailable }).pipe(Effect.map((m) => m.revertRecord)),
  // Marker volumes and helper containers of dead runs, which only the engine can show.
  leftovers: (options) =>
    Effect.tryPromise({ try: () => import("./Recover.ts"), catch: unavailable }).pipe(
      Effect.flatMap((m) => m.recover({ runId: options.runId, force: options.force })),
      Effect.map((r) => ({ reverted: r.reverted, removed: r.helpersRemoved.map((h) => `helper ${h}`), skipped: r.skipped, failed: r.failed })),
      Effect.provide(DockerDriver.layerConfig({ socketPath: options.endpoint })),
      Effect.mapError((e) => e instanceof Integration.IntegrationUnavailable ? e : unavailable(e))
    )
})
