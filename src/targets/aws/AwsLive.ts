/**
 * The AWS driver's implementation over the SDK v3 clients: discovery, prepare, inject,
 * revert and dry-run plans, each over a `Call` so a dry run can record instead of send.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { PlannedCall } from "../../core/Driver.ts"
import { DriverError } from "../../core/Driver.ts"
import type { Revert } from "../../core/Journal.ts"
import { Run } from "../../core/Run.ts"
import * as Target from "../../core/Target.ts"
import { type AwsConfig, type Call, makeClients, type Recorded, recorder, sender } from "./AwsApi.ts"
import { AwsDriver, EC2_BATCH, safeEndpoint } from "./AwsDriver.ts"
import { AwsError } from "./AwsError.ts"

const toDriverError = (operation: string) => (e: AwsError) =>
  new DriverError({ driver: "aws", operation, target: e.target, reason: e.reason, detail: `${e.operation}: ${e.detail}` })

const tagsOf = (tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? ""]))

const wait = (ms: number) => Effect.sleep(`${ms} millis`)

// ---------------------------------------------------------------------------------------
// Discovery (read-only)

const describeInstances = (call: Call, input: Record<string, unknown>, target: string) =>
  Effect.gen(function*() {
    const out: Array<any> = []
    let token: string | undefined
    do {
      const r = yield* call("ec2", "DescribeInstances", { ...input, ...(token ? { NextToken: token } : {}) }, target)
      for (const res of r.Reservations ?? []) out.push(...(res.Instances ?? []))
      token = r.NextToken
    } while (token)
    return out
  })

const discoverEc2 = (call: Call, fault: any) =>
  Effect.gen(function*() {
    const filters = (fault.filters ?? []).map((f: any) => ({ Name: f.name, Values: [...f.values] }))
    const instances = yield* describeInstances(call, filters.length ? { Filters: filters } : {}, "ec2 instances")
    return instances
      .filter((i) => i.State?.Name !== "terminated" && i.State?.Name !== "shutting-down")
      .filter((i) => fault.az === undefined || i.Placement?.AvailabilityZone === fault.az)
      .map((i) => {
        const tags = tagsOf(i.Tags)
        return Target.make({
          kind: "ec2-instance",
          id: i.InstanceId,
          name: tags.Name ?? i.InstanceId,
          labels: { ...tags, "aws:az": i.Placement?.AvailabilityZone ?? "", "aws:state": i.State?.Name ?? "" }
        })
      })
  })

const discoverRdsClusters = (call: Call) =>
  Effect.gen(function*() {
    const r = yield* call("rds", "DescribeDBClusters", {}, "rds clusters")
    return (r.DBClusters ?? []).map((c: any) => {
      const writer = (c.DBClusterMembers ?? []).find((m: any) => m.IsClusterWriter)?.DBInstanceIdentifier ?? ""
      return Target.make({
        kind: "rds-cluster",
        id: c.DBClusterIdentifier,
        name: c.DBClusterIdentifier,
        labels: { ...tagsOf(c.TagList), "aws:status": c.Status ?? "", "aws:writer": writer }
      })
    })
  })

const discoverRdsInstances = (call: Call) =>
  Effect.gen(function*() {
    const r = yield* call("rds", "DescribeDBInstances", {}, "rds instances")
    return (r.DBInstances ?? []).map((i: any) =>
      Target.make({
        kind: "rds-instance",
        id: i.DBInstanceIdentifier,
        name: i.DBInstanceIdentifier,
        labels: {
          ...tagsOf(i.TagList),
          "aws:az": i.AvailabilityZone ?? "",
          "aws:status": i.DBInstanceStatus ?? "",
          ...(i.DBClusterIdentifier ? { "aws:cluster": i.DBClusterIdentifier } : {})
        }
      })
    )
  })

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

const discoverRecords = (call: Call, fault: any) =>
  Effect.gen(function*() {
    const zone = zoneId(fault.hostedZoneId)
    const tags = yield* route53Tags(call, "hostedzone", zone)
    const sets = yield* recordSets(call, zone, fault.recordName, fault.recordType)
    return sets.filter((s) => s.SetIdentifier !== undefined && s.Weight !== undefined).map((s) =>
      Target.make({
        kind: "route53-record",
        id: recordId(zone, s.Name, s.Type, s.SetIdentifier),
        name: `${fqdn(s.Name)} ${s.Type} ${s.SetIdentifier}`,
        labels: { ...tags, "aws:set-identifier": s.SetIdentifier, "aws:weight": String(s.Weight), "aws:zone": zone }
      })
    )
  })

const discoverHealthChecks = (call: Call) =>
  Effect.gen(function*() {
    const out: Array<Target.Target> = []
    let marker: string | undefined
    do {
      const r = yield* call("route53", "ListHealthChecks", marker ? { Marker: marker } : {}, "health checks")
      for (const hc of r.HealthChecks ?? []) {
        const tags = yield* route53Tags(call, "healthcheck", hc.Id)
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
 * Lists the candidate targets of an AWS fault (read-only calls only).
 *
 * @since 0.1.0
 */
export const discover = (call: Call, fault: any): Effect.Effect<ReadonlyArray<Target.Target>, AwsError> => {
  switch (fault._tag) {
    case "aws.ec2.stop":
    case "aws.ec2.reboot":
    case "aws.ec2.terminate":
      return discoverEc2(call, fault)
    case "aws.rds.failoverCluster":
      return discoverRdsClusters(call)
    case "aws.rds.rebootWithFailover":
      return discoverRdsInstances(call)
    case "aws.route53.setWeight":
      return discoverRecords(call, fault)
    case "aws.route53.invertHealthCheck":
      return discoverHealthChecks(call)
    default:
      return Effect.fail(new AwsError({ reason: "InvalidInput", target: "-", operation: "discover", detail: `not an AWS fault: ${fault._tag}` }))
  }
}

// ---------------------------------------------------------------------------------------
// Prepare, inject, revert (each over a `Call`, so a dry run can record instead of send)

/**
 * Revert data known before anything is touched and safe whether or not the injection
 * lands: for a weight change, the previous record set exactly; for a health check, its
 * previous `Inverted`; for a failover, the previous writer.
 *
 * @since 0.1.0
 */
export const prepare = (call: Call, fault: any, target: Target.Target): Effect.Effect<Record<string, unknown>, AwsError> =>
  Effect.gen(function*() {
    yield* refuseIrreversible(fault, [target])
    switch (fault._tag) {
      case "aws.ec2.stop":
      case "aws.ec2.reboot":
      case "aws.ec2.terminate":
        return { instanceId: target.id }
      case "aws.rds.failoverCluster":
        return { clusterId: target.id, previousWriter: target.labels["aws:writer"] ?? "", failBack: fault.failBack === true }
      case "aws.rds.rebootWithFailover":
        return { instanceId: target.id }
      case "aws.route53.setWeight": {
        const { name, setId, type, zone } = parseRecordId(target.id)
        const sets = yield* recordSets(call, zone, name, type)
        const previous = sets.find((s) => s.SetIdentifier === setId)
        if (previous === undefined) {
          return yield* new AwsError({ reason: "NotFound", target: target.name, operation: "route53.ListResourceRecordSets", detail: "record set not found" })
        }
        return { hostedZoneId: zone, previous: plain(previous) }
      }
      case "aws.route53.invertHealthCheck": {
        const r = yield* call("route53", "GetHealthCheck", { HealthCheckId: target.id }, target.name)
        return { healthCheckId: target.id, previousInverted: r.HealthCheck?.HealthCheckConfig?.Inverted === true }
      }
      default:
        return {}
    }
  })

// SDK outputs carry class instances and `undefined`s: keep plain JSON (ledger, journal).
// The core refuses an irreversible fault the experiment did not acknowledge; the driver
// refuses it too when called outside such a run (defence in depth: a terminate cannot be
// taken back).
const refuseIrreversible = (fault: any, targets: ReadonlyArray<Target.Target>) =>
  Effect.flatMap(Effect.serviceOption(Run), (run) =>
    fault.irreversible === true && !(run._tag === "Some" && run.value.irreversible === true)
      ? Effect.fail(new AwsError({
        reason: "Irreversible",
        target: targets.map((t) => t.id).join(",") || "-",
        operation: "ec2.TerminateInstances",
        detail: "terminating instances cannot be undone; the experiment must say irreversible: true"
      }))
      : Effect.void)

const plain = (v: unknown): any => JSON.parse(JSON.stringify(v))

const chunks = <A>(xs: ReadonlyArray<A>, n: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}

/**
 * Injects one fault into many targets: EC2 ids go in one call per 1000; other services
 * take one call per target. Returns per-target revert data, in order.
 *
 * @since 0.1.0
 */
export const injectBatch = (
  call: Call,
  fault: any,
  targets: ReadonlyArray<Target.Target>
): Effect.Effect<ReadonlyArray<Record<string, unknown>>, AwsError> =>
  Effect.gen(function*() {
    yield* refuseIrreversible(fault, targets)
    const ids = targets.map((t) => t.id as string)
    switch (fault._tag) {
      case "aws.ec2.stop":
      case "aws.ec2.reboot":
      case "aws.ec2.terminate": {
        const operation = fault._tag === "aws.ec2.stop" ? "StopInstances" : fault._tag === "aws.ec2.reboot" ? "RebootInstances" : "TerminateInstances"
        for (const chunk of chunks(ids, EC2_BATCH)) {
          yield* call("ec2", operation, { InstanceIds: [...chunk], ...(fault.hibernate ? { Hibernate: true } : {}) }, chunk.join(","))
        }
        return ids.map((instanceId) => ({ instanceId }))
      }
      case "aws.rds.failoverCluster":
        return yield* Effect.forEach(targets, (t) =>
          Effect.as(
            call("rds", "FailoverDBCluster", {
              DBClusterIdentifier: t.id,
              ...(fault.targetInstance ? { TargetDBInstanceIdentifier: fault.targetInstance } : {})
            }, t.name),
            { clusterId: t.id }
          ))
      case "aws.rds.rebootWithFailover":
        return yield* Effect.forEach(targets, (t) =>
          Effect.as(call("rds", "RebootDBInstance", { DBInstanceIdentifier: t.id, ForceFailover: true }, t.name), { instanceId: t.id }))
      case "aws.route53.setWeight":
        return yield* Effect.forEach(targets, (t) =>
          Effect.gen(function*() {
            const { name, setId, type, zone } = parseRecordId(t.id)
            const sets = yield* recordSets(call, zone, name, type)
            const current = sets.find((s) => s.SetIdentifier === setId)
            if (current === undefined) {
              return yield* new AwsError({ reason: "NotFound", target: t.name, operation: "route53.ListResourceRecordSets", detail: "record set not found" })
            }
            const r = yield* call("route53", "ChangeResourceRecordSets", {
              HostedZoneId: zone,
              ChangeBatch: {
                Comment: "faultline aws.route53.setWeight",
                Changes: [{ Action: "UPSERT", ResourceRecordSet: { ...plain(current), Weight: fault.weight } }]
              }
            }, t.name)
            return { changeId: r.ChangeInfo?.Id ?? null }
          }))
      case "aws.route53.invertHealthCheck":
        return yield* Effect.forEach(targets, (t) =>
          Effect.as(call("route53", "UpdateHealthCheck", { HealthCheckId: t.id, Inverted: true }, t.name), { healthCheckId: t.id }))
      default:
        return yield* new AwsError({ reason: "InvalidInput", target: ids.join(","), operation: "inject", detail: `not an AWS fault: ${fault._tag}` })
    }
  })

const instanceState = (call: Call, id: string) =>
  Effect.map(
    describeInstances(call, { InstanceIds: [id] }, id).pipe(
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed([] as Array<any>))
    ),
    (is) => (is[0]?.State?.Name as string | undefined) ?? "absent"
  )

/**
 * Reverts from revert data alone (used in process and by the watchdog). Idempotent: it
 * looks first and changes only what the fault left changed. With `planning`, it assumes
 * the fault landed and only names the calls (for dry-run plans).
 *
 * @since 0.1.0
 */
export const revert = (call: Call, r: Revert, planning = false): Effect.Effect<void, AwsError> =>
  Effect.gen(function*() {
    const d = r.data as Record<string, any>
    switch (r.fault) {
      case "aws.ec2.stop": {
        const id = String(d.instanceId)
        if (!planning) {
          let state = yield* instanceState(call, id)
          // StartInstances is refused while stopping: wait (on the Clock) for stopped.
          for (let waited = 0; state === "stopping" && waited < 600_000; waited += 1000) {
            yield* wait(1000)
            state = yield* instanceState(call, id)
          }
          if (state !== "stopped") return // running, pending, terminated or gone: nothing to undo
        }
        yield* call("ec2", "StartInstances", { InstanceIds: [id] }, id)
        return
      }
      case "aws.rds.failoverCluster": {
        if (!d.failBack || !d.previousWriter) return
        if (!planning) {
          const c = yield* call("rds", "DescribeDBClusters", { DBClusterIdentifier: d.clusterId }, d.clusterId)
          const writer = (c.DBClusters?.[0]?.DBClusterMembers ?? []).find((m: any) => m.IsClusterWriter)?.DBInstanceIdentifier
          if (writer === d.previousWriter) return
        }
        yield* call("rds", "FailoverDBCluster", { DBClusterIdentifier: d.clusterId, TargetDBInstanceIdentifier: d.previousWriter }, d.clusterId)
        return
      }
      case "aws.route53.setWeight": {
        const previous = d.previous as any
        if (!previous) return
        if (!planning) {
          const sets = yield* recordSets(call, d.hostedZoneId, previous.Name, previous.Type)
          const current = sets.find((s) => s.SetIdentifier === previous.SetIdentifier)
          if (current !== undefined && JSON.stringify(canonical(plain(current))) === JSON.stringify(canonical(previous))) return
        }
        yield* call("route53", "ChangeResourceRecordSets", {
          HostedZoneId: d.hostedZoneId,
          ChangeBatch: { Comment: "faultline revert aws.route53.setWeight", Changes: [{ Action: "UPSERT", ResourceRecordSet: previous }] }
        }, r.target.name)
        return
      }
      case "aws.route53.invertHealthCheck": {
        const want = d.previousInverted === true
        if (!planning) {
          const hc = yield* call("route53", "GetHealthCheck", { HealthCheckId: d.healthCheckId }, r.target.name).pipe(
            Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(null))
          )
          if (hc === null || (hc.HealthCheck?.HealthCheckConfig?.Inverted === true) === want) return
        }
        yield* call("route53", "UpdateHealthCheck", { HealthCheckId: d.healthCheckId, Inverted: want }, r.target.name)
        return
      }
      default:
        // reboot, rebootWithFailover: over by themselves; terminate: acknowledged irreversible.
        return
    }
  })

const canonical = (v: any): any =>
  Array.isArray(v)
    ? v.map(canonical)
    : v && typeof v === "object"
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]))
    : v

/**
 * The calls a fault would make on these targets, made with a recorder: read-only
 * look-ups are sent, mutating calls only listed.
 *
 * @since 0.1.0
 */
export const plan = (send: Call, fault: any, targets: ReadonlyArray<Target.Target>) =>
  Effect.gen(function*() {
    const calls: Array<Recorded> = []
    const phase = { current: "prepare" as Recorded["phase"] }
    const rec = recorder(send, calls, phase)
    const prepared = yield* Effect.forEach(targets, (t) => prepare(rec, fault, t))
    phase.current = "inject"
    const datas = yield* injectBatch(rec, fault, targets)
    phase.current = "revert"
    for (let i = 0; i < targets.length; i++) {
      yield* revert(rec, { driver: "aws", fault: fault._tag, target: targets[i]!, data: { ...prepared[i], ...datas[i] } }, true)
    }
    return calls as ReadonlyArray<PlannedCall>
  })

/**
 * Makes the driver for a config.
 *
 * @since 0.1.0
 */
export const make = (config: AwsConfig): AwsDriver["Service"] => {
  const clients = makeClients(config)
  const call = sender(clients)
  return AwsDriver.of({
    name: "aws",
    // What the watchdog needs to reach AWS again; the SDK's provider chain supplies credentials.
    connection: { region: config.region, endpoint: safeEndpoint(config.endpoint) ?? null },
    config,
    clients,
    call,
    discover: (fault) => Effect.mapError(discover(call, fault), toDriverError("discover")),
    prepare: (fault, target) => Effect.mapError(prepare(call, fault, target), toDriverError("prepare")),
    inject: (fault, target) => Effect.mapError(Effect.map(injectBatch(call, fault, [target]), (ds) => ds[0]!), toDriverError("inject")),
    injectBatch: (fault, targets) => Effect.mapError(injectBatch(call, fault, targets), toDriverError("inject")),
    plan: (fault, targets) => Effect.mapError(plan(call, fault, targets), toDriverError("plan")),
    revert: (r) => Effect.mapError(revert(call, r), toDriverError("revert"))
  })
}
