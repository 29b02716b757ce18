/**
 * `faultline schema`: the JSON Schema of experiment files, for editors. Loaded only when it runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { jsonSchema } from "../../ExperimentFileSchema.ts"

/**
 * Prints the JSON Schema; the CLI ends with `process.exit`, which drops what a pipe has not
 * taken yet: it waits until stdout has it all.
 *
 * @since 0.1.0
 */
export const schema = () =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      // A reader that stops early (`| head`) closes the pipe: that is not an error here.
      process.stdout.once("error", () => resolve())
      process.stdout.write(JSON.stringify(jsonSchema(), null, 2) + "\n", () => resolve())
    })
  )
