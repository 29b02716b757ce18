/**
 * Handlers of the Route 53 faults: a weighted record's weight, and a health check inverted.
 * Both capture the previous value before the change, and reverting restores it exactly.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Handler from "../../core/Handler.ts"
import * as Target from "../../core/Target.ts"
import type { Call } from "./AwsApi.ts"
import { AwsError } from "./AwsError.ts"
import type { AwsFault, Route53SetWeight } from "./Faults.ts"
import { type AwsContext, canonical, plain, tagsOf } from "./Shared.ts"

type Route53 = "aws.route53.setWeight" | "aws.route53.invertHealthCheck"

const zoneId = (id: string) => id.replace(/^\/hostedzone\//, "")
const fqdn = (name: string) => (name.endsWith(".") ? name : `${name}.`)

const route53Tags = (call: Call, type: "hostedzone" | "healthcheck", id: string) =>
  Effect.map(
    call("route53", "ListTagsForResource", { ResourceType: type, ResourceId: id }, `${type} ${id}`),
    (r: any) => tagsOf(r.ResourceTagSet?.Tags)
  )

// Every record set with this exact name and type (one per SetIdentifier for weighted ones).
const recordSets = (call: Call, zone: string, name: string, type: string) =>
  Effect.gen(function*() {
    const out: Array<any> = []
    let start: Record<string, unknown> = { StartRecordName: fqdn(name), StartRecordType: type }
    for (;;) {
      const r = yield* call("route53", "ListResourceRecordSets", { HostedZoneId: zone, ...start }, `${name} ${type}`)
      const sets = (r.ResourceRecordSets ?? []) as Array<any>
      const matching = sets.filter((s) => fqdn(s.Name) === fqdn(name) && s.Type === type)
      out.push(...matching)
      // Sorted by name and type: once past ours, stop.
      if (!r.IsTruncated || matching.length < sets.length) break
      start = { StartRecordName: r.NextRecordName, StartRecordType: r.NextRecordType, StartRecordIdentifier: r.NextRecordIdentifier }
    }
    return out
  })

const recordId = (zone: string, name: string, type: string, setId: string) => `${zone}|${fqdn(name)}|${type}|${setId}`
const parseRecordId = (id: string) => {
  const [zone, name, type, setId] = id.split("|") as [string, string, string, string]
  return { zone, name, type, setId }
}

// The record set a target names, as it is now.
const recordSet = (call: Call, target: Target.Target) =>
  Effect.gen(function*() {
    const { name, setId, type, zone } = parseRecordId(target.id)
    const sets = yield* recordSets(call, zone, name, type)
    const current = sets.find((s) => s.SetIdentifier === setId)
    if (current === undefined) {
      return yield* new AwsError({ reason: "NotFound", target: target.name, operation: "route53.ListResourceRecordSets", detail: "record set not found" })
    }
    return { zone, current }
  })

const records = (ctx: AwsContext, fault: Route53SetWeight) =>
  Effect.gen(function*() {
    const zone = zoneId(fault.hostedZoneId)
    const tags = yield* route53Tags(ctx.call, "hostedzone", zone)
    const sets = yield* recordSets(ctx.call, zone, fault.recordName, fault.recordType)
    return sets.filter((s) => s.SetIdentifier !== undefined && s.Weight !== undefined).map((s) =>
      Target.make({
        kind: "route53-record",
        id: recordId(zone, s.Name, s.Type, s.SetIdentifier),
        name: `${fqdn(s.Name)} ${s.Type} ${s.SetIdentifier}`,
        labels: { ...tags, "aws:set-identifier": s.SetIdentifier, "aws:weight": String(s.Weight), "aws:zone": zone }
      })
    )
  })

const healthChecks = (ctx: AwsContext) =>
  Effect.gen(function*() {
    const out: Array<Target.Target> = []
    let marker: string | undefined
    do {
      const r = yield* ctx.call("route53", "ListHealthChecks", marker ? { Marker: marker } : {}, "health checks")
      for (const hc of r.HealthChecks ?? []) {
        const tags = yield* route53Tags(ctx.call, "healthcheck", hc.Id)
        out.push(Target.make({
          kind: "route53-healthcheck",
          id: hc.Id,
          name: tags.Name ?? hc.Id,
          labels: { ...tags, "aws:inverted": String(hc.HealthCheckConfig?.Inverted ?? false) }
        }))
      }
      marker = r.IsTruncated ? r.NextMarker : undefined
    } while (marker)
    return out
  })

/**
 * The Route 53 faults' handlers.
 *
 * @since 0.1.0
 */
export const route53: Pick<Handler.Handlers<AwsContext, AwsFault, AwsError>, Route53> = {
  "aws.route53.setWeight": {
    discover: records,
    // The previous record set exactly, captured before the change.
    prepare: (ctx, _fault, target) => Effect.map(recordSet(ctx.call, target), ({ current, zone }) => ({ hostedZoneId: zone, previous: plain(current) })),
    inject: (ctx, fault, t) =>
      Effect.gen(function*() {
        const { current, zone } = yield* recordSet(ctx.call, t)
        const r = yield* ctx.call("route53", "ChangeResourceRecordSets", {
          HostedZoneId: zone,
          ChangeBatch: {
            Comment: "faultline aws.route53.setWeight",
            Changes: [{ Action: "UPSERT", ResourceRecordSet: { ...plain(current), Weight: fault.weight } }]
          }
        }, t.name)
        return { changeId: r.ChangeInfo?.Id ?? null }
      }),
    revert: (ctx, d, target) =>
      Effect.gen(function*() {
        const previous = d.previous as any
        if (!previous) return
        const zone = String(d.hostedZoneId)
        if (!ctx.planning) {
          const sets = yield* recordSets(ctx.call, zone, previous.Name, previous.Type)
          const current = sets.find((s) => s.SetIdentifier === previous.SetIdentifier)
          if (current !== undefined && JSON.stringify(canonical(plain(current))) === JSON.stringify(canonical(previous))) return
        }
        yield* ctx.call("route53", "ChangeResourceRecordSets", {
          HostedZoneId: zone,
          ChangeBatch: { Comment: "faultline revert aws.route53.setWeight", Changes: [{ Action: "UPSERT", ResourceRecordSet: previous }] }
        }, target?.name ?? `${previous.Name} ${previous.Type}`)
      })
  },
  "aws.route53.invertHealthCheck": {
    discover: healthChecks,
    prepare: (ctx, _fault, target) =>
      Effect.map(ctx.call("route53", "GetHealthCheck", { HealthCheckId: target.id }, target.name), (r) => ({
        healthCheckId: target.id,
        previousInverted: r.HealthCheck?.HealthCheckConfig?.Inverted === true
      })),
    inject: (ctx, _fault, t) => Effect.as(ctx.call("route53", "UpdateHealthCheck", { HealthCheckId: t.id, Inverted: true }, t.name), { healthCheckId: t.id }),
    revert: (ctx, d, target) =>
      Effect.gen(function*() {
        const want = d.previousInverted === true
        const id = String(d.healthCheckId)
        const name = target?.name ?? id
        if (!ctx.planning) {
          const hc = yield* ctx.call("route53", "GetHealthCheck", { HealthCheckId: id }, name).pipe(
            Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(null))
          )
          if (hc === null || (hc.HealthCheck?.HealthCheckConfig?.Inverted === true) === want) return
        }
        yield* ctx.call("route53", "UpdateHealthCheck", { HealthCheckId: id, Inverted: want }, name)
      })
  }
}
