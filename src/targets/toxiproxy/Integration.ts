/**
 * The network integration: toxics on a Toxiproxy proxy (the real server or faultline's
 * embedded one).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Integration from "../../core/Integration.ts"
import { NetworkBandwidth, NetworkDown, NetworkLatency, NetworkLimitData, NetworkResetPeer, NetworkSlicer, NetworkTimeout } from "./Faults.ts"
import { ToxiproxyDriver } from "./ToxiproxyDriver.ts"

/** @since 0.1.0 */
export const integration: Integration.Integration = Integration.make({
  name: "toxiproxy",
  summary: "network faults through Toxiproxy or the embedded proxy: latency, bandwidth, down, timeout, reset, slicer, limit",
  module: "faultline/toxiproxy",
  faults: [NetworkLatency, NetworkBandwidth, NetworkDown, NetworkTimeout, NetworkResetPeer, NetworkSlicer, NetworkLimitData],
  defaultGuards: [],
  layer: Effect.succeed(ToxiproxyDriver.layer),
  reverter: Effect.promise(() => import("./Reverter.ts")).pipe(Effect.map((m) => m.revertRecord))
})
