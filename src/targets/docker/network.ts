/**
 * Handlers of the Docker faults on a container's network: disconnect, partition (iptables),
 * bandwidth (tbf) and netem, the last three applied from a helper container that shares the
 * target's network namespace.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Handler from "../../core/Handler.ts"
import type * as Target from "../../core/Target.ts"
import { DockerError } from "./DockerError.ts"
import {
  type DockerContext,
  ensureRunning,
  helperFailed,
  IPTABLES,
  ineffective,
  Labels,
  marked,
  faultTag,
  isRuleComment,
  markerName,
  onContainer,
  QDISC_HANDLE,
  ruleComment,
  sh,
  TC
} from "./Engine.ts"
import type { DockerBandwidth, DockerFault, DockerNetem } from "./Faults.ts"

type Network = "docker.disconnect" | "docker.partition" | "docker.bandwidth" | "docker.netem"

// The image that changed the namespace undoes it (recover may run with another default) —
// when the record names it by id; a name in revert data (data, not configuration) is not
// run: the driver's own helper image is.
const imageOf = (ctx: DockerContext, data: Handler.RevertData) =>
  typeof data.helperImage === "string" && /^sha256:[0-9a-f]{64}$/.test(data.helperImage) ? data.helperImage : ctx.helperImage

const reconnect = onContainer((ctx, c, data) => {
  const network = String(data.network)
  if (c.networks[network] !== undefined || data.wasConnected === false) return Effect.void
  const ipam: Record<string, string> = {}
  if (typeof data.ipv4Static === "string") ipam.IPv4Address = data.ipv4Static
  if (typeof data.ipv6Static === "string") ipam.IPv6Address = data.ipv6Static
  return ctx.call("connect", c.name, () =>
    ctx.client.getNetwork(network).connect({
      Container: c.id,
      EndpointConfig: {
        Aliases: (data.aliases as Array<string> | undefined) ?? [],
        ...(Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {})
      }
    })).pipe(
      Effect.asVoid,
      // 403/409 "already exists in network": connected meanwhile.
      Effect.catchIf((e) => /already exists/i.test(e.detail), () => Effect.void)
    )
})

const unpartition = onContainer((ctx, c, data) =>
  Effect.gen(function*() {
    // A stopped container's network namespace, and its rules, are gone with it.
    if (!c.running && !c.paused) return
    if (c.paused) {
      return yield* new DockerError({ reason: "Conflict", target: c.name, operation: "partition.revert", detail: "container is paused; unpause it first" })
    }
    // The rules are found by their comment, not by the list the injection returned: the
    // intent's revert data (written before any rule exists) has only the comment, and the
    // runner may have died after adding some rules. The comment is checked to be one
    // faultline writes before it goes into the script.
    if (!isRuleComment(data.comment)) {
      return yield* new DockerError({
        reason: "NotFound",
        target: c.name,
        operation: "partition.revert",
        detail: `no rule comment in the revert data (${JSON.stringify(data.comment)})`
      })
    }
    const tag = sh(`--comment ${data.comment}`)
    const script = [
      `${IPTABLES} -w -S | grep -F -- ${tag} | sed 's/^-A /-D /' | while read -r RULE; do ${IPTABLES} -w $RULE || exit 1; done`,
      `! ${IPTABLES} -w -S | grep -q -F -- ${tag}`
    ].join("\n")
    const r = yield* ctx.helperRun(`container:${c.id}`, c.id, script, "partition-revert", imageOf(ctx, data))
    if (r.exitCode !== 0) return yield* helperFailed("partition.revert", c.name, r)
  })
)

const partition = (ctx: DockerContext, fault: Extract<DockerFault, { readonly _tag: "docker.partition" }>, target: Target.Target) =>
  Effect.gen(function*() {
    const c = yield* ctx.inspect(target.id)
    yield* ensureRunning("partition", c)
    const ips = yield* ctx.peerAddresses(fault.peers)
    if (ips.length === 0) {
      return yield* new DockerError({
        reason: "NotFound",
        target: c.name,
        operation: "partition",
        detail: `peers ${fault.peers.join(", ")} have no IP address`
      })
    }
    const comment = ruleComment(yield* faultTag)
    const rules: Array<ReadonlyArray<string>> = ips.flatMap((ip) => [
      ["INPUT", "-s", ip, "-m", "comment", "--comment", comment, "-j", "DROP"],
      ["OUTPUT", "-d", ip, "-m", "comment", "--comment", comment, "-j", "DROP"]
    ])
    const data = { container: c.id, name: c.name, peers: fault.peers, rules, comment, helperImage: yield* ctx.helperImageId() }
    const script = ["set -e", ...rules.map((r) => `${IPTABLES} -w -I ${r.map(sh).join(" ")}`), `${IPTABLES} -w -S`].join("\n")
    // The helper lists the rules in the same run that adds them: that listing is the verify.
    return yield* marked(
      ctx,
      fault._tag,
      c,
      data,
      {},
      Effect.gen(function*() {
        const r = yield* ctx.helperRun(`container:${c.id}`, c.id, script, "partition")
        if (r.exitCode !== 0) return yield* helperFailed("partition", c.name, r)
        const present = r.output.split("\n").filter((l) => l.includes(`--comment ${comment}`)).length
        if (present < rules.length) return yield* ineffective("partition", c.name, `${present}/${rules.length} iptables rules present`)
      })
    )
  })

const qdiscParams = (fault: DockerBandwidth | DockerNetem): ReadonlyArray<string> =>
  fault._tag === "docker.bandwidth"
    ? ["rate", fault.rate, "burst", fault.burst, "latency", `${fault.latencyMs}ms`]
    : [
      ...(fault.delayMs !== undefined ? ["delay", `${fault.delayMs}ms`, ...(fault.jitterMs !== undefined ? [`${fault.jitterMs}ms`] : [])] : []),
      ...(fault.lossPercent !== undefined ? ["loss", `${fault.lossPercent}%`] : []),
      ...(fault.duplicatePercent !== undefined ? ["duplicate", `${fault.duplicatePercent}%`] : []),
      ...(fault.corruptPercent !== undefined ? ["corrupt", `${fault.corruptPercent}%`] : [])
    ]

// Without a device, the one carrying the default route (interface names change when a
// container is reconnected). Our qdisc has a handle of its own, so the revert deletes
// exactly it, on whichever device it sits.
const qdiscScript = (kind: string, device: string | undefined, params: ReadonlyArray<string>) =>
  [
    "set -e",
    device ? `DEV=${sh(device)}` : `DEV=$(ip -o route show default | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -1)`,
    `[ -n "$DEV" ] || DEV=$(ls /sys/class/net | grep -v '^lo$' | head -1)`,
    `${TC} qdisc replace dev "$DEV" root handle ${QDISC_HANDLE}: ${kind} ${params.map(sh).join(" ")}`,
    `echo "DEVICE=$DEV"`,
    `${TC} qdisc show dev "$DEV"`
  ].join("\n")

const shape = (ctx: DockerContext, fault: DockerBandwidth | DockerNetem, target: Target.Target) =>
  Effect.gen(function*() {
    const tag = fault._tag
    const c = yield* ctx.inspect(target.id)
    yield* ensureRunning(tag, c)
    const kind = tag === "docker.bandwidth" ? "tbf" : "netem"
    if (kind === "netem") yield* ctx.netemSupported
    const data = { container: c.id, name: c.name, device: fault.device ?? null, qdisc: kind, helperImage: yield* ctx.helperImageId() }
    const script = qdiscScript(kind, fault.device, qdiscParams(fault))
    // The helper shows the qdiscs in the same run that adds ours: that listing is the verify.
    return yield* marked(
      ctx,
      tag,
      c,
      data,
      {},
      Effect.gen(function*() {
        const r = yield* ctx.helperRun(`container:${c.id}`, c.id, script, kind)
        if (r.exitCode !== 0) {
          if (/qdisc kind is unknown/i.test(r.output)) {
            return yield* new DockerError({
              reason: "Unsupported",
              target: c.name,
              operation: tag,
              detail: `the kernel lacks sch_${kind} (${r.output.trim()})`
            })
          }
          return yield* helperFailed(tag, c.name, r)
        }
        if (!new RegExp(`qdisc ${kind} ${QDISC_HANDLE}: root`).test(r.output)) {
          return yield* ineffective(tag, c.name, `no root ${kind} qdisc: ${r.output.trim()}`)
        }
      })
    )
  })

const unshape = (fault: "docker.bandwidth" | "docker.netem") =>
  onContainer((ctx, c, data) =>
    Effect.gen(function*() {
      if (!c.running) return
      const script = [
        `for DEV in $(ls /sys/class/net); do`,
        `  if ${TC} qdisc show dev "$DEV" | grep -q 'qdisc [a-z_]* ${QDISC_HANDLE}: root'; then ${TC} qdisc del dev "$DEV" root; fi`,
        `  if ${TC} qdisc show dev "$DEV" | grep -q 'qdisc [a-z_]* ${QDISC_HANDLE}: root'; then exit 1; fi`,
        `done`
      ].join("\n")
      const r = yield* ctx.helperRun(`container:${c.id}`, c.id, script, `${String(data.qdisc)}-revert`, imageOf(ctx, data))
      if (r.exitCode !== 0) return yield* helperFailed(`${fault}.revert`, c.name, r)
    })
  )

// Revert data for the ledger's intent, before anything is touched, naming what the
// injection will create (the marker volume, the rules' comment; a qdisc is found by its
// handle): enough to undo any part of the injection that landed before the runner died.
const preparedNet = (ctx: DockerContext, fault: DockerFault, target: Target.Target) =>
  Effect.gen(function*() {
    const c = yield* ctx.inspect(target.id)
    const tag = yield* faultTag
    const base = { container: c.id, name: c.name, marker: markerName(tag), helperImage: ctx.helperImage }
    switch (fault._tag) {
      case "docker.partition":
        return { ...base, comment: ruleComment(tag) }
      case "docker.bandwidth":
      case "docker.netem":
        return { ...base, qdisc: fault._tag === "docker.bandwidth" ? "tbf" : "netem", device: fault.device ?? null }
      case "docker.disconnect": {
        const ep = c.networks[fault.network]
        // Not connected now: the injection will refuse, and the revert must not connect it.
        if (ep === undefined) return { ...base, network: fault.network, wasConnected: false }
        const aliases = ep.aliases.filter((a) => !c.id.startsWith(a))
        return { ...base, network: fault.network, aliases, ipv4Static: ep.ipv4Static, ipv6Static: ep.ipv6Static }
      }
      default:
        return base
    }
  })

/**
 * The network faults' handlers.
 *
 * @since 0.1.0
 */
export const network: Pick<Handler.Handlers<DockerContext, DockerFault, DockerError>, Network> = {
  "docker.disconnect": {
    prepare: preparedNet,
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const c = yield* ctx.inspect(target.id)
        const ep = c.networks[fault.network]
        if (ep === undefined) {
          return yield* new DockerError({ reason: "Conflict", target: c.name, operation: "disconnect", detail: `not connected to network ${fault.network}` })
        }
        // Docker adds the short id as an alias by itself; keep only the aliases a user gave.
        const aliases = ep.aliases.filter((a) => !c.id.startsWith(a))
        const data = { container: c.id, name: c.name, network: fault.network, aliases, ipv4Static: ep.ipv4Static, ipv6Static: ep.ipv6Static }
        return yield* marked(
          ctx,
          fault._tag,
          c,
          data,
          { [Labels.disconnectedFrom]: fault.network },
          ctx.call("disconnect", c.name, () => ctx.client.getNetwork(fault.network).disconnect({ Container: c.id, Force: true }))
        )
      }),
    verify: (ctx, fault, _target, data) =>
      Effect.flatMap(
        ctx.inspect(String(data.container)),
        (s) => s.networks[fault.network] === undefined ? Effect.void : Effect.fail(ineffective("disconnect", s.name, `still attached to ${fault.network}`))
      ),
    revert: reconnect
  },
  "docker.partition": { prepare: preparedNet, inject: partition, revert: unpartition },
  "docker.bandwidth": { prepare: preparedNet, inject: shape, revert: unshape("docker.bandwidth") },
  "docker.netem": {
    // Where the kernel lacks sch_netem, planning fails `Unsupported` before anything is touched.
    discover: (ctx) => Effect.andThen(ctx.netemSupported, ctx.containers),
    prepare: preparedNet,
    inject: shape,
    revert: unshape("docker.netem")
  }
}
