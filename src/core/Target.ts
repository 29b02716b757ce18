/**
 * Targets: the things a fault acts on.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A target identifier, unique within its kind (a pid, a container id, an instance id).
 *
 * @since 0.1.0
 */
export const TargetId = Schema.String.pipe(Schema.brand("faultline/TargetId"))
/** @since 0.1.0 */
export type TargetId = typeof TargetId.Type

/**
 * Something a fault acts on, as its driver discovered it.
 *
 * @since 0.1.0
 */
export class Target extends Schema.Class<Target>("faultline/Target")({
  kind: Schema.String,
  id: TargetId,
  name: Schema.String,
  labels: Schema.Record(Schema.String, Schema.String)
}) {}

/**
 * Builds a target; labels default to none.
 *
 * @since 0.1.0
 */
export const make = (input: {
  readonly kind: string
  readonly id: string
  readonly name: string
  readonly labels?: Record<string, string> | undefined
}): Target => new Target({ kind: input.kind, id: TargetId.make(input.id), name: input.name, labels: input.labels ?? {} })

/**
 * A stable key for a target, used by leases and the ledger: `kind:id`.
 *
 * @since 0.1.0
 */
export const key = (target: Target): string => `${target.kind}:${target.id}`
