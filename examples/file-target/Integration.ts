/**
 * The file integration: one value naming its faults, guards, driver layer and reverter.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { Integration } from "faultline"
import { FileHide } from "./Faults.ts"
import { FileDriver } from "./FileDriver.ts"

/** @since 0.1.0 */
export const integration: Integration.Integration = Integration.make({
  name: "file",
  summary: "files: hide (rename aside)",
  module: "faultline/file",
  faults: [FileHide],
  defaultGuards: [],
  layer: Effect.succeed(FileDriver.layer),
  // Loaded on demand: listing the integration loads nothing the reverter needs.
  reverter: Effect.promise(() => import("./Reverter.ts")).pipe(Effect.map((m) => m.revertRecord))
})
