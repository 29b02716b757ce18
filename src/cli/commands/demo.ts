/**
 * `faultline demo`: the kv-failover demo behind the embedded fault proxy. Loaded only when
 * the demo runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Demo from "../../../examples/kv-failover/demo.ts"
import * as EmbeddedProxy from "../../proxy/EmbeddedProxy.ts"
import * as Runner from "../../run/Runner.ts"
import { ProcessDriver } from "../../targets/process/ProcessDriver.ts"
import { ToxiproxyDriver } from "../../targets/toxiproxy/ToxiproxyDriver.ts"
import { ledgerLayer } from "../Ledger.ts"
import { both, finish, live, traced } from "../Output.ts"
import { BadInput } from "../State.ts"

/**
 * Starts the demo system and the embedded proxy, runs the primary-loss experiment, prints it.
 *
 * @since 0.1.0
 */
export const demo = (args: { readonly json: boolean; readonly out: string; readonly lagMs: number }) =>
  Effect.gen(function*() {
    if (args.lagMs < 0) return yield* new BadInput({ message: `--lag-ms must be >= 0, got ${args.lagMs}` })
    if (!args.json) process.stderr.write("starting examples/kv-failover: standby, primary, router on 127.0.0.1\n")
    const system = yield* Demo.startSystem({ lagMs: args.lagMs }).pipe(
      Effect.mapError((e) => new BadInput({ message: `could not start the demo system: ${e.message}` }))
    )
    // The embedded fault proxy, between the clients and the router, for the life of the demo.
    const { url } = yield* EmbeddedProxy.start("127.0.0.1:0").pipe(
      Effect.mapError((e) => new BadInput({ message: `could not start the embedded proxy: ${e.message}` }))
    )
    return yield* Effect.gen(function*() {
      const clientUrl = yield* Demo.routeThroughProxy(system.routerUrl).pipe(
        Effect.mapError((e) => new BadInput({ message: `could not route through the embedded proxy: ${e.message}` }))
      )
      if (!args.json) process.stderr.write(`clients reach the router through the embedded fault proxy at ${clientUrl}\n`)
      const o = yield* traced((onEntry) =>
        Runner.run(Demo.primaryLoss(clientUrl, { lagMs: args.lagMs }), { out: args.out, onEntry: both(live(args.json), onEntry) }).pipe(
          Effect.provide(ledgerLayer(args.out))
        )
      )
      return yield* finish(o, args.json)
    }).pipe(Effect.provide(ToxiproxyDriver.layerConfig({ url })))
  }).pipe(Effect.scoped, Effect.provide(ProcessDriver.layer))
