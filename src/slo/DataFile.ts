/**
 * Reading a YAML or JSON file against a Schema, strictly: an unknown key is an error, and
 * every error is one line naming the file, the path and the cause.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as YAML from "yaml"
import * as Strict from "../core/internal/strict.ts"

/**
 * A file that is missing or malformed: `problem` names the path and the cause.
 *
 * @since 0.2.0
 */
export class DataFileInvalid extends Schema.TaggedError<DataFileInvalid>()("DataFileInvalid", {
  file: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `${this.file}: ${this.problem}`
  }
}

/**
 * Decodes `text` (YAML, or JSON for a `.json` file) against `schema`.
 *
 * @since 0.2.0
 */
export const decode = <S extends Schema.Codec<unknown, unknown>>(schema: S, file: string, text: string): Effect.Effect<S["Type"], DataFileInvalid> =>
  Effect.gen(function*() {
    const raw = yield* Effect.try({
      try: () => file.endsWith(".json") ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true }),
      catch: (e) => new DataFileInvalid({ file, problem: `not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}` })
    })
    const unknown = Strict.unknownKeys(schema, raw)
    if (unknown !== undefined) return yield* new DataFileInvalid({ file, problem: unknown })
    return yield* Schema.decodeUnknownEffect(schema)(raw, { onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => new DataFileInvalid({ file, problem: Strict.oneLine(e.issue) }))
    ) as Effect.Effect<S["Type"], DataFileInvalid>
  })

/**
 * Reads and decodes a file.
 *
 * @since 0.2.0
 */
export const load = <S extends Schema.Codec<unknown, unknown>>(schema: S, file: string): Effect.Effect<S["Type"], DataFileInvalid> =>
  Effect.flatMap(
    Effect.try({
      try: () => fs.readFileSync(file, "utf8"),
      catch: (e) => new DataFileInvalid({ file, problem: `cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` })
    }),
    (text) => decode(schema, file, text)
  )
