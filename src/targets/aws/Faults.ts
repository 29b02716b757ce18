/**
 * AWS faults, as data: EC2 stop/reboot/terminate, RDS failovers, Route 53 weight changes
 * and health-check inversion. Targeting is FIS-like: a core Selector (ids, names, tags as
 * labels, `count`/`percent`), plus EC2 filters and an availability zone.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Fault from "../../core/Fault.ts"
import * as Guard from "../../core/Guard.ts"
import * as Selector from "../../core/Selector.ts"
import { AwsDriver } from "./AwsDriver.ts"

/** The tag every AWS target must carry by default: `faultline:allow=true`. @since 0.1.0 */
export const ALLOW_TAG = "faultline:allow"

/**
 * The guards every AWS fault brings, as every Docker fault does: each target carries
 * `faultline:allow=true`, and at most 10 targets per fault.
 *
 * @since 0.1.0
 */
export const defaultGuards: ReadonlyArray<Guard.Guard> = [Guard.allowLabel(ALLOW_TAG, "true"), Guard.maxTargets(10)]

/** The base of every AWS fault (driver: AwsDriver; default guards above). @since 0.1.0 */
export const AwsFaultClass = Fault.Class(AwsDriver, { defaultGuards })

/** An EC2 `Filters` entry, sent as is to DescribeInstances. @since 0.1.0 */
export const Ec2Filter = Schema.Struct({ name: Schema.String, values: Schema.Array(Schema.String) })
/** @since 0.1.0 */
export type Ec2Filter = typeof Ec2Filter.Type

const ec2Targeting = {
  target: Selector.Selector,
  /** Server-side filters (e.g. `tag:team`, `instance-type`). */
  filters: Schema.optionalKey(Schema.Array(Ec2Filter)),
  /** Only instances in this availability zone (also a label: `aws:az`). */
  az: Schema.optionalKey(Schema.String)
}

/**
 * `aws.ec2.stop`: stop the selected instances (one StopInstances per 1000 ids). Reverting
 * starts those that are stopped (waiting out `stopping`); running ones are left alone.
 *
 * @since 0.1.0
 */
export class Ec2Stop extends AwsFaultClass<Ec2Stop>()("aws.ec2.stop", {
  ...ec2Targeting,
  /** Hibernate instead of stop (where the instance supports it). */
  hibernate: Schema.optionalKey(Schema.Boolean)
}) {}

/**
 * `aws.ec2.reboot`: reboot the selected instances. Nothing to revert: a reboot ends by itself.
 *
 * @since 0.1.0
 */
export class Ec2Reboot extends AwsFaultClass<Ec2Reboot>()("aws.ec2.reboot", ec2Targeting) {}

/**
 * `aws.ec2.terminate`: terminate the selected instances. Irreversible, like `docker.remove`:
 * planning refuses it (status `refused`, before any call) unless the experiment says
 * `irreversible: true`.
 *
 * @since 0.1.0
 */
export class Ec2Terminate extends AwsFaultClass<Ec2Terminate>({ irreversible: true })("aws.ec2.terminate", {
  ...ec2Targeting
}) {}

/**
 * `aws.rds.failoverCluster`: FailoverDBCluster, optionally to a given instance. The failover
 * is its own recovery; with `failBack` the revert fails back to the previous writer.
 *
 * @since 0.1.0
 */
export class RdsFailoverCluster extends AwsFaultClass<RdsFailoverCluster>()("aws.rds.failoverCluster", {
  target: Selector.Selector,
  targetInstance: Schema.optionalKey(Schema.String),
  failBack: Schema.optionalKey(Schema.Boolean)
}) {}

/**
 * `aws.rds.rebootWithFailover`: RebootDBInstance with ForceFailover (Multi-AZ). Nothing to revert.
 *
 * @since 0.1.0
 */
export class RdsRebootWithFailover extends AwsFaultClass<RdsRebootWithFailover>()("aws.rds.rebootWithFailover", {
  target: Selector.Selector
}) {}

/**
 * `aws.route53.setWeight`: UPSERT a weighted record with a new weight. The previous record
 * set is captured before the change (`prepare`); reverting restores it exactly.
 *
 * @since 0.1.0
 */
export class Route53SetWeight extends AwsFaultClass<Route53SetWeight>()("aws.route53.setWeight", {
  target: Selector.Selector,
  hostedZoneId: Schema.String,
  recordName: Schema.String,
  recordType: Schema.String,
  weight: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 255 }))
}) {}

/**
 * `aws.route53.invertHealthCheck`: UpdateHealthCheck Inverted=true; reverting restores the
 * previous value.
 *
 * @since 0.1.0
 */
export class Route53InvertHealthCheck extends AwsFaultClass<Route53InvertHealthCheck>()("aws.route53.invertHealthCheck", {
  target: Selector.Selector
}) {}

/** Every AWS fault. @since 0.1.0 */
/**
 * `aws.fis.experiment`: an AWS FIS experiment template, created, started and watched
 * (`faultline run --engine fis`). Its revert stops the experiment if it still runs and
 * deletes the template, so the watchdog stops it too when the runner dies. No default
 * guards of its own: the run checks the guards of the faults the template came from
 * against their targets before it starts (the plan), and the template only names resources
 * tagged `faultline:allow=true` (see `Fis.toTemplate`).
 *
 * @since 0.1.0
 */
export class FisExperiment extends Fault.Class(AwsDriver)<FisExperiment>()("aws.fis.experiment", {
  target: Selector.Selector,
  /** The template, as `CreateExperimentTemplate` takes it (`Fis.toTemplate`). */
  template: Schema.Record(Schema.String, Schema.Unknown)
}) {}

export const AwsFault = Schema.Union([
  Ec2Stop,
  Ec2Reboot,
  Ec2Terminate,
  RdsFailoverCluster,
  RdsRebootWithFailover,
  Route53SetWeight,
  Route53InvertHealthCheck,
  FisExperiment
])
/** @since 0.1.0 */
export type AwsFault = typeof AwsFault.Type

interface Ec2Options {
  readonly target: Selector.Selector
  readonly filters?: ReadonlyArray<Ec2Filter>
  readonly az?: string
}

/** EC2 faults. @since 0.1.0 */
export const ec2 = {
  /** `aws.ec2.stop`. */
  stop: (o: Ec2Options & { readonly hibernate?: boolean }): Ec2Stop => new Ec2Stop(o),
  /** `aws.ec2.reboot`. */
  reboot: (o: Ec2Options): Ec2Reboot => new Ec2Reboot(o),
  /** `aws.ec2.terminate` (irreversible: the experiment must say `irreversible: true`). */
  terminate: (o: Ec2Options): Ec2Terminate => new Ec2Terminate(o)
}

/** RDS faults. @since 0.1.0 */
export const rds = {
  /** `aws.rds.failoverCluster`. */
  failoverCluster: (o: { readonly target: Selector.Selector; readonly targetInstance?: string; readonly failBack?: boolean }) => new RdsFailoverCluster(o),
  /** `aws.rds.rebootWithFailover`. */
  rebootWithFailover: (o: { readonly target: Selector.Selector }) => new RdsRebootWithFailover(o)
}

/** Route 53 faults. @since 0.1.0 */
export const route53 = {
  /** `aws.route53.setWeight`. */
  setWeight: (o: {
    readonly target: Selector.Selector
    readonly hostedZoneId: string
    readonly recordName: string
    readonly recordType: string
    readonly weight: number
  }) => new Route53SetWeight(o),
  /** `aws.route53.invertHealthCheck`. */
  invertHealthCheck: (o: { readonly target: Selector.Selector }) => new Route53InvertHealthCheck(o)
}
