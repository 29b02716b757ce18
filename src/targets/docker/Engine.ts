/**
 * The Docker Engine as the fault handlers see it: calls mapped to `DockerError`, container
 * state, commands in helper containers, and the marker volumes that carry each fault's
 * revert data (see DockerDriver.ts).
 *
 * @since 0.1.0
 */
import { createHash, randomBytes } from "node:crypto"
import * as os from "node:os"
import type Dockerode from "dockerode"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { RevertData } from "../../core/Handler.ts"
import { CurrentFault, Run } from "../../core/Run.ts"
import * as Target from "../../core/Target.ts"
import * as Wait from "../../core/Wait.ts"
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
  readonly networks: Record<
    string,
    { readonly aliases: ReadonlyArray<string>; readonly ipv4: string; readonly ipv4Static: string | null; readonly ipv6Static: string | null }
  >
}

/** The output of a command run in a container or helper. @since 0.1.0 */
export interface CommandResult {
  readonly exitCode: number
  readonly output: string
}

/** Where the helper tools live in the helper image. @since 0.1.0 */
export const IPTABLES = "/usr/sbin/iptables"
/** @since 0.1.0 */
export const TC = "/usr/sbin/tc"
/** The handle of the root qdiscs faultline adds, so reverts delete only their own. @since 0.1.0 */
export const QDISC_HANDLE = "f1"

/** Quotes one word for `sh`. @since 0.1.0 */
export const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The tag of what one fault creates (its marker volume, its iptables rules' comment): derived
 * from the fault id while a fault is prepared or injected, so the revert data the ledger's
 * intent holds names them before they exist; random outside a fault.
 *
 * @since 0.1.0
 */
export const faultTag: Effect.Effect<string> = Effect.gen(function*() {
  const f = yield* CurrentFault
  return f === null ? randomBytes(8).toString("hex") : createHash("sha256").update(f.faultId).digest("hex").slice(0, 16)
})

/** The marker volume of a fault tag. @since 0.1.0 */
export const markerName = (tag: string) => `faultline-marker-${tag}`

/** The iptables comment of a fault tag (`[a-z0-9-]` only: it is matched in shell scripts). @since 0.1.0 */
export const ruleComment = (tag: string) => `faultline-${tag}`

/** Whether a string read back from revert data is a rule comment faultline wrote. @since 0.1.0 */
export const isRuleComment = (s: unknown): s is string => typeof s === "string" && /^faultline-[a-z0-9]{4,40}$/.test(s)

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

/**
 * dockerode reports "not modified" (already started / already stopped) as an error with
 * statusCode 304: for us that is success, so stopping twice is safe.
 *
 * @since 0.1.0
 */
export const notModifiedOk = <A>(p: () => Promise<A>) => () => p().catch((e) => (e?.statusCode === 304 ? undefined : Promise.reject(e)))

/** A fault accepted by the engine whose effect did not show. @since 0.1.0 */
export const ineffective = (operation: string, target: string, detail: string) => new DockerError({ reason: "InjectionIneffective", target, operation, detail })

/** A helper container that exited non-zero. @since 0.1.0 */
export const helperFailed = (operation: string, target: string, r: CommandResult) =>
  new DockerError({ reason: "HelperFailed", target, operation, detail: `exit ${r.exitCode}: ${r.output.trim().slice(-400)}` })

/** Fails `Conflict` unless the container runs (not paused, not stopped). @since 0.1.0 */
export const ensureRunning = (operation: string, c: ContainerState) =>
  c.running
    ? Effect.void
    : Effect.fail(new DockerError({ reason: "Conflict", target: c.name, operation, detail: `container is ${c.paused ? "paused" : c.status}, not running` }))

/**
 * The engine operations every Docker fault handler uses.
 *
 * @since 0.1.0
 */
export interface Engine {
  readonly client: Dockerode
  readonly helperImage: string
  readonly call: <A>(operation: string, target: string, f: () => Promise<A>) => Effect.Effect<A, DockerError>
  readonly runId: Effect.Effect<string>
  readonly inspect: (container: string) => Effect.Effect<ContainerState, DockerError>
  /** `inspect`, with a missing container as null. */
  readonly inspectOrNull: (container: string) => Effect.Effect<ContainerState | null, DockerError>
  readonly exec: (container: string, cmd: ReadonlyArray<string>) => Effect.Effect<CommandResult, DockerError>
  /**
   * The image id (`sha256:...`) a helper image name stands for now. Helpers run, and revert
   * data records, the id: a tag re-pointed later (or by someone else) changes nothing.
   */
  readonly helperImageId: (image?: string) => Effect.Effect<string, DockerError>
  /** Runs `script` in a helper container on `networkMode`, with NET_ADMIN, then removes it. */
  readonly helperRun: (networkMode: string, target: string, script: string, purpose: string, image?: string) => Effect.Effect<CommandResult, DockerError>
  readonly netemSupported: Effect.Effect<void, DockerError>
  /** Writes the fault's revert data into a labelled marker volume before the target is touched. */
  readonly createMarker: (fault: string, target: ContainerState, data: RevertData, extra: Record<string, string>) => Effect.Effect<string, DockerError>
  readonly removeMarker: (name: unknown) => Effect.Effect<void, DockerError>
  /** Polls `check` on the Clock until it holds, or fails `InjectionIneffective` after the verify timeout. */
  readonly verify: (operation: string, target: string, what: string, check: Effect.Effect<boolean, DockerError>) => Effect.Effect<void, DockerError>
  /** The running containers, but the helpers, as targets. */
  readonly containers: Effect.Effect<ReadonlyArray<Target.Target>, DockerError>
  /** The IPv4 addresses of containers, on every network they are on. */
  readonly peerAddresses: (peers: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, DockerError>
}

type Call = Engine["call"]

const collect = (stream: NodeJS.ReadableStream) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    stream.on("data", (c: Buffer) => chunks.push(Buffer.from(c)))
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    stream.on("error", reject)
  })

// Reading containers, and running commands in them.
const containerOps = (client: Dockerode, call: Call) => {
  const inspect = Effect.fn("DockerDriver.inspect")(function*(container: string) {
    const info = yield* call("inspect", container, () => client.getContainer(container).inspect())
    return toState(info)
  })
  const inspectOrNull = (container: string) => inspect(container).pipe(Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(null)))
  const exec = Effect.fn("DockerDriver.exec")(function*(container: string, cmd: ReadonlyArray<string>) {
    return yield* call("exec", container, async () => {
      const ex = await client.getContainer(container).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true, Tty: true })
      const stream = await ex.start({ hijack: true, stdin: false, Tty: true })
      const output = await collect(stream)
      const info = await ex.inspect()
      return { exitCode: info.ExitCode ?? -1, output }
    })
  })
  const containers = Effect.map(call("list", "engine", () => client.listContainers({ all: false })), (list) =>
    list
      .filter((c) => c.Labels?.[Labels.helper] === undefined)
      .map((c) => Target.make({ kind: "docker", id: c.Id, name: (c.Names?.[0] ?? c.Id).replace(/^\//, ""), labels: c.Labels ?? {} })))
  const peerAddresses = (peers: ReadonlyArray<string>) =>
    Effect.forEach(peers, (p) => Effect.map(inspect(p), (s) => Object.values(s.networks).map((n) => n.ipv4).filter((ip) => ip !== "")), { concurrency: 8 })
      .pipe(
        Effect.map((xs) => [...new Set(xs.flat())])
      )
  return { inspect, inspectOrNull, exec, containers, peerAddresses }
}

interface Owner {
  readonly client: Dockerode
  readonly call: Call
  readonly runId: Effect.Effect<string>
  /** `<hostname>:<pid>`: who created a helper or marker, so `recover` can tell a live run. */
  readonly owner: string
}

// Helper containers: one short-lived container per command, removed after it ran.
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/

// Image names resolved to ids, once per driver: a helper runs the image the tag named when
// the driver first used it.
const imageIds = ({ call, client }: Owner, helperImage: string) => {
  const ids = new Map<string, string>()
  return (image = helperImage): Effect.Effect<string, DockerError> =>
    IMAGE_ID.test(image)
      ? Effect.succeed(image)
      : ids.has(image)
      ? Effect.succeed(ids.get(image)!)
      : call("helper.image", image, () => client.getImage(image).inspect()).pipe(
        Effect.map((info) => {
          ids.set(image, info.Id)
          return info.Id
        }),
        Effect.mapError((e) =>
          e.reason === "NotFound"
            ? new DockerError({ ...e, detail: `helper image ${image} not found; build it with scripts/docker-images.sh (${e.detail})` })
            : e
        )
      )
}

const helperOps = (o: Owner, helperImage: string) => {
  const { call, client, owner, runId } = o
  const helperImageId = imageIds(o, helperImage)
  const createHelper = (networkMode: string, target: string, script: string, purpose: string, image: string, run: string) =>
    Effect.flatMap(helperImageId(image), (id) =>
      call("helper.create", target, () =>
        client.createContainer({
          Image: id,
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
        ))
  const helperRun = (networkMode: string, target: string, script: string, purpose: string, image = helperImage) =>
    Effect.flatMap(runId, (run) =>
      Effect.acquireUseRelease(
        createHelper(networkMode, target, script, purpose, image, run),
        (c) =>
          call("helper.run", target, async () => {
            await c.start()
            const status = await c.wait()
            const logs = await c.logs({ stdout: true, stderr: true, follow: false })
            return { exitCode: Number(status.StatusCode), output: Buffer.isBuffer(logs) ? logs.toString("utf8") : String(logs) }
          }),
        (c) => Effect.ignore(call("helper.remove", target, () => c.remove({ force: true })))
      ))
  let netemCache: DockerError | null | undefined = undefined
  const netemSupported = Effect.gen(function*() {
    if (netemCache === undefined) {
      // A helper in a network namespace of its own (only `lo`) tries a netem qdisc: this
      // asks the engine's kernel, which may not be the kernel of the machine we run on.
      const r = yield* helperRun("none", "engine", `${TC} qdisc add dev lo root netem delay 1ms`, "capability")
      netemCache = r.exitCode === 0 ? null : new DockerError({
        reason: "Unsupported",
        target: "engine",
        operation: "netem",
        detail: `the engine's kernel lacks the sch_netem module (tc: ${
          r.output.trim() || `exit ${r.exitCode}`
        }); delay/loss/duplicate/corrupt cannot be injected here`
      })
    }
    if (netemCache !== null) return yield* netemCache
  })
  return { helperRun, helperImageId, netemSupported }
}

// Marker volumes: a fault's revert data, written before the target is touched.
const markerOps = ({ call, client, owner, runId }: Owner) => {
  const createMarker = (fault: string, target: ContainerState, data: RevertData, extra: Record<string, string>) =>
    Effect.gen(function*() {
      const run = yield* runId
      const name = typeof data.marker === "string" ? data.marker : markerName(yield* faultTag)
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
        Effect.asVoid,
        Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void)
      )
      : Effect.void
  return { createMarker, removeMarker }
}

/**
 * The engine operations over a dockerode client.
 *
 * @since 0.1.0
 */
export const make = (client: Dockerode, config: { readonly helperImage: string; readonly verifyTimeout: Duration.Input }): Engine => {
  const verifyTimeout = Duration.fromInputUnsafe(config.verifyTimeout)
  const call: Call = (operation, target, f) => Effect.tryPromise({ try: f, catch: fromSdk(operation, target) })
  const runId = Effect.map(Effect.serviceOption(Run), (o) => (Option.isSome(o) ? o.value.runId : "adhoc"))
  const owner: Owner = { client, call, runId, owner: `${os.hostname()}:${process.pid}` }
  const verify = (operation: string, target: string, what: string, check: Effect.Effect<boolean, DockerError>) =>
    Wait.until(check, {
      every: "20 millis",
      timeout: verifyTimeout,
      onTimeout: () => ineffective(operation, target, `${what} not observed within ${Duration.toMillis(verifyTimeout)} ms`)
    })
  return {
    client,
    helperImage: config.helperImage,
    call,
    runId,
    verify,
    ...containerOps(client, call),
    ...helperOps(owner, config.helperImage),
    ...markerOps(owner)
  }
}

/**
 * What the Docker fault handlers run in: the engine, plus the driver's revert (a failed
 * injection reverts whatever half-landed).
 *
 * @since 0.1.0
 */
export interface DockerContext extends Engine {
  /** Reverts from revert data, deleting the fault's marker volume (idempotent). */
  readonly revertData: (fault: string, data: RevertData) => Effect.Effect<void, DockerError>
}

/**
 * Writes the fault's marker, then acts. When the act fails after the marker was written,
 * whatever half-landed is undone (which also deletes the marker), so a failed injection
 * leaves nothing behind. Returns the revert data with the marker's name.
 *
 * @since 0.1.0
 */
export const marked = (
  ctx: DockerContext,
  fault: string,
  c: ContainerState,
  data: RevertData,
  extra: Record<string, string>,
  act: Effect.Effect<unknown, DockerError>
): Effect.Effect<RevertData, DockerError> =>
  Effect.gen(function*() {
    const marker = yield* ctx.createMarker(fault, c, data, extra)
    yield* act.pipe(Effect.onError(() => Effect.ignore(ctx.revertData(fault, { ...data, marker }))))
    return { ...data, marker }
  })

/**
 * A revert that acts on the container the data names when it still exists, then deletes
 * the fault's marker volume.
 *
 * @since 0.1.0
 */
export const onContainer = (
  f: (ctx: DockerContext, c: ContainerState, data: RevertData) => Effect.Effect<void, DockerError>
) =>
(ctx: DockerContext, data: RevertData, target?: Target.Target): Effect.Effect<void, DockerError> =>
  Effect.gen(function*() {
    const id = yield* containerOf(data, target)
    const c = yield* ctx.inspectOrNull(id)
    if (c !== null) yield* f(ctx, c, data)
    yield* ctx.removeMarker(data.marker)
  })

/**
 * The container a revert acts on: the revert data's, else the ledger record's target. With
 * neither, the revert fails rather than close a fault it never checked.
 *
 * @since 0.1.0
 */
export const containerOf = (data: RevertData, target: Target.Target | undefined): Effect.Effect<string, DockerError> => {
  const id = typeof data.container === "string" && data.container !== "" ? data.container : target?.kind === "docker" ? target.id : ""
  return id !== ""
    ? Effect.succeed(id)
    : Effect.fail(new DockerError({ reason: "NotFound", target: String(data.name ?? "?"), operation: "revert", detail: "the revert data names no container" }))
}
