/**
 * Probes of proxy state, through the Toxiproxy driver.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Probe from "../../core/Probe.ts"
import { ToxiproxyDriver } from "./ToxiproxyDriver.ts"

/**
 * Good while the proxy exists and is enabled; its value is the proxy's state (listen,
 * upstream, enabled, toxic names).
 *
 * @since 0.1.0
 */
export const proxyEnabled = (name: string): Probe.Probe<ToxiproxyDriver> =>
  Probe.make(
    `toxiproxy ${name} enabled`,
    Effect.gen(function*() {
      const p = yield* (yield* ToxiproxyDriver).proxy(name)
      const value = { listen: p.listen, upstream: p.upstream, enabled: p.enabled, toxics: p.toxics.map((t) => t.name) }
      if (!p.enabled) return yield* Effect.fail(new Error(`proxy ${name} is disabled`))
      return value
    }),
    { spec: { kind: "toxiproxy.enabled", params: { proxy: name } }, timeout: "2 seconds" }
  )

/**
 * Good while the proxy exists, is enabled and has no toxics (steady state for a proxy a
 * run disturbs).
 *
 * @since 0.1.0
 */
export const proxyClean = (name: string): Probe.Probe<ToxiproxyDriver> =>
  Probe.make(
    `toxiproxy ${name} clean`,
    Effect.gen(function*() {
      const p = yield* (yield* ToxiproxyDriver).proxy(name)
      if (!p.enabled) return yield* Effect.fail(new Error(`proxy ${name} is disabled`))
      if (p.toxics.length > 0) return yield* Effect.fail(new Error(`proxy ${name} has toxics: ${p.toxics.map((t) => t.name).join(", ")}`))
      return { listen: p.listen, upstream: p.upstream }
    }),
    { spec: { kind: "toxiproxy.clean", params: { proxy: name } }, timeout: "2 seconds" }
  )
