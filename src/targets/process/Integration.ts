/**
 * The process integration: local processes the run starts or adopts.
 *
 * @since 0.1.0
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Integration from "../../core/Integration.ts"
import { ProcessKill, ProcessPause, ProcessRestart } from "./Faults.ts"
import { ProcessDriver } from "./ProcessDriver.ts"

/** @since 0.1.0 */
export const integration: Integration.Integration = Integration.make({
  name: "process",
  summary: "local processes: kill, pause, restart",
  module: "faultline",
  faults: [ProcessKill, ProcessPause, ProcessRestart],
  defaultGuards: [],
  layer: Effect.succeed(ProcessDriver.layer.pipe(Layer.provide(NodeServices.layer))),
  reverter: Effect.promise(() => import("./Reverter.ts")).pipe(Effect.map((m) => m.revertRecord))
})
