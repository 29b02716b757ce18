/**
 * Toxic definitions of the embedded proxy: types, attribute defaults, and the decoding of
 * toxic bodies with Toxiproxy 2.12's error messages (which mirror Go's `encoding/json`).
 *
 * @since 0.1.0
 */

/**
 * The toxic types Toxiproxy 2.12 knows, with their attributes in JSON order. `int` vs
 * `int64` and the Go struct name only matter for error messages, which are kept identical.
 *
 * @since 0.1.0
 */
export const TOXIC_TYPES: Record<string, { readonly struct: string; readonly attributes: ReadonlyArray<readonly [string, "int" | "int64"]> }> = {
  latency: { struct: "LatencyToxic", attributes: [["latency", "int64"], ["jitter", "int64"]] },
  bandwidth: { struct: "BandwidthToxic", attributes: [["rate", "int64"]] },
  slow_close: { struct: "SlowCloseToxic", attributes: [["delay", "int64"]] },
  timeout: { struct: "TimeoutToxic", attributes: [["timeout", "int64"]] },
  reset_peer: { struct: "ResetToxic", attributes: [["timeout", "int64"]] },
  slicer: { struct: "SlicerToxic", attributes: [["average_size", "int"], ["size_variation", "int"], ["delay", "int"]] },
  limit_data: { struct: "LimitDataToxic", attributes: [["bytes", "int64"]] },
  noop: { struct: "NoopToxic", attributes: [] }
}

/**
 * One toxic as the API shows it. The object is shared by every live connection, so an
 * update of its attributes applies to them at once.
 *
 * @since 0.1.0
 */
export interface Toxic {
  readonly name: string
  readonly type: string
  /** As given (Toxiproxy accepts any case and echoes it). */
  readonly stream: string
  toxicity: number
  readonly attributes: Record<string, number>
}

/** The direction a toxic acts on, from its (case-insensitive) stream. @since 0.1.0 */
export const direction = (t: Toxic): "upstream" | "downstream" => t.stream.toLowerCase() === "upstream" ? "upstream" : "downstream"

/**
 * An API error, rendered as Toxiproxy does: `{"error": "...", "status": N}`.
 *
 * @since 0.1.0
 */
export class ApiError {
  readonly status: number
  readonly error: string
  constructor(status: number, error: string) {
    this.status = status
    this.error = error
  }
}

/** Go's name for the JSON kind of a value, as in "cannot unmarshal X into ...". @since 0.1.0 */
export const goKind = (v: unknown, numberDetail: boolean): string =>
  typeof v === "string" ?
    "string"
    : typeof v === "boolean" ?
    "bool"
    : typeof v === "number" ?
    (numberDetail ? `number ${String(v)}` : "number")
    : Array.isArray(v) ?
    "array"
    : "object"

const unmarshal = (kind: string, field: string, type: string) =>
  new ApiError(400, `bad request body: json: cannot unmarshal ${kind} into Go struct field ${field} of type ${type}`)

/**
 * Decodes attributes into `into` (merging), as Go would decode JSON into the toxic struct:
 * unknown keys ignored, `null` leaves a value alone, non-integers refused.
 *
 * @since 0.1.0
 */
export const decodeAttributes = (type: string, raw: unknown, into: Record<string, number>): ApiError | null => {
  const def = TOXIC_TYPES[type]!
  if (raw === undefined || raw === null) return null
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return unmarshal(goKind(raw, false), "ToxicWrapper.attributes", `toxics.${def.struct}`)
  }
  const next: Record<string, number> = {}
  for (const [key, goType] of def.attributes) {
    const v = (raw as Record<string, unknown>)[key]
    if (v === undefined || v === null) continue
    if (typeof v !== "number" || !Number.isInteger(v)) {
      return unmarshal(goKind(v, true), `${def.struct}.attributes.${key}`, goType)
    }
    next[key] = v
  }
  Object.assign(into, next)
  return null
}

/** Attribute defaults (all zero, as Go's zero values). @since 0.1.0 */
export const defaults = (type: string): Record<string, number> => Object.fromEntries(TOXIC_TYPES[type]!.attributes.map(([k]) => [k, 0]))

const stringField = (body: Record<string, unknown>, key: string): ApiError | null => {
  const v = body[key]
  if (v === undefined || v === null || typeof v === "string") return null
  return unmarshal(goKind(v, false), `ToxicWrapper.${key}`, "string")
}

/**
 * Decodes a new toxic from a request body, applying Toxiproxy's defaults: stream
 * `downstream`, toxicity 1.0, name `<type>_<stream>`.
 *
 * @since 0.1.0
 */
export const decodeNew = (body: unknown): Toxic | ApiError => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(body, false)} into Go value of type toxiproxy.ToxicWrapper`)
  }
  const b = body as Record<string, unknown>
  for (const k of ["name", "type", "stream"]) {
    const e = stringField(b, k)
    if (e) return e
  }
  if (b.toxicity !== undefined && b.toxicity !== null && typeof b.toxicity !== "number") {
    return unmarshal(goKind(b.toxicity, false), "ToxicWrapper.toxicity", "float32")
  }
  const type = typeof b.type === "string" ? b.type : ""
  if (!Object.hasOwn(TOXIC_TYPES, type)) return new ApiError(400, "invalid toxic type")
  const attributes = defaults(type)
  const bad = decodeAttributes(type, b.attributes, attributes)
  if (bad) return bad
  const stream = typeof b.stream === "string" ? b.stream : "downstream"
  const lower = stream.toLowerCase()
  if (lower !== "upstream" && lower !== "downstream") {
    return new ApiError(400, "stream was invalid, can be either upstream or downstream")
  }
  const name = typeof b.name === "string" && b.name !== "" ? b.name : `${type}_${stream}`
  return { name, type, stream, toxicity: typeof b.toxicity === "number" ? b.toxicity : 1, attributes }
}

/**
 * Applies an update body to a toxic: attributes merged, toxicity replaced when given; the
 * name, type and stream of a toxic never change.
 *
 * @since 0.1.0
 */
export const decodeUpdate = (toxic: Toxic, body: unknown): ApiError | null => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return new ApiError(400, `bad request body: json: cannot unmarshal ${goKind(body, false)} into Go value of type toxiproxy.ToxicWrapper`)
  }
  const b = body as Record<string, unknown>
  if (b.toxicity !== undefined && b.toxicity !== null && typeof b.toxicity !== "number") {
    return unmarshal(goKind(b.toxicity, false), "ToxicWrapper.toxicity", "float32")
  }
  const attributes = { ...toxic.attributes }
  const bad = decodeAttributes(toxic.type, b.attributes, attributes)
  if (bad) return bad
  Object.assign(toxic.attributes, attributes)
  if (typeof b.toxicity === "number") toxic.toxicity = b.toxicity
  return null
}

/** The JSON of a toxic, keys in Toxiproxy's order. @since 0.1.0 */
export const toJSON = (t: Toxic) => ({
  attributes: { ...t.attributes },
  name: t.name,
  type: t.type,
  stream: t.stream,
  toxicity: t.toxicity
})
