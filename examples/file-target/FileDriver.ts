/**
 * The file driver: discovers the files of a directory, hides them and brings them back.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer } from "effect"
import { Driver, Target } from "faultline"
import type { FileHide } from "./Faults.ts"

const fail = (operation: string, target: string, e: unknown) =>
  new Driver.DriverError({ driver: "file", operation, target, reason: "Unknown", detail: (e as Error).message })

// Revert data is plain JSON ({ path, hidden }): the watchdog reads it back from the ledger in
// another process. Idempotent: renames back only when the hidden file is there and the
// original is not, so reverting twice, or a fault that never landed, does nothing.
/** @since 0.1.0 */
export const unhide = (data: Record<string, unknown>): Effect.Effect<void, Driver.DriverError> =>
  Effect.try({
    try: () => {
      const [original, hidden] = [String(data.path), String(data.hidden)]
      if (fs.existsSync(hidden) && !fs.existsSync(original)) fs.renameSync(hidden, original)
    },
    catch: (e) => fail("revert", String(data.path), e)
  })

const revertData = (target: Target.Target) => ({
  path: target.id,
  hidden: path.join(path.dirname(target.id), `.${target.name}.hidden`)
})

/**
 * The driver service. Its shape is the generic `Driver` over its own faults.
 *
 * @since 0.1.0
 */
export class FileDriver extends Context.Service<FileDriver, Driver.Driver<FileHide>>()("example/FileDriver") {
  /** @since 0.1.0 */
  static readonly layer: Layer.Layer<FileDriver> = Layer.succeed(
    FileDriver,
    FileDriver.of({
      name: "file",
      discover: (fault) =>
        Effect.try({
          try: () =>
            fs.readdirSync(fault.dir, { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith("."))
              .map((e) => Target.make({ kind: "file", id: path.join(fault.dir, e.name), name: e.name })),
          catch: (e) => fail("discover", fault.dir, e)
        }),
      // Written to the ledger before the rename: safe whether or not the rename lands.
      prepare: (_fault, target) => Effect.succeed(revertData(target)),
      inject: (_fault, target) =>
        Effect.try({
          try: () => {
            const data = revertData(target)
            fs.renameSync(data.path, data.hidden)
            return data
          },
          catch: (e) => fail("inject", target.id, e)
        }),
      revert: (r) => unhide(r.data)
    })
  )
}
