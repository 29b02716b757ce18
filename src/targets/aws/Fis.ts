/**
 * Export to AWS Fault Injection Service: the faults of an experiment that FIS can run (EC2
 * stop / reboot / terminate, RDS cluster failover and reboot with failover), as an FIS
 * experiment template (the JSON `aws fis create-experiment-template --cli-input-json` takes),
 * and a list of everything FIS cannot express, each with where it is and why. Pure data in,
 * data out: no SDK.
 *
 * The method's order is kept: a `sleep` between injections becomes an `aws:fis:wait` action
 * and later actions start after it; an EC2 stop is undone by FIS itself
 * (`startInstancesAfterDuration`: from its injection to the end of the method, as faultline
 * reverts at the end of the method).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import type { Fault } from "../../core/Fault.ts"
import type * as Guard from "../../core/Guard.ts"
import type * as Selector from "../../core/Selector.ts"
import { ALLOW_TAG } from "./Faults.ts"

/** One step of a method, in order: a fault injected, or a pause. @since 0.1.0 */
export type FisStep =
  | { readonly _tag: "Inject"; readonly fault: Fault; readonly path: string }
  | { readonly _tag: "Sleep"; readonly millis: number; readonly path: string }

/** What the export needs besides the method. @since 0.1.0 */
export interface FisInput {
  readonly name: string
  readonly description?: string | undefined
  readonly steps: ReadonlyArray<FisStep>
  /** Guards the experiment declares beyond its faults' defaults. */
  readonly guards?: ReadonlyArray<Guard.Guard> | undefined
  /** Whether the experiment's guards replace the faults' default guards. */
  readonly replaceDefaultGuards?: boolean | undefined
  /** CloudWatch alarms (ARNs) that stop the FIS experiment when they fire. */
  readonly stopAlarms?: ReadonlyArray<string> | undefined
  /** The IAM role FIS assumes; a placeholder is written when absent (and said so). */
  readonly roleArn?: string | undefined
  /** Needed to write ARNs for targets selected by id. */
  readonly region?: string | undefined
  readonly account?: string | undefined
  /** What else the experiment asks that FIS cannot express (hypotheses, objectives, ...). */
  readonly notExported?: ReadonlyArray<Unsupported> | undefined
}

/** Something FIS cannot express, where it is, and why. @since 0.1.0 */
export interface Unsupported {
  readonly path: string
  readonly reason: string
}

/** An FIS target (`targets` of a template). @since 0.1.0 */
export interface FisTarget {
  readonly resourceType: string
  readonly selectionMode: string
  readonly resourceTags?: Record<string, string>
  readonly resourceArns?: ReadonlyArray<string>
  readonly filters?: ReadonlyArray<{ readonly path: string; readonly values: ReadonlyArray<string> }>
}

/** An FIS action (`actions` of a template). @since 0.1.0 */
export interface FisAction {
  readonly actionId: string
  readonly description?: string
  readonly parameters?: Record<string, string>
  readonly targets?: Record<string, string>
  readonly startAfter?: ReadonlyArray<string>
}

/** The experiment template, as `CreateExperimentTemplate` takes it. @since 0.1.0 */
export interface FisTemplate {
  readonly description: string
  readonly roleArn: string
  readonly stopConditions: ReadonlyArray<{ readonly source: string; readonly value?: string }>
  readonly targets: Record<string, FisTarget>
  readonly actions: Record<string, FisAction>
  readonly tags: Record<string, string>
}

/** The export: the template (null when nothing could be exported) and what was left out. @since 0.1.0 */
export interface FisExport {
  readonly template: FisTemplate | null
  readonly exported: ReadonlyArray<string>
  readonly unsupported: ReadonlyArray<Unsupported>
}

/** The placeholder written when no role is given. @since 0.1.0 */
export const ROLE_PLACEHOLDER = "arn:aws:iam::ACCOUNT_ID:role/REPLACE_WITH_FIS_ROLE"

interface Mapping {
  readonly actionId: string
  readonly resourceType: string
  /** The target key FIS's action takes (`Instances`, `Clusters`). */
  readonly targetKey: string
  readonly arn: (region: string, account: string, id: string) => string
}

const ec2Arn = (region: string, account: string, id: string) => `arn:aws:ec2:${region}:${account}:instance/${id}`
const mappings: Record<string, Mapping> = {
  "aws.ec2.stop": { actionId: "aws:ec2:stop-instances", resourceType: "aws:ec2:instance", targetKey: "Instances", arn: ec2Arn },
  "aws.ec2.reboot": { actionId: "aws:ec2:reboot-instances", resourceType: "aws:ec2:instance", targetKey: "Instances", arn: ec2Arn },
  "aws.ec2.terminate": { actionId: "aws:ec2:terminate-instances", resourceType: "aws:ec2:instance", targetKey: "Instances", arn: ec2Arn },
  "aws.rds.failoverCluster": {
    actionId: "aws:rds:failover-db-cluster",
    resourceType: "aws:rds:cluster",
    targetKey: "Clusters",
    arn: (r, a, id) => `arn:aws:rds:${r}:${a}:cluster:${id}`
  },
  "aws.rds.rebootWithFailover": {
    actionId: "aws:rds:reboot-db-instances",
    resourceType: "aws:rds:db",
    targetKey: "DBInstances",
    arn: (r, a, id) => `arn:aws:rds:${r}:${a}:db:${id}`
  }
}

/** The fault tags FIS can run. @since 0.1.0 */
export const supportedFaults: ReadonlyArray<string> = Object.keys(mappings)

// EC2 describe-instances filter names (and faultline's own labels) as FIS filter paths.
const ec2Paths: Record<string, string> = {
  "instance-state-name": "State.Name",
  "aws:state": "State.Name",
  "availability-zone": "Placement.AvailabilityZone",
  "aws:az": "Placement.AvailabilityZone",
  "instance-type": "InstanceType",
  "vpc-id": "VpcId",
  "subnet-id": "SubnetId",
  "image-id": "ImageId"
}

/** ISO 8601 duration FIS takes (`PT90S`). @since 0.1.0 */
export const isoDuration = (millis: number): string => `PT${Math.max(1, Math.ceil(millis / 1000))}S`

const selectionMode = (s: Selector.Selector, path: string, out: Array<Unsupported>): string => {
  const p = s.pick
  switch (p._tag) {
    case "Every":
      out.push({ path: `${path}.cap`, reason: `FIS selects ALL matching resources without a cap; faultline refuses more than ${s.cap}` })
      return "ALL"
    case "Count":
      return `COUNT(${p.n})`
    case "Percent":
      return `PERCENT(${p.p})`
    case "Random":
      out.push({ path: `${path}.pick`, reason: `FIS picks ${p.n} at random itself; the seed ${p.seed} is not kept` })
      return `COUNT(${p.n})`
  }
}

interface Targeting {
  tags: Record<string, string>
  readonly arns: Array<string>
  readonly filters: Array<{ path: string; values: ReadonlyArray<string> }>
}

// One label as a tag or, for EC2, a filter path. False when FIS cannot express it.
const addLabel = (t: Targeting, ec2: boolean, key: string, value: string): boolean => {
  if (ec2 && ec2Paths[key] !== undefined) {
    t.filters.push({ path: ec2Paths[key], values: [value] })
    return true
  }
  if (key.startsWith("aws:")) return false
  t.tags[key] = value
  return true
}

const matchTargeting = (fault: Fault, m: Mapping, input: FisInput, path: string, out: Array<Unsupported>, t: Targeting): boolean => {
  const f = fault as unknown as { target: Selector.Selector; filters?: ReadonlyArray<{ name: string; values: ReadonlyArray<string> }>; az?: string }
  const ec2 = m.resourceType === "aws:ec2:instance"
  const match = f.target.match
  switch (match._tag) {
    case "All":
      return true
    case "Label":
      if (addLabel(t, ec2, match.key, match.value)) return true
      out.push({ path: `${path}.target`, reason: `the label ${match.key} has no FIS equivalent` })
      return false
    case "Name":
      if (ec2 && match.names.length === 1) {
        t.tags.Name = match.names[0]!
        return true
      }
      if (input.region !== undefined && input.account !== undefined && !ec2) {
        t.arns.push(...match.names.map((n) => m.arn(input.region!, input.account!, n)))
        return true
      }
      out.push({
        path: `${path}.target`,
        reason: ec2 ? "FIS matches one Name tag, not several" : "selection by name needs --region and --account to write ARNs"
      })
      return false
    case "Id":
      if (input.region === undefined || input.account === undefined) {
        out.push({ path: `${path}.target`, reason: "selection by id needs --region and --account to write ARNs" })
        return false
      }
      t.arns.push(...match.ids.map((id) => id.startsWith("arn:") ? id : m.arn(input.region!, input.account!, id)))
      return true
    case "Regex":
      out.push({ path: `${path}.target`, reason: "FIS has no regular-expression selection" })
      return false
  }
}

const targetOf = (fault: Fault, m: Mapping, input: FisInput, path: string, out: Array<Unsupported>): FisTarget | null => {
  const f = fault as unknown as { target: Selector.Selector; filters?: ReadonlyArray<{ name: string; values: ReadonlyArray<string> }>; az?: string }
  const t: Targeting = { tags: {}, arns: [], filters: [] }
  if (!matchTargeting(fault, m, input, path, out, t)) return null
  for (const [i, filter] of (f.filters ?? []).entries()) {
    const ok = filter.name.startsWith("tag:") && filter.values.length === 1
      ? addLabel(t, true, filter.name.slice(4), filter.values[0]!)
      : ec2Paths[filter.name] !== undefined && (t.filters.push({ path: ec2Paths[filter.name]!, values: [...filter.values] }), true)
    if (!ok) out.push({ path: `${path}.filters[${i}]`, reason: `the EC2 filter ${filter.name} has no FIS filter path` })
  }
  if (f.az !== undefined) t.filters.push({ path: "Placement.AvailabilityZone", values: [f.az] })
  // The safety the faults bring: FIS acts only on resources tagged for it. FIS takes ARNs or
  // tags, not both: targets named by ARN are not checked for the tag.
  const allow = [
    ...(input.replaceDefaultGuards !== true ? [{ key: ALLOW_TAG, value: "true" }] : []),
    ...(input.guards ?? []).flatMap((g) => g._tag === "AllowLabel" ? [{ key: g.key, value: g.value }] : [])
  ]
  if (t.arns.length > 0) {
    if (Object.keys(t.tags).length > 0) out.push({ path: `${path}.target`, reason: "FIS takes ARNs or tags, not both: the labels are not exported" })
    for (const a of allow) out.push({ path: `${path}.target`, reason: `FIS does not check the tag ${a.key}=${a.value} on resources named by ARN` })
    t.tags = {}
  } else {
    for (const a of allow) addLabel(t, m.resourceType === "aws:ec2:instance", a.key, a.value)
  }
  if (t.arns.length === 0 && Object.keys(t.tags).length === 0) {
    out.push({ path: `${path}.target`, reason: "FIS needs resource tags or ARNs to find targets; add an allow tag or select by label" })
    return null
  }
  return {
    resourceType: m.resourceType,
    selectionMode: t.arns.length > 0 && f.target.pick._tag === "Every" && t.arns.length <= f.target.cap
      ? "ALL"
      : selectionMode(f.target, `${path}.target`, out),
    ...(Object.keys(t.tags).length > 0 ? { resourceTags: t.tags } : {}),
    ...(t.arns.length > 0 ? { resourceArns: t.arns } : {}),
    ...(t.filters.length > 0 ? { filters: t.filters } : {})
  }
}

const parametersOf = (fault: Fault, path: string, remainingMs: number, out: Array<Unsupported>): Record<string, string> | undefined => {
  const f = fault as unknown as { hibernate?: boolean; failBack?: boolean; targetInstance?: string }
  switch (fault._tag) {
    case "aws.ec2.stop":
      if (f.hibernate === true) out.push({ path: `${path}.hibernate`, reason: "FIS's stop-instances does not hibernate" })
      if (remainingMs < 60_000) {
        out.push({ path, reason: `FIS restarts stopped instances after at least 1 minute; the method leaves them stopped ${remainingMs} ms` })
      }
      return { startInstancesAfterDuration: isoDuration(Math.max(60_000, remainingMs)) }
    case "aws.rds.failoverCluster":
      if (f.failBack === true) out.push({ path: `${path}.failBack`, reason: "FIS does not fail back to the previous writer" })
      if (f.targetInstance !== undefined) out.push({ path: `${path}.targetInstance`, reason: "FIS picks the new writer itself" })
      return undefined
    case "aws.rds.rebootWithFailover":
      return { forceFailover: "true" }
    default:
      return undefined
  }
}

const guardCaveats = (input: FisInput): Array<Unsupported> =>
  (input.guards ?? []).flatMap((g, i): Array<Unsupported> =>
    g._tag === "AllowLabel" ? [] : [{ path: `guards[${i}]`, reason: `FIS has no ${g._tag} guard; it is not checked when FIS runs the template` }]
  )

/**
 * The FIS template of an experiment's method, and what FIS cannot express.
 *
 * @since 0.1.0
 */
export const toTemplate = (input: FisInput): FisExport => {
  const unsupported: Array<Unsupported> = [...(input.notExported ?? []), ...guardCaveats(input)]
  const targets: Record<string, FisTarget> = {}
  const actions: Record<string, FisAction> = {}
  const exported: Array<string> = []
  const totalMs = input.steps.reduce((n, s) => n + (s._tag === "Sleep" ? s.millis : 0), 0)
  let elapsedMs = 0
  let after: Array<string> = []
  input.steps.forEach((step, i) => {
    if (step._tag === "Sleep") {
      const name = `wait-${i}`
      actions[name] = { actionId: "aws:fis:wait", parameters: { duration: isoDuration(step.millis) }, ...(after.length > 0 ? { startAfter: after } : {}) }
      after = [name]
      elapsedMs += step.millis
      return
    }
    const m = mappings[step.fault._tag]
    if (m === undefined) {
      unsupported.push({ path: step.path, reason: `FIS has no action for ${step.fault._tag}` })
      return
    }
    const target = targetOf(step.fault, m, input, step.path, unsupported)
    if (target === null) return
    const key = `${m.targetKey}-${i}`
    targets[key] = target
    const parameters = parametersOf(step.fault, step.path, totalMs - elapsedMs, unsupported)
    actions[`inject-${i}`] = {
      actionId: m.actionId,
      description: `${step.fault._tag} (${step.path})`,
      ...(parameters !== undefined ? { parameters } : {}),
      targets: { [m.targetKey]: key },
      ...(after.length > 0 ? { startAfter: after } : {})
    }
    exported.push(step.path)
  })
  if (exported.length === 0) return { template: null, exported, unsupported }
  if (input.roleArn === undefined) unsupported.push({ path: "roleArn", reason: `no IAM role given (--role-arn): the template says ${ROLE_PLACEHOLDER}` })
  return {
    template: {
      description: (input.description ?? `faultline experiment: ${input.name}`).slice(0, 512),
      roleArn: input.roleArn ?? ROLE_PLACEHOLDER,
      stopConditions: (input.stopAlarms ?? []).length > 0
        ? input.stopAlarms!.map((value) => ({ source: "aws:cloudwatch:alarm", value }))
        : [{ source: "none" }],
      targets,
      actions,
      tags: { Name: input.name.slice(0, 256), "faultline:experiment": input.name.slice(0, 256) }
    },
    exported,
    unsupported
  }
}

/** Milliseconds of a duration text (`30 seconds`). @since 0.1.0 */
export const millisOf = (d: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(d))
