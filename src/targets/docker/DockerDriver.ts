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
import * as os from "node:os"
import type Dockerode from "dockerode"
import { Context, Duration, Effect, Layer, Option } from "effect"
import type { Driver } from "../../core/Driver.ts"
import { DriverError } from "../../core/Driver.ts"
import type { Revert } from "../../core/Journal.ts"
import { Run } from "../../core/Run.ts"
import * as Target from "../../core/Target.ts"
import { DockerError, fromSdk } from "./DockerError.ts"

/** Labels written by the driver. @since 0.1.0 */
export const Labels = {
  run: "faultline.run",
  owner: "faultline.owner",
  marker: "faultline.marker",
  helper: "faultline.helper",
  fault: "faultline.fault",
  target: "faultline.target",
  revert: "faultline.revert",
  pausedBy: "faultline.paused-by",
  disconnectedFrom: "faultline.disconnected-from"
} as const

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

/** What the driver reads of a container. @since 0.1.0 */
export interface ContainerState {
  readonly id: string
  readonly name: string
  readonly running: boolean
  readonly paused: boolean
  readonly status: string
  /** `healthy`, `unhealthy`, `starting`, or null without a health check. */
  readonly health: string | null
  readonly restartCount: number
  readonly startedAt: string
  readonly labels: Record<string, string>
  /** Network name -> the endpoint's aliases and addresses. */
  readonly networks: Record<string, { readonly aliases: ReadonlyArray<string>; readonly ipv4: string; readonly ipv4Static: string | null; readonly ipv6Static: string | null }>
}

/** The output of a command run in a container or helper. @since 0.1.0 */
export interface CommandResult {
  readonly exitCode: number
  readonly output: string
}

/**
 * The Docker driver service: the generic Driver plus what probes, tests and `recover` use.
 *
 * @since 0.1.0
 */
export class DockerDriver extends Context.Service<DockerDriver, Driver & {
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
}>()("faultline/DockerDriver") {
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

const shortName = (names: ReadonlyArray<string> | undefined, id: string) => (names?.[0] ?? id).replace(/^\//, "")

const toState = (info: Dockerode.ContainerInspectInfo): ContainerState => {
  const networks: Record<string, ContainerState["networks"][string]> = {}
  for (const [name, ep] of Object.entries(info.NetworkSettings?.Networks ?? {})) {
    const e = ep as any
    networks[name] = {
      aliases: (e.Aliases ?? []) as Array<string>,
      ipv4: e.IPAddress ?? "",
      ipv4Static: e.IPAMConfig?.IPv4Address || null,
      ipv6Static: e.IPAMConfig?.IPv6Address || null
    }
  }
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ""),
    running: info.State.Running && !info.State.Paused,
    paused: info.State.Paused,
    status: info.State.Status,
    health: (info.State as any).Health?.Status ?? null,
    restartCount: info.RestartCount ?? 0,
    startedAt: info.State.StartedAt,
    labels: info.Config.Labels ?? {},
    networks
  }
}

// dockerode reports "not modified" (already started / already stopped) as an error with
// statusCode 304: for us that is success, so stopping twice is safe.
const notModifiedOk = <A>(p: () => Promise<A>) => () => p().catch((e) => (e?.statusCode === 304 ? undefined : Promise.reject(e)))

const toDriverError = (operation: string, target: string) => (e: DockerError) =>
  new DriverError({ driver: "docker", operation, target, reason: e.reason, detail: e.detail })

const IPTABLES = "/usr/sbin/iptables"
const TC = "/usr/sbin/tc"
// The handle of the root qdiscs faultline adds ("fl"), so reverts delete only their own.
const QDISC_HANDLE = "f1"

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

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
        new DockerError({ reason: "Unavailable", target: "engine", operation: "load", detail: `dockerode is not installed (npm install dockerode): ${(e as Error).message}` })
    })
    const Docker = (mod as any).default as typeof Dockerode
    const client: Dockerode = new Docker(config.socketPath ? { socketPath: config.socketPath } : undefined)
    const helperImage = config.helperImage ?? DEFAULT_HELPER_IMAGE
    const verifyMs = Duration.toMillis(Duration.fromInputUnsafe(config.verifyTimeout ?? "5 seconds"))
    const owner = `${os.hostname()}:${process.pid}`

    const call = <A>(operation: string, target: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: fromSdk(operation, target) })

    const runId = Effect.map(Effect.serviceOption(Run), (o) => (Option.isSome(o) ? o.value.runId : "adhoc"))

    const ping = Effect.asVoid(call("ping", "engine", () => client.ping()))

    const inspect = Effect.fn("DockerDriver.inspect")(function*(container: string) {
      const info = yield* call("inspect", container, () => client.getContainer(container).inspect())
      return toState(info)
    })

    const inspectOrNull = (container: string) =>
      inspect(container).pipe(Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(null)))

    const collect = (stream: NodeJS.ReadableStream) =>
      new Promise<string>((resolve, reject) => {
        const chunks: Array<Buffer> = []
        stream.on("data", (c: Buffer) => chunks.push(Buffer.from(c)))
        stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
        stream.on("error", reject)
      })

    const exec = Effect.fn("DockerDriver.exec")(function*(container: string, cmd: ReadonlyArray<string>) {
      return yield* call("exec", container, async () => {
        const ex = await client.getContainer(container).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true, Tty: true })
        const stream = await ex.start({ hijack: true, stdin: false, Tty: true })
        const output = await collect(stream)
        const info = await ex.inspect()
        return { exitCode: info.ExitCode ?? -1, output }
      })
    })

    const helperRun = (networkMode: string, target: string, script: string, purpose: string, image = helperImage) =>
      Effect.gen(function*() {
        const run = yield* runId
        return yield* Effect.acquireUseRelease(
          call("helper.create", target, () =>
            client.createContainer({
              Image: image,
              Cmd: ["/bin/sh", "-c", script],
              Tty: true,
              Labels: { [Labels.run]: run, [Labels.owner]: owner, [Labels.helper]: purpose, [Labels.target]: target },
              HostConfig: { NetworkMode: networkMode, CapAdd: ["NET_ADMIN"] }
            })).pipe(
              Effect.mapError((e) =>
                e.reason === "NotFound" && /image/i.test(e.detail)
                  ? new DockerError({ ...e, detail: `helper image ${image} not found; build it with scripts/docker-images.sh (${e.detail})` })
                  : e
              )
            ),
          (c) =>
            call("helper.run", target, async () => {
              await c.start()
              const status = await c.wait()
              const logs = await c.logs({ stdout: true, stderr: true, follow: false })
              return { exitCode: Number(status.StatusCode), output: Buffer.isBuffer(logs) ? logs.toString("utf8") : String(logs) }
            }),
          (c) => Effect.ignore(call("helper.remove", target, () => c.remove({ force: true })))
        )
      })

    const runHelper = Effect.fn("DockerDriver.runHelper")(function*(container: string, script: string, purpose: string) {
      return yield* helperRun(`container:${container}`, container, script, purpose)
    })

    let netemCache: DockerError | null | undefined = undefined
    const netemSupported = Effect.gen(function*() {
      if (netemCache === undefined) {
        // A helper in a network namespace of its own (only `lo`) tries a netem qdisc: this
        // asks the engine's kernel, which may not be the kernel of the machine we run on.
        const r = yield* helperRun("none", "engine", `${TC} qdisc add dev lo root netem delay 1ms`, "capability")
        netemCache = (
          r.exitCode === 0
            ? null
            : new DockerError({
              reason: "Unsupported",
              target: "engine",
              operation: "netem",
              detail: `the engine's kernel lacks the sch_netem module (tc: ${r.output.trim() || `exit ${r.exitCode}`}); delay/loss/duplicate/corrupt cannot be injected here`
            })
        )
      }
      if (netemCache !== null) return yield* netemCache
    })

    // ---- markers: write-ahead revert records as labelled volumes ----------------------------
    const markerName = () => `faultline-marker-${Math.random().toString(36).slice(2, 10)}${Math.random().toString(36).slice(2, 6)}`
    const createMarker = (fault: string, target: ContainerState, data: Record<string, unknown>, extra: Record<string, string>) =>
      Effect.gen(function*() {
        const run = yield* runId
        const name = markerName()
        yield* call("marker.create", target.name, () =>
          (client.createVolume as (o: unknown) => Promise<unknown>)({
            Name: name,
            Labels: {
              [Labels.run]: run,
              [Labels.owner]: owner,
              [Labels.marker]: "true",
              [Labels.fault]: fault,
              [Labels.target]: target.id,
              [Labels.revert]: JSON.stringify({ ...data, marker: name }),
              ...extra
            }
          }))
        return name
      })
    const removeMarker = (name: unknown) =>
      typeof name === "string"
        ? call("marker.remove", name, () => client.getVolume(name).remove()).pipe(
          Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void)
        )
        : Effect.void

    // Polls `check` on the Clock until it holds or the verify timeout passes.
    const verify = (operation: string, target: string, what: string, check: Effect.Effect<boolean, DockerError>) =>
      Effect.gen(function*() {
        for (let waited = 0;; waited += 20) {
          if (yield* check) return
          if (waited >= verifyMs) {
            return yield* new DockerError({ reason: "InjectionIneffective", target, operation, detail: `${what} not observed within ${verifyMs} ms` })
          }
          yield* Effect.sleep("20 millis")
        }
      })

    const ineffective = (operation: string, target: string, detail: string) =>
      new DockerError({ reason: "InjectionIneffective", target, operation, detail })

    const helperFailed = (operation: string, target: string, r: CommandResult) =>
      new DockerError({ reason: "HelperFailed", target, operation, detail: `exit ${r.exitCode}: ${r.output.trim().slice(-400)}` })

    const peerAddresses = (peers: ReadonlyArray<string>) =>
      Effect.forEach(peers, (p) =>
        Effect.map(inspect(p), (s) => Object.values(s.networks).map((n) => n.ipv4).filter((ip) => ip !== "")), { concurrency: 8 }).pipe(
          Effect.map((xs) => [...new Set(xs.flat())])
        )

    const ensureRunning = (operation: string, c: ContainerState) =>
      c.running ? Effect.void : Effect.fail(new DockerError({ reason: "Conflict", target: c.name, operation, detail: `container is ${c.paused ? "paused" : c.status}, not running` }))

    // ---- inject -------------------------------------------------------------------------------
    // When an injection fails after its marker was written, undo whatever half-landed (which
    // also deletes the marker), so a failed injection leaves nothing behind.
    const guarded = <A>(fault: string, data: Record<string, unknown>, marker: string, act: Effect.Effect<A, DockerError>) =>
      act.pipe(Effect.onError(() => Effect.ignore(revertData(fault, { ...data, marker }))))

    const injectDocker = Effect.fn("DockerDriver.inject")(function*(fault: any, target: Target.Target) {
      const c = yield* inspect(target.id)
      const ctr = client.getContainer(c.id)
      const tag = fault._tag as string
      switch (tag) {
        case "docker.kill": {
          yield* ensureRunning("kill", c)
          const data = { container: c.id, name: c.name, signal: fault.signal }
          const marker = yield* createMarker(tag, c, data, {})
          yield* guarded(tag, data, marker, Effect.gen(function*() {
            yield* call("kill", c.name, () => ctr.kill({ signal: fault.signal }))
            if (fault.signal === "SIGKILL") {
              // Dead, or already restarted by a restart policy (a new StartedAt).
              yield* verify("kill", c.name, "container exit", Effect.map(inspect(c.id), (s) => !s.running || s.startedAt !== c.startedAt))
            }
          }))
          return { ...data, marker }
        }
        case "docker.stop": {
          const data = { container: c.id, name: c.name }
          const marker = yield* createMarker(tag, c, data, {})
          yield* guarded(tag, data, marker, Effect.andThen(
            call("stop", c.name, notModifiedOk(() => ctr.stop({ t: fault.graceSeconds }))),
            verify("stop", c.name, "container stopped", Effect.map(inspect(c.id), (s) => !s.running && !s.paused))
          ))
          return { ...data, marker }
        }
        case "docker.restart": {
          const data = { container: c.id, name: c.name }
          const marker = yield* createMarker(tag, c, data, {})
          yield* guarded(tag, data, marker, Effect.andThen(
            call("restart", c.name, () => ctr.restart({ t: fault.graceSeconds })),
            verify("restart", c.name, "a new start", Effect.map(inspect(c.id), (s) => s.running && s.startedAt !== c.startedAt))
          ))
          return { ...data, marker }
        }
        case "docker.pause": {
          yield* ensureRunning("pause", c)
          const run = yield* runId
          const data = { container: c.id, name: c.name }
          const marker = yield* createMarker(tag, c, data, { [Labels.pausedBy]: run })
          yield* guarded(tag, data, marker, Effect.gen(function*() {
            yield* call("pause", c.name, () => ctr.pause())
            const s = yield* inspect(c.id)
            if (!s.paused) return yield* ineffective("pause", c.name, `state is ${s.status} after pause`)
          }))
          return { ...data, marker }
        }
        case "docker.disconnect": {
          const ep = c.networks[fault.network]
          if (ep === undefined) {
            return yield* new DockerError({ reason: "Conflict", target: c.name, operation: "disconnect", detail: `not connected to network ${fault.network}` })
          }
          // Docker adds the short id as an alias by itself; keep only the aliases a user gave.
          const aliases = ep.aliases.filter((a) => !c.id.startsWith(a))
          const data = { container: c.id, name: c.name, network: fault.network, aliases, ipv4Static: ep.ipv4Static, ipv6Static: ep.ipv6Static }
          const marker = yield* createMarker(tag, c, data, { [Labels.disconnectedFrom]: fault.network })
          yield* guarded(tag, data, marker, Effect.gen(function*() {
            yield* call("disconnect", c.name, () => client.getNetwork(fault.network).disconnect({ Container: c.id, Force: true }))
            const s = yield* inspect(c.id)
            if (s.networks[fault.network] !== undefined) return yield* ineffective("disconnect", c.name, `still attached to ${fault.network}`)
          }))
          return { ...data, marker }
        }
        case "docker.partition": {
          yield* ensureRunning("partition", c)
          const ips = yield* peerAddresses(fault.peers)
          if (ips.length === 0) {
            return yield* new DockerError({ reason: "NotFound", target: c.name, operation: "partition", detail: `peers ${fault.peers.join(", ")} have no IP address` })
          }
          const comment = markerName().replace("faultline-marker-", "faultline-")
          const rules: Array<ReadonlyArray<string>> = ips.flatMap((ip) => [
            ["INPUT", "-s", ip, "-m", "comment", "--comment", comment, "-j", "DROP"],
            ["OUTPUT", "-d", ip, "-m", "comment", "--comment", comment, "-j", "DROP"]
          ])
          const data = { container: c.id, name: c.name, peers: fault.peers, rules, comment, helperImage }
          const marker = yield* createMarker(tag, c, data, {})
          const script = ["set -e", ...rules.map((r) => `${IPTABLES} -w -I ${r.map(sh).join(" ")}`), `${IPTABLES} -w -S`].join("\n")
          yield* guarded(tag, data, marker, Effect.gen(function*() {
            const r = yield* runHelper(c.id, script, "partition")
            if (r.exitCode !== 0) return yield* helperFailed("partition", c.name, r)
            const present = r.output.split("\n").filter((l) => l.includes(`--comment ${comment}`)).length
            if (present < rules.length) return yield* ineffective("partition", c.name, `${present}/${rules.length} iptables rules present`)
          }))
          return { ...data, marker }
        }
        case "docker.bandwidth":
        case "docker.netem": {
          yield* ensureRunning(tag, c)
          const kind = tag === "docker.bandwidth" ? "tbf" : "netem"
          if (kind === "netem") yield* netemSupported
          const params = kind === "tbf"
            ? ["rate", fault.rate, "burst", fault.burst, "latency", `${fault.latencyMs}ms`]
            : [
              ...(fault.delayMs !== undefined ? ["delay", `${fault.delayMs}ms`, ...(fault.jitterMs !== undefined ? [`${fault.jitterMs}ms`] : [])] : []),
              ...(fault.lossPercent !== undefined ? ["loss", `${fault.lossPercent}%`] : []),
              ...(fault.duplicatePercent !== undefined ? ["duplicate", `${fault.duplicatePercent}%`] : []),
              ...(fault.corruptPercent !== undefined ? ["corrupt", `${fault.corruptPercent}%`] : [])
            ]
          const data = { container: c.id, name: c.name, device: fault.device ?? null, qdisc: kind, helperImage }
          const marker = yield* createMarker(tag, c, data, {})
          // Without a device, the one carrying the default route (interface names change when a
          // container is reconnected). Our qdisc has a handle of its own, so the revert deletes
          // exactly it, on whichever device it sits.
          const script = [
            "set -e",
            fault.device ? `DEV=${sh(fault.device)}` : `DEV=$(ip -o route show default | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -1)`,
            `[ -n "$DEV" ] || DEV=$(ls /sys/class/net | grep -v '^lo$' | head -1)`,
            `${TC} qdisc replace dev "$DEV" root handle ${QDISC_HANDLE}: ${kind} ${params.map(sh).join(" ")}`,
            `echo "DEVICE=$DEV"`,
            `${TC} qdisc show dev "$DEV"`
          ].join("\n")
          yield* guarded(tag, data, marker, Effect.gen(function*() {
            const r = yield* runHelper(c.id, script, kind)
            if (r.exitCode !== 0) {
              if (/qdisc kind is unknown/i.test(r.output)) {
                return yield* new DockerError({ reason: "Unsupported", target: c.name, operation: tag, detail: `the kernel lacks sch_${kind} (${r.output.trim()})` })
              }
              return yield* helperFailed(tag, c.name, r)
            }
            if (!new RegExp(`qdisc ${kind} ${QDISC_HANDLE}: root`).test(r.output)) {
              return yield* ineffective(tag, c.name, `no root ${kind} qdisc: ${r.output.trim()}`)
            }
          }))
          return { ...data, marker }
        }
        case "docker.remove": {
          yield* call("remove", c.name, () => ctr.remove({ force: true, v: fault.volumes }))
          const s = yield* inspectOrNull(c.id)
          if (s !== null) return yield* ineffective("remove", c.name, `container still exists (${s.status})`)
          return { container: c.id, name: c.name, irreversible: true }
        }
        default:
          return yield* new DockerError({ reason: "Unsupported", target: c.name, operation: "inject", detail: `unknown fault ${tag}` })
      }
    })

    // ---- revert (idempotent) ------------------------------------------------------------------
    const revertData = Effect.fn("DockerDriver.revert")(function*(fault: string, data: Record<string, unknown>) {
      const id = String(data.container ?? "")
      if (fault === "docker.pause" && id !== "") {
        // The hot path of mass reverts: unpause straight away; "is not paused" (HTTP 500 or 409)
        // and "no such container" (404) mean there is nothing to undo. Then confirm.
        yield* call("unpause", String(data.name ?? id), () => client.getContainer(id).unpause()).pipe(
          Effect.catchIf((e) => e.reason === "Conflict" || e.reason === "NotFound" || /is not paused/i.test(e.detail), () => Effect.void)
        )
        const s = yield* inspectOrNull(id)
        if (s?.paused) return yield* new DockerError({ reason: "Conflict", target: s.name, operation: "unpause", detail: "still paused" })
        return yield* removeMarker(data.marker)
      }
      const c = id === "" ? null : yield* inspectOrNull(id)
      if (c !== null) {
        const ctr = client.getContainer(c.id)
        switch (fault) {
          case "docker.kill":
          case "docker.stop":
          case "docker.restart": {
            if (!c.running && !c.paused) {
              yield* call("start", c.name, notModifiedOk(() => ctr.start()))
            }
            break
          }
          case "docker.pause": {
            if (c.paused) {
              yield* call("unpause", c.name, () => ctr.unpause()).pipe(
                // Unpaused meanwhile (e.g. by a concurrent recover): nothing left to do.
                Effect.catchIf((e) => e.reason === "Conflict", () => Effect.void)
              )
            }
            const s = yield* inspect(c.id)
            if (s.paused) return yield* new DockerError({ reason: "Conflict", target: c.name, operation: "unpause", detail: "still paused" })
            break
          }
          case "docker.disconnect": {
            const network = String(data.network)
            if (c.networks[network] === undefined) {
              const ipam: Record<string, string> = {}
              if (typeof data.ipv4Static === "string") ipam.IPv4Address = data.ipv4Static
              if (typeof data.ipv6Static === "string") ipam.IPv6Address = data.ipv6Static
              yield* call("connect", c.name, () =>
                client.getNetwork(network).connect({
                  Container: c.id,
                  EndpointConfig: {
                    Aliases: (data.aliases as Array<string> | undefined) ?? [],
                    ...(Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {})
                  }
                })).pipe(
                  // 403/409 "already exists in network": connected meanwhile.
                  Effect.catchIf((e) => /already exists/i.test(e.detail), () => Effect.void)
                )
            }
            break
          }
          case "docker.partition": {
            // A stopped container's network namespace, and its rules, are gone with it.
            if (c.running || c.paused) {
              const rules = (data.rules as Array<Array<string>> | undefined) ?? []
              const script = rules.map((r) => {
                const [chain, ...rest] = r
                const spec = `${sh(chain!)} ${rest.map(sh).join(" ")}`
                return `while ${IPTABLES} -w -C ${spec} 2>/dev/null; do ${IPTABLES} -w -D ${spec} || exit 1; done`
              }).join("\n") + `\n! ${IPTABLES} -w -S | grep -q -- ${sh(`--comment ${String(data.comment)}`)}`
              if (c.paused) {
                return yield* new DockerError({ reason: "Conflict", target: c.name, operation: "partition.revert", detail: "container is paused; unpause it first" })
              }
              // The image that added the rules removes them (recover may run with another default).
              const r = yield* helperRun(`container:${c.id}`, c.id, script, "partition-revert", typeof data.helperImage === "string" ? data.helperImage : helperImage)
              if (r.exitCode !== 0) return yield* helperFailed("partition.revert", c.name, r)
            }
            break
          }
          case "docker.bandwidth":
          case "docker.netem": {
            if (c.running) {
              const script = [
                `for DEV in $(ls /sys/class/net); do`,
                `  if ${TC} qdisc show dev "$DEV" | grep -q 'qdisc [a-z_]* ${QDISC_HANDLE}: root'; then ${TC} qdisc del dev "$DEV" root; fi`,
                `  if ${TC} qdisc show dev "$DEV" | grep -q 'qdisc [a-z_]* ${QDISC_HANDLE}: root'; then exit 1; fi`,
                `done`
              ].join("\n")
              const r = yield* helperRun(`container:${c.id}`, c.id, script, `${String(data.qdisc)}-revert`, typeof data.helperImage === "string" ? data.helperImage : helperImage)
              if (r.exitCode !== 0) return yield* helperFailed(`${fault}.revert`, c.name, r)
            }
            break
          }
          default:
            break
        }
      }
      yield* removeMarker(data.marker)
    })

    const discover = (fault: any) =>
      Effect.gen(function*() {
        if (fault?._tag === "docker.netem") yield* netemSupported
        const list = yield* call("list", "engine", () => client.listContainers({ all: false }))
        return list
          .filter((c) => c.Labels?.[Labels.helper] === undefined)
          .map((c) => Target.make({ kind: "docker", id: c.Id, name: shortName(c.Names, c.Id), labels: c.Labels ?? {} }))
      }).pipe(Effect.mapError(toDriverError("discover", String(fault?._tag ?? "docker"))))

    return DockerDriver.of({
      name: "docker",
      // How the watchdog reaches the engine after the runner died.
      connection: { socketPath: config.socketPath ?? null, helperImage },
      // Revert data for the ledger's intent, before anything is touched: unpausing by id is
      // safe whether or not the pause landed. Other faults record nothing here; what they
      // did is recorded in their marker volume (`faultline recover --docker`).
      prepare: (fault, target) =>
        Effect.succeed(fault?._tag === "docker.pause" ? { container: target.id, name: target.name } : {}),
      client,
      helperImage,
      ping,
      inspect,
      exec,
      runHelper,
      netemSupported,
      revertData,
      discover,
      inject: (fault, target) => injectDocker(fault, target).pipe(Effect.mapError(toDriverError("inject", `${target.name} (${target.id.slice(0, 12)})`))),
      revert: (r: Revert) => revertData(r.fault, r.data).pipe(Effect.mapError(toDriverError("revert", `${r.target.name} (${r.target.id.slice(0, 12)})`)))
    })
  })
