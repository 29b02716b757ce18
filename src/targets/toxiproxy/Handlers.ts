/**
 * One handler per network fault: `network.down` disables the proxy; every other fault is a
 * toxic on it. The driver and the out-of-process reverter run the same table.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Handler from "../../core/Handler.ts"
import type * as Target from "../../core/Target.ts"
import type { ProxyJson, ToxicJson } from "./Api.ts"
import type { NetworkDown, NetworkFault } from "./Faults.ts"
import { toToxic } from "./Toxic.ts"
import { ToxiproxyError } from "./ToxiproxyError.ts"

/**
 * The API operations the handlers use.
 *
 * @since 0.1.0
 */
export interface ToxiproxyContext {
  readonly proxies: Effect.Effect<ReadonlyArray<ProxyJson>, ToxiproxyError>
  readonly proxy: (name: string) => Effect.Effect<ProxyJson, ToxiproxyError>
  readonly setEnabled: (name: string, enabled: boolean) => Effect.Effect<ProxyJson, ToxiproxyError>
  readonly addToxic: (proxy: string, toxic: ReturnType<typeof toToxic>) => Effect.Effect<ToxicJson, ToxiproxyError>
  readonly removeToxic: (proxy: string, toxic: string) => Effect.Effect<void, ToxiproxyError>
  readonly toTarget: (p: ProxyJson) => Target.Target
}

const RevertData = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("toxic"), proxy: Schema.String, toxic: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("down"), proxy: Schema.String, wasEnabled: Schema.Boolean })
])

// One revert for both kinds: the data says which (ledger records are decoded, not trusted).
const undo = (ctx: ToxiproxyContext, raw: Handler.RevertData, target: Target.Target | undefined) =>
  Effect.gen(function*() {
    const name = target?.name ?? String(raw.proxy)
    const data = yield* Schema.decodeUnknownEffect(RevertData)(raw).pipe(
      Effect.mapError((e) => new ToxiproxyError({ reason: "BadResponse", target: name, operation: "revert", detail: `revert data: ${e.message}` }))
    )
    if (data.kind === "toxic") return yield* ctx.removeToxic(data.proxy, data.toxic)
    if (!data.wasEnabled) return
    // Re-enabling an enabled proxy is a no-op; a deleted proxy has nothing to revert.
    yield* ctx.setEnabled(data.proxy, true).pipe(Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void))
  })

// Revert data known before anything is touched, so an intent whose injection may or may
// not have landed reverts safely: the toxic's name is fixed by the fault; for `down`, the
// proxy's state now.
const down: Handler.Handler<ToxiproxyContext, NetworkDown, ToxiproxyError> = {
  prepare: (ctx, _fault, target) => Effect.map(ctx.proxy(target.name), (before) => ({ kind: "down", proxy: target.name, wasEnabled: before.enabled })),
  inject: (ctx, _fault, target) =>
    Effect.gen(function*() {
      const before = yield* ctx.proxy(target.name)
      if (before.enabled) yield* ctx.setEnabled(target.name, false)
      return { kind: "down", proxy: target.name, wasEnabled: before.enabled }
    }),
  revert: undo
}

const toxic = <F extends Exclude<NetworkFault, NetworkDown>>(): Handler.Handler<ToxiproxyContext, F, ToxiproxyError> => ({
  prepare: (_ctx, fault, target) => Effect.succeed({ kind: "toxic", proxy: target.name, toxic: toToxic(fault).name }),
  inject: (ctx, fault, target) =>
    Effect.gen(function*() {
      const t = toToxic(fault)
      yield* ctx.addToxic(target.name, t)
      return { kind: "toxic", proxy: target.name, toxic: t.name }
    }),
  revert: undo
})

/**
 * The network faults' handlers.
 *
 * @since 0.1.0
 */
export const handlers: Handler.Handlers<ToxiproxyContext, NetworkFault, ToxiproxyError> = {
  "network.down": down,
  "network.latency": toxic(),
  "network.bandwidth": toxic(),
  "network.timeout": toxic(),
  "network.resetPeer": toxic(),
  "network.slicer": toxic(),
  "network.limitData": toxic()
}

/**
 * The network faults' operations; every proxy is a candidate target.
 *
 * @since 0.1.0
 */
export const networkFaults = Handler.dispatch(handlers, {
  discover: (ctx) => Effect.map(ctx.proxies, (ps) => ps.map(ctx.toTarget)),
  unknown: (tag, operation) => new ToxiproxyError({ reason: "Unsupported", target: tag, operation, detail: `unknown fault ${tag}` })
})
