/**
 * AWS faults, as data: EC2 stop/reboot/terminate, RDS failovers, Route 53 weight changes
 * and health-check inversion. Targeting is FIS-like: a core Selector (ids, names, tags as
 * labels, `count`/`percent`), plus EC2 filters and an availability zone.
 *
 * @since 0.1.0
 */
import type { Context } from "effect"
import { Schema } from "effect"
import type { Driver } from "../../core/Driver.ts"
import * as Selector from "../../core/Selector.ts"
import { AwsDriver } from "./AwsDriver.ts"

const driver = AwsDriver as unknown as Context.Key<AwsDriver, Driver>

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
export class Ec2Stop extends Schema.TaggedClass<Ec2Stop>()("aws.ec2.stop", {
  ...ec2Targeting,
  /** Hibernate instead of stop (where the instance supports it). */
  hibernate: Schema.optionalKey(Schema.Boolean)
}) {
  get driver() {
    return driver
  }
}

/**
 * `aws.ec2.reboot`: reboot the selected instances. Nothing to revert: a reboot ends by itself.
 *
 * @since 0.1.0
 */
export class Ec2Reboot extends Schema.TaggedClass<Ec2Reboot>()("aws.ec2.reboot", ec2Targeting) {
  get driver() {
    return driver
  }
}

/**
 * `aws.ec2.terminate`: terminate the selected instances. Irreversible: refused (an
 * `AwsError { reason: "Irreversible" }`, before any call) unless `irreversible: true`.
 *
 * @since 0.1.0
 */
export class Ec2Terminate extends Schema.TaggedClass<Ec2Terminate>()("aws.ec2.terminate", {
  ...ec2Targeting,
  irreversible: Schema.Boolean
}) {
  get driver() {
    return driver
  }
}

/**
 * `aws.rds.failoverCluster`: FailoverDBCluster, optionally to a given instance. The failover
 * is its own recovery; with `failBack` the revert fails back to the previous writer.
 *
 * @since 0.1.0
 */
export class RdsFailoverCluster extends Schema.TaggedClass<RdsFailoverCluster>()("aws.rds.failoverCluster", {
  target: Selector.Selector,
  targetInstance: Schema.optionalKey(Schema.String),
  failBack: Schema.optionalKey(Schema.Boolean)
}) {
  get driver() {
    return driver
  }
}

/**
 * `aws.rds.rebootWithFailover`: RebootDBInstance with ForceFailover (Multi-AZ). Nothing to revert.
 *
 * @since 0.1.0
 */
export class RdsRebootWithFailover extends Schema.TaggedClass<RdsRebootWithFailover>()("aws.rds.rebootWithFailover", {
  target: Selector.Selector
}) {
  get driver() {
    return driver
  }
}

/**
 * `aws.route53.setWeight`: UPSERT a weighted record with a new weight. The previous record
 * set is captured before the change (`prepare`); reverting restores it exactly.
 *
 * @since 0.1.0
 */
export class Route53SetWeight extends Schema.TaggedClass<Route53SetWeight>()("aws.route53.setWeight", {
  target: Selector.Selector,
  hostedZoneId: Schema.String,
  recordName: Schema.String,
  recordType: Schema.String,
  weight: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 255 }))
}) {
  get driver() {
    return driver
  }
}

/**
 * `aws.route53.invertHealthCheck`: UpdateHealthCheck Inverted=true; reverting restores the
 * previous value.
 *
 * @since 0.1.0
 */
export class Route53InvertHealthCheck extends Schema.TaggedClass<Route53InvertHealthCheck>()("aws.route53.invertHealthCheck", {
  target: Selector.Selector
}) {
  get driver() {
    return driver
  }
}

/** Every AWS fault. @since 0.1.0 */
export const AwsFault = Schema.Union([
  Ec2Stop,
  Ec2Reboot,
  Ec2Terminate,
  RdsFailoverCluster,
  RdsRebootWithFailover,
  Route53SetWeight,
  Route53InvertHealthCheck
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
  /** `aws.ec2.terminate`; the type demands the acknowledgement `irreversible: true`. */
  terminate: (o: Ec2Options & { readonly irreversible: true }): Ec2Terminate => new Ec2Terminate(o)
}

/** RDS faults. @since 0.1.0 */
export const rds = {
  /** `aws.rds.failoverCluster`. */
  failoverCluster: (o: { readonly target: Selector.Selector; readonly targetInstance?: string; readonly failBack?: boolean }) =>
    new RdsFailoverCluster(o),
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
