/**
 * What the AWS fault handlers share: their context (a `Call`, sending or recording) and
 * small helpers over SDK shapes.
 *
 * @since 0.1.0
 */
import type { Call } from "./AwsApi.ts"

/**
 * What an AWS handler runs in: how calls are made, and whether this is a dry-run plan (a
 * revert then assumes the fault landed and only names its calls).
 *
 * @since 0.1.0
 */
export interface AwsContext {
  readonly call: Call
  readonly planning: boolean
}

/** AWS tags as labels. @since 0.1.0 */
export const tagsOf = (tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? ""]))

/** SDK outputs carry class instances and `undefined`s: keep plain JSON (ledger, journal). @since 0.1.0 */
export const plain = (v: unknown): any => JSON.parse(JSON.stringify(v))

/** A value with its object keys sorted, to compare two JSON shapes. @since 0.1.0 */
export const canonical = (v: any): any =>
  Array.isArray(v)
    ? v.map(canonical)
    : v && typeof v === "object"
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]))
    : v

/** Splits a list into chunks of at most `n`. @since 0.1.0 */
export const chunks = <A>(xs: ReadonlyArray<A>, n: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}
