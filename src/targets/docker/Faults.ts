/**
 * Docker faults, as data. Each is a Schema tagged class whose `driver` is the DockerDriver
 * service and whose default guards require the label `faultline.allow=true` on every target
 * and cap the number of targets (see `defaultGuards`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Fault from "../../core/Fault.ts"
import * as Guard from "../../core/Guard.ts"
import * as Selector from "../../core/Selector.ts"
import { DockerDriver } from "./DockerDriver.ts"

/** The label every Docker target must carry by default. @since 0.1.0 */
export const ALLOW_LABEL = "faultline.allow"

/**
 * The guards every Docker fault brings unless the experiment has a guard of the same kind:
 * `allowLabel("faultline.allow", "true")` and `maxTargets(10)`.
 *
 * @since 0.1.0
 */
export const defaultGuards: ReadonlyArray<Guard.Guard> = [Guard.allowLabel(ALLOW_LABEL, "true"), Guard.maxTargets(10)]

/** The base of every Docker fault (driver: DockerDriver; default guards above). @since 0.1.0 */
export const DockerFaultClass = Fault.Class(DockerDriver, { defaultGuards })

/** @since 0.1.0 */
export const Signal = Schema.Literals([
  "SIGKILL",
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGABRT"
])
/** @since 0.1.0 */
export type Signal = typeof Signal.Type

const GraceSeconds = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(10)))

/**
 * `docker.kill`: send a signal (default SIGKILL). Reverting starts the container again if it
 * is not running (a restart policy may have done so already).
 *
 * @since 0.1.0
 */
export class DockerKill extends DockerFaultClass<DockerKill>()("docker.kill", {
  target: Selector.Selector,
  signal: Signal.pipe(Schema.withDecodingDefaultKey(Effect.succeed("SIGKILL" as const)))
}) {}

/**
 * `docker.stop`: SIGTERM, then SIGKILL after `graceSeconds`. Reverting starts it again.
 *
 * @since 0.1.0
 */
export class DockerStop extends DockerFaultClass<DockerStop>()("docker.stop", {
  target: Selector.Selector,
  graceSeconds: GraceSeconds
}) {}

/**
 * `docker.restart`: stop (with `graceSeconds`) and start. Reverting makes sure it runs.
 *
 * @since 0.1.0
 */
export class DockerRestart extends DockerFaultClass<DockerRestart>()("docker.restart", {
  target: Selector.Selector,
  graceSeconds: GraceSeconds
}) {}

/**
 * `docker.pause`: freeze every process of the container (cgroup freezer). Reverting unpauses.
 *
 * @since 0.1.0
 */
export class DockerPause extends DockerFaultClass<DockerPause>()("docker.pause", {
  target: Selector.Selector
}) {}

/**
 * `docker.disconnect`: detach the container from `network`. Reverting reconnects it with the
 * aliases (and static addresses) it had.
 *
 * @since 0.1.0
 */
export class DockerDisconnect extends DockerFaultClass<DockerDisconnect>()("docker.disconnect", {
  target: Selector.Selector,
  network: Schema.String
}) {}

/**
 * `docker.partition`: drop all traffic between the container and the named peer containers
 * (by name or id), with iptables rules added from a helper container that shares the target's
 * network namespace. Reverting deletes exactly those rules.
 *
 * @since 0.1.0
 */
export class DockerPartition extends DockerFaultClass<DockerPartition>()("docker.partition", {
  target: Selector.Selector,
  peers: Schema.Array(Schema.String).check(Schema.isMinLength(1))
}) {}

/**
 * `docker.bandwidth`: limit egress of `device` (default: the default route's interface) with a tbf qdisc. Reverting
 * deletes the qdisc.
 *
 * @since 0.1.0
 */
export class DockerBandwidth extends DockerFaultClass<DockerBandwidth>()("docker.bandwidth", {
  target: Selector.Selector,
  /** tc rate, e.g. "1mbit", "256kbit". */
  rate: Schema.String.check(Schema.isPattern(/^\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/)),
  burst: Schema.String.check(Schema.isPattern(/^\d+(\.\d+)?(b|kb|k|mb|m|kbit|mbit)?$/)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("32kbit"))
  ),
  latencyMs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(400))),
  /** Default: the interface of the default route. */
  device: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[A-Za-z0-9_.-]{1,15}$/)))
}) {}

/**
 * `docker.netem`: delay, loss, duplication, corruption on `device` (default: the default route's interface) with a netem
 * qdisc. Needs the kernel module `sch_netem`; where it is missing, planning the fault fails
 * with `Unsupported` naming the module — it never silently does nothing.
 *
 * @since 0.1.0
 */
export class DockerNetem extends DockerFaultClass<DockerNetem>()("docker.netem", {
  target: Selector.Selector,
  delayMs: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))),
  jitterMs: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))),
  lossPercent: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100 }))),
  duplicatePercent: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100 }))),
  corruptPercent: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100 }))),
  /** Default: the interface of the default route. */
  device: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[A-Za-z0-9_.-]{1,15}$/)))
}) {}

/**
 * `docker.remove`: force-remove the container. Irreversible: planning refuses it unless the
 * experiment says `irreversible: true`; its revert does nothing.
 *
 * @since 0.1.0
 */
export class DockerRemove extends DockerFaultClass<DockerRemove>({ irreversible: true })("docker.remove", {
  target: Selector.Selector,
  volumes: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false)))
}) {}

/** Every Docker fault. @since 0.1.0 */
export const DockerFault = Schema.Union([
  DockerKill,
  DockerStop,
  DockerRestart,
  DockerPause,
  DockerDisconnect,
  DockerPartition,
  DockerBandwidth,
  DockerNetem,
  DockerRemove
])
/** @since 0.1.0 */
export type DockerFault = typeof DockerFault.Type

/** `docker.kill`. @since 0.1.0 */
export const kill = (options: { readonly target: Selector.Selector; readonly signal?: Signal }): DockerKill =>
  new DockerKill({ target: options.target, signal: options.signal ?? "SIGKILL" })
/** `docker.stop`, grace period default 10 s. @since 0.1.0 */
export const stop = (options: { readonly target: Selector.Selector; readonly graceSeconds?: number }): DockerStop =>
  new DockerStop({ target: options.target, graceSeconds: options.graceSeconds ?? 10 })
/** `docker.restart`, grace period default 10 s. @since 0.1.0 */
export const restart = (options: { readonly target: Selector.Selector; readonly graceSeconds?: number }): DockerRestart =>
  new DockerRestart({ target: options.target, graceSeconds: options.graceSeconds ?? 10 })
/** `docker.pause`. @since 0.1.0 */
export const pause = (options: { readonly target: Selector.Selector }): DockerPause => new DockerPause(options)
/** `docker.disconnect` from a network. @since 0.1.0 */
export const disconnect = (options: { readonly target: Selector.Selector; readonly network: string }): DockerDisconnect => new DockerDisconnect(options)
/** `docker.partition` from peers (container names or ids). @since 0.1.0 */
export const partition = (options: { readonly target: Selector.Selector; readonly peers: ReadonlyArray<string> }): DockerPartition =>
  new DockerPartition({ target: options.target, peers: [...options.peers] })
/** `docker.bandwidth` (tbf); burst default "32kbit", latency default 400 ms. @since 0.1.0 */
export const bandwidth = (options: {
  readonly target: Selector.Selector
  readonly rate: string
  readonly burst?: string
  readonly latencyMs?: number
  readonly device?: string
}): DockerBandwidth =>
  new DockerBandwidth({
    target: options.target,
    rate: options.rate,
    burst: options.burst ?? "32kbit",
    latencyMs: options.latencyMs ?? 400,
    ...(options.device !== undefined ? { device: options.device } : {})
  })
/** `docker.netem`. @since 0.1.0 */
export const netem = (options: {
  readonly target: Selector.Selector
  readonly delayMs?: number
  readonly jitterMs?: number
  readonly lossPercent?: number
  readonly duplicatePercent?: number
  readonly corruptPercent?: number
  readonly device?: string
}): DockerNetem => new DockerNetem(options)
/** `docker.remove` (irreversible). @since 0.1.0 */
export const remove = (options: { readonly target: Selector.Selector; readonly volumes?: boolean }): DockerRemove =>
  new DockerRemove({ target: options.target, volumes: options.volumes ?? false })
