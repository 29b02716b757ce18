/**
 * Strict reading of files: every key must be one the format knows, and a union is judged
 * by its discriminator, so bad input gets one line naming the path and the most specific
 * cause (`unknown key "objectivez" at $; did you mean "objectives"?`,
 * `unknown fault "process.explode" at method[0].inject.fault; known: ...`), never a dump of
 * every union member's complaint.
 *
 * @internal
 */
import type * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"

/** A path as files are read: `$`, `method[0].inject.fault`. @internal */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? "$"
    : path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("")

const distance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1))
    }
  }
  return d[a.length]![b.length]!
}

/** The known word nearest to `word`, when it is near enough to be a typo. @internal */
export const nearest = (word: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestD = Infinity
  for (const k of known) {
    const dk = distance(word, k)
    if (dk < bestD) [best, bestD] = [k, dk]
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const resolve = (ast: SchemaAST.AST): SchemaAST.AST => (ast._tag === "Suspend" ? resolve(ast.thunk()) : ast)

const objectsOf = (ast: SchemaAST.AST): SchemaAST.Objects | undefined => {
  const a = resolve(ast)
  return a._tag === "Objects" ? a : undefined
}

// The members of a union, with nested unions' members in place.
const flatten = (u: SchemaAST.Union): ReadonlyArray<SchemaAST.AST> =>
  u.types.flatMap((t) => {
    const r = resolve(t)
    return r._tag === "Union" ? flatten(r) : [r]
  })

const keysOf = (o: SchemaAST.Objects): ReadonlyArray<string> => o.propertySignatures.map((p) => String(p.name))

const literalOf = (o: SchemaAST.Objects, key: string): unknown => {
  const p = o.propertySignatures.find((s) => s.name === key)
  const t = p && resolve(p.type)
  return t?._tag === "Literal" ? t.literal : undefined
}

// A key every object member of the union carries as a literal (e.g. `fault`, `_tag`).
const discriminator = (members: ReadonlyArray<SchemaAST.Objects>): string | undefined =>
  members.length < 2 ? undefined : keysOf(members[0]!).find((k) => members.every((m) => literalOf(m, k) !== undefined))

const unknownKey = (key: string, path: ReadonlyArray<PropertyKey>, known: ReadonlyArray<string>): string => {
  const near = nearest(key, known)
  return `unknown key ${JSON.stringify(key)} at ${formatPath(path)}; ${near ? `did you mean ${JSON.stringify(near)}?` : `known: ${known.join(", ")}`}`
}

const walk = (ast: SchemaAST.AST, value: unknown, path: ReadonlyArray<PropertyKey>): string | undefined => {
  const a = resolve(ast)
  switch (a._tag) {
    case "Objects": {
      if (!isRecord(value) || a.indexSignatures.length > 0) return undefined
      const known = keysOf(a)
      for (const key of Object.keys(value)) if (!known.includes(key)) return unknownKey(key, path, known)
      for (const p of a.propertySignatures) {
        const k = String(p.name)
        if (k in value) {
          const bad = walk(p.type, value[k], [...path, k])
          if (bad) return bad
        }
      }
      return undefined
    }
    case "Arrays": {
      if (!Array.isArray(value)) return undefined
      for (let i = 0; i < value.length; i++) {
        const el = a.elements[i] ?? a.rest[0]
        const bad = el ? walk(el, value[i], [...path, i]) : undefined
        if (bad) return bad
      }
      return undefined
    }
    case "Union": {
      if (!isRecord(value)) return undefined
      const members = flatten(a).map(objectsOf).filter((o): o is SchemaAST.Objects => o !== undefined)
      if (members.length === 0) return undefined
      const tag = discriminator(members)
      if (tag !== undefined) {
        const known = members.map((m) => String(literalOf(m, tag)))
        if (!(tag in value)) return `missing key ${JSON.stringify(tag)} at ${formatPath(path)}; one of: ${known.join(", ")}`
        const member = members.find((m) => literalOf(m, tag) === value[tag])
        if (member === undefined) {
          const near = nearest(String(value[tag]), known)
          return `unknown ${tag === "_tag" ? "kind" : tag} ${JSON.stringify(value[tag])} at ${formatPath([...path, tag])}; ${
            near ? `did you mean ${JSON.stringify(near)}? ` : ""
          }known: ${known.join(", ")}`
        }
        return walk(member, value, path)
      }
      // Members told apart by which keys they have ({ inject } | { sleep }).
      const all = [...new Set(members.flatMap(keysOf))]
      for (const key of Object.keys(value)) if (!all.includes(key)) return unknownKey(key, path, all)
      const member = members.find((m) => Object.keys(value).every((k) => keysOf(m).includes(k)))
      return member ? walk(member, value, path) : undefined
    }
    default:
      return undefined
  }
}

/**
 * The first key (or union discriminator) in `value` that the schema's encoded form does not
 * know, as one line; `undefined` when there is none.
 *
 * @internal
 */
export const unknownKeys = (schema: Schema.Top, value: unknown): string | undefined => walk(SchemaAST.toEncoded(schema.ast), value, [])

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * One line for a decoding issue: the most specific (deepest) problem with its path.
 *
 * @internal
 */
export const oneLine = (issue: SchemaIssue.Issue): string => {
  const issues = formatter(issue).issues
  const deepest = [...issues].sort((x, y) => (y.path?.length ?? 0) - (x.path?.length ?? 0))[0]
  if (deepest === undefined) return "invalid"
  const path = (deepest.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p) as PropertyKey)
  return `${deepest.message.split("\n")[0]} at ${formatPath(path)}`
}
