/**
 * The JSON Schema of an experiment file, derived from `ExperimentFile.ExperimentFile`. It
 * describes the file's shape (the encoded side of the Schema, before faults become fault
 * classes), so editors can check YAML and JSON experiments as they are typed
 * (`# yaml-language-server: $schema=...`). `faultline schema` prints it and
 * `docs/file-format.md` is rendered from it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as SchemaRepresentation from "effect/SchemaRepresentation"
import * as ExperimentFile from "./ExperimentFile.ts"
import * as Integrations from "./integrations.ts"

/**
 * A JSON Schema object (draft 2020-12), as plain JSON.
 *
 * @since 0.1.0
 */
export type JsonSchema = { readonly [key: string]: unknown }

// Schema.Number renders as "a number, or one of the strings NaN/Infinity/-Infinity" (its JSON
// codec's encoding); a YAML or JSON experiment is decoded without that codec, so those
// strings are refused there and the schema must not offer them.
const isNonFiniteString = (s: unknown): boolean =>
  typeof s === "object" && s !== null && (s as any).type === "string" && Array.isArray((s as any).enum) &&
  (s as any).enum.every((v: unknown) => v === "NaN" || v === "Infinity" || v === "-Infinity")

const simplify = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(simplify)
  if (typeof node !== "object" || node === null) return node
  const o = node as Record<string, unknown>
  const anyOf = o.anyOf
  if (Array.isArray(anyOf) && anyOf.length === 2 && (anyOf[0] as any)?.type === "number" && isNonFiniteString(anyOf[1])) {
    const { anyOf: _drop, ...rest } = o
    return simplify({ ...(anyOf[0] as object), ...rest })
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, simplify(v)]))
}

/**
 * The value a fault field takes when a file leaves it out (`signal: SIGKILL`), found by
 * decoding an empty struct with that field alone: the Schema is the only source of truth.
 *
 * @since 0.1.0
 */
export const fieldDefaults = (fields: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(fields).flatMap(([key, field]) => {
      const r = Schema.decodeUnknownExit(Schema.Struct({ x: field as Schema.Codec<unknown> }))({})
      return r._tag === "Success" && "x" in (r.value as object) ? [[key, (r.value as any).x]] : []
    })
  )

// Adds `default` to each fault's optional fields, which the representation cannot see
// (a decoding default lives in a getter).
const withFaultDefaults = (schema: any): any => {
  const defaults = new Map(Integrations.faultClasses.map(({ tag, cls }) => [tag, fieldDefaults((cls as any).fields)]))
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit)
    if (typeof node !== "object" || node === null) return node
    const o = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v)])) as any
    const tag = o.properties?.fault?.enum?.[0]
    const d = typeof tag === "string" ? defaults.get(tag) : undefined
    if (d) {
      for (const [key, value] of Object.entries(d)) if (o.properties[key]) o.properties[key] = { ...o.properties[key], default: value }
    }
    return o
  }
  return visit(schema)
}

/**
 * The JSON Schema (draft 2020-12) of a YAML or JSON experiment file. Keys the format does
 * not define are marked as not allowed (`additionalProperties: false`), so an editor flags a
 * misspelt key.
 *
 * @since 0.1.0
 */
export const jsonSchema = (): JsonSchema => {
  const encoded = Schema.toEncoded(ExperimentFile.ExperimentFile)
  const doc = SchemaRepresentation.toJsonSchemaDocument(Schema.toRepresentation(encoded), { onExcessProperty: "error" })
  const defs = Object.keys(doc.definitions).length > 0 ? { $defs: doc.definitions } : {}
  return withFaultDefaults(simplify({
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "faultline experiment file",
    description: "A chaos experiment as data (YAML or JSON), run with `faultline run FILE`. Generated from the Schema by `faultline schema`.",
    ...doc.schema,
    ...defs
  })) as JsonSchema
}
