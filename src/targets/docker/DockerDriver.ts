/**
 * The Docker driver: applies and reverts `docker.*` faults through the Docker Engine API
 * (dockerode, an optional peer dependency loaded when the layer is built).
 *
 * Every object a run creates carries `faultline.run=<run id>`: helper containers (iptables,
 * tc) and one *marker volume* per injected fault. Docker cannot add labels to an existing
 * container, so the marker volume is where the driver writes, before it touches the target,
 * what the fault is and how to revert it (`faultline.revert`, JSON), plus
 * `faultline.paused-by=<run>` / `faultline.disconnected-from=<network>` for the faults that
 * leave a container altered. `recover` (see Recover.ts) reads these markers after a run died.
 *
 * @since 0.1.0
 */
import type Dockerode from "dockerode"
import type * as Duration from "effect/Duration"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Driver } from "../../core/Driver.ts"
import * as Handler from "../../core/Handler.ts"
import { containers } from "./containers.ts"
import { DockerError, toDriverError } from "./DockerError.ts"
import type { CommandResult, ContainerState, DockerContext } from "./Engine.ts"
import * as Engine from "./Engine.ts"
import type { DockerFault } from "./Faults.ts"
import { network } from "./network.ts"

export { Labels } from "./Engine.ts"
export type { CommandResult, ContainerState } from "./Engine.ts"

/** The default helper image (iptables, tc, a shell); built by `scripts/docker-images.sh`. @since 0.1.0 */
export const DEFAULT_HELPER_IMAGE = "faultline/nettools:latest"

/** @since 0.1.0 */
export interface DockerConfig {
  /** The engine's socket; default `/var/run/docker.sock` (or DOCKER_HOST as dockerode reads it). */
  readonly socketPath?: string | undefined
  /** The image of the helper containers of partition, bandwidth and netem. */
  readonly helperImage?: string | undefined
  /** How long a fault's effect may take to show before it is `InjectionIneffective`; default 5 s. */
  readonly verifyTimeout?: Duration.Input | undefined
}

/**
 * The Docker driver service: the generic Driver plus what probes, tests and `recover` use.
 *
 * @since 0.1.0
 */
export class DockerDriver extends Context.Service<
  DockerDriver,
  Driver & {
    /** The dockerode client (for fixtures and advanced use). */
    readonly client: Dockerode
    readonly helperImage: string
    /** Whether the engine answers. */
    readonly ping: Effect.Effect<void, DockerError>
    readonly inspect: (container: string) => Effect.Effect<ContainerState, DockerError>
    /** Runs a command in a running container (docker exec). */
    readonly exec: (container: string, cmd: ReadonlyArray<string>) => Effect.Effect<CommandResult, DockerError>
    /** Runs a shell script in a helper container sharing `container`'s network namespace, with NET_ADMIN. */
    readonly runHelper: (container: string, script: string, purpose: string) => Effect.Effect<CommandResult, DockerError>
    /** Fails with `Unsupported` when the engine's kernel has no `sch_netem` (checked once, cached). */
    readonly netemSupported: Effect.Effect<void, DockerError>
    /** Reverts from revert data, then deletes the fault's marker volume (idempotent). */
    readonly revertData: (fault: string, data: Record<string, unknown>) => Effect.Effect<void, DockerError>
  }
>()("faultline/DockerDriver") {
  /** The real driver on the default socket. @since 0.1.0 */
  static readonly layer: Layer.Layer<DockerDriver, DockerError> = Layer.effect(DockerDriver, Effect.suspend(() => make({})))
  /**
   * The real driver with configuration.
   *
   * @example
   * ```ts
   * const layer = DockerDriver.layerConfig({ socketPath: "/var/run/docker.sock", helperImage: "faultline/nettools:latest" })
   * ```
   * @since 0.1.0
   */
  static layerConfig(config: DockerConfig): Layer.Layer<DockerDriver, DockerError> {
    return Layer.effect(DockerDriver, Effect.suspend(() => make(config)))
  }
}

/**
 * The Docker faults' operations: one handler per fault (containers.ts, network.ts).
 *
 * @since 0.1.0
 */
export const dockerFaults = Handler.dispatch<DockerContext, DockerFault, DockerError>({ ...containers, ...network }, {
  discover: (ctx) => ctx.containers,
  unknown: (tag, operation) => new DockerError({ reason: "Unsupported", target: tag, operation, detail: `unknown fault ${tag}` })
})

const describe = (at: Handler.At) => at.target !== undefined ? `${at.target.name} (${at.target.id.slice(0, 12)})` : at.fault === "-" ? "docker" : at.fault

/**
 * Makes the Docker driver for a config (the layers use it; so does the out-of-process reverter).
 *
 * @since 0.1.0
 */
export const make = (config: DockerConfig) =>
  Effect.gen(function*() {
    const mod = yield* Effect.tryPromise({
      try: () => import("dockerode"),
      catch: (e) =>
        new DockerError({
          reason: "Unavailable",
          target: "engine",
          operation: "load",
          detail: `dockerode is not installed (npm install dockerode): ${(e as Error).message}`
        })
    })
    const Docker = (mod as any).default as typeof Dockerode
    const client: Dockerode = new Docker(config.socketPath ? { socketPath: config.socketPath } : undefined)
    const helperImage = config.helperImage ?? DEFAULT_HELPER_IMAGE
    const engine = Engine.make(client, { helperImage, verifyTimeout: config.verifyTimeout ?? "5 seconds" })
    const revertData = Effect.fn("DockerDriver.revert")((fault: string, data: Record<string, unknown>) => dockerFaults.revert(context, fault, data))
    const context: DockerContext = { ...engine, revertData }
    return DockerDriver.of({
      name: "docker",
      // How the watchdog reaches the engine after the runner died.
      connection: { socketPath: config.socketPath ?? null, helperImage },
      ...Handler.bind(dockerFaults, context, (e, at) => toDriverError(e, { operation: at.operation, target: describe(at) })),
      client,
      helperImage,
      ping: Effect.asVoid(engine.call("ping", "engine", () => client.ping())),
      inspect: engine.inspect,
      exec: engine.exec,
      runHelper: Effect.fn("DockerDriver.runHelper")((container: string, script: string, purpose: string) =>
        engine.helperRun(`container:${container}`, container, script, purpose)
      ),
      netemSupported: engine.netemSupported,
      revertData
    })
  })
