/**
 * Network faults, as data: each one a toxic on (or the disabling of) a Toxiproxy proxy.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Fault from "../../core/Fault.ts"
import * as Selector from "../../core/Selector.ts"
import { ToxiproxyDriver } from "./ToxiproxyDriver.ts"

/** The base of every network fault (driver: ToxiproxyDriver). @since 0.1.0 */
export const NetworkFaultClass = Fault.Class(ToxiproxyDriver)

/** Which way a toxic acts: `downstream` (server to client, the default) or `upstream`. @since 0.1.0 */
export const Stream = Schema.Literals(["upstream", "downstream"])
/** @since 0.1.0 */
export type Stream = typeof Stream.Type

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const ZeroDefault = NonNegativeInt.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0)))
const Toxicity = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

// Fields every toxic fault shares. `name` overrides the toxic's name (default
// `faultline_<type>_<stream>`), e.g. to stack two toxics of a type on one proxy.
const common = {
  target: Selector.Selector,
  stream: Stream.pipe(Schema.withDecodingDefaultKey(Effect.succeed("downstream" as const))),
  toxicity: Toxicity.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  name: Schema.optionalKey(Schema.String)
}

/**
 * `network.latency`: adds `latency` ms (± `jitter` ms) to data through the proxy.
 *
 * @since 0.1.0
 */
export class NetworkLatency extends NetworkFaultClass<NetworkLatency>()("network.latency", {
  ...common,
  latency: NonNegativeInt,
  jitter: ZeroDefault
}) {}

/** `network.bandwidth`: limits throughput to `rate` KB/s. @since 0.1.0 */
export class NetworkBandwidth extends NetworkFaultClass<NetworkBandwidth>()("network.bandwidth", {
  ...common,
  rate: NonNegativeInt
}) {}

/** `network.down`: disables the proxy (its connections close, new ones are refused); reverting enables it. @since 0.1.0 */
export class NetworkDown extends NetworkFaultClass<NetworkDown>()("network.down", {
  target: Selector.Selector
}) {}

/** `network.timeout`: stops all data; closes connections after `timeout` ms (0: holds them until reverted). @since 0.1.0 */
export class NetworkTimeout extends NetworkFaultClass<NetworkTimeout>()("network.timeout", {
  ...common,
  timeout: NonNegativeInt
}) {}

/** `network.resetPeer`: resets connections (TCP RST) `timeout` ms after data arrives. @since 0.1.0 */
export class NetworkResetPeer extends NetworkFaultClass<NetworkResetPeer>()("network.resetPeer", {
  ...common,
  timeout: ZeroDefault
}) {}

/** `network.slicer`: slices data into `averageSize` ± `sizeVariation` byte pieces, `delayMicros` apart. @since 0.1.0 */
export class NetworkSlicer extends NetworkFaultClass<NetworkSlicer>()("network.slicer", {
  ...common,
  averageSize: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  sizeVariation: ZeroDefault,
  delayMicros: ZeroDefault
}) {}

/** `network.limitData`: closes connections once `bytes` bytes have passed. @since 0.1.0 */
export class NetworkLimitData extends NetworkFaultClass<NetworkLimitData>()("network.limitData", {
  ...common,
  bytes: NonNegativeInt
}) {}

/** Every network fault. @since 0.1.0 */
export const NetworkFault = Schema.Union([NetworkLatency, NetworkBandwidth, NetworkDown, NetworkTimeout, NetworkResetPeer, NetworkSlicer, NetworkLimitData])
/** @since 0.1.0 */
export type NetworkFault = typeof NetworkFault.Type

interface Common {
  readonly target: Selector.Selector
  readonly stream?: Stream
  readonly toxicity?: number
  readonly name?: string
}
const base = (o: Common) => ({ target: o.target, stream: o.stream ?? "downstream", toxicity: o.toxicity ?? 1, ...(o.name ? { name: o.name } : {}) })

/**
 * `network.latency` on the selected proxies.
 *
 * @example
 * ```ts
 * yield* Fault.inject(Toxiproxy.latency({ target: Selector.name("kv-router"), latency: 100 }))
 * ```
 * @since 0.1.0
 */
export const latency = (o: Common & { readonly latency: number; readonly jitter?: number }) =>
  new NetworkLatency({ ...base(o), latency: o.latency, jitter: o.jitter ?? 0 })
/** `network.bandwidth` (KB/s). @since 0.1.0 */
export const bandwidth = (o: Common & { readonly rate: number }) => new NetworkBandwidth({ ...base(o), rate: o.rate })
/** `network.down`. @since 0.1.0 */
export const down = (o: { readonly target: Selector.Selector }) => new NetworkDown({ target: o.target })
/** `network.timeout` (ms; 0 holds connections until reverted). @since 0.1.0 */
export const timeout = (o: Common & { readonly timeout: number }) => new NetworkTimeout({ ...base(o), timeout: o.timeout })
/** `network.resetPeer` (ms after data). @since 0.1.0 */
export const resetPeer = (o: Common & { readonly timeout?: number }) => new NetworkResetPeer({ ...base(o), timeout: o.timeout ?? 0 })
/** `network.slicer`. @since 0.1.0 */
export const slicer = (o: Common & { readonly averageSize: number; readonly sizeVariation?: number; readonly delayMicros?: number }) =>
  new NetworkSlicer({ ...base(o), averageSize: o.averageSize, sizeVariation: o.sizeVariation ?? 0, delayMicros: o.delayMicros ?? 0 })
/** `network.limitData` (bytes). @since 0.1.0 */
export const limitData = (o: Common & { readonly bytes: number }) => new NetworkLimitData({ ...base(o), bytes: o.bytes })

export { toToxic } from "./Toxic.ts"
