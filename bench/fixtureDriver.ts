/**
 * A bench-local driver and fault for the kv-failover outage fixture:
 * `fixture.outage { target, ms }` POSTs /outage?ms=D to the fixture, whose /health then
 * answers 503 for exactly D ms. Reverting is a no-op: the outage ends by itself.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { Driver, Probe, Selector, Target } from "../src/index.ts"

export class FixtureDriver extends Context.Service<FixtureDriver, Driver.Driver<FixtureOutage>>()("bench/FixtureDriver") {
  static readonly layer = (fixture: { readonly url: string; readonly pid: number }): Layer.Layer<FixtureDriver> => Layer.succeed(FixtureDriver, make(fixture))
}

const make = (fixture: { readonly url: string; readonly pid: number }) => {
  const target = Target.make({ kind: "fixture", id: String(fixture.pid), name: "outage-fixture", labels: { app: "outage-fixture" } })
  const fail = (operation: string, what: string, detail: string) =>
    new Driver.DriverError({ driver: "fixture", operation, target: `${target.name} (pid ${target.id})`, reason: "Unavailable", detail: `${what}: ${detail}` })
  return FixtureDriver.of({
    name: "fixture",
    discover: () => Effect.succeed([target]),
    inject: (fault) =>
      Probe.request(`${fixture.url}/outage?ms=${fault.ms}`, { method: "POST", timeout: "2 seconds" }).pipe(
        Effect.mapError((e) => fail("inject", "RequestFailed", e.message)),
        Effect.flatMap((res) =>
          res.status === 200
            ? Effect.succeed({ ms: fault.ms, url: fixture.url })
            : Effect.fail(fail("inject", `HTTP ${res.status}`, res.body))
        )
      ),
    // The fixture ends the outage by itself after `ms`: nothing to undo.
    revert: () => Effect.void
  })
}

const driver = FixtureDriver as unknown as Context.Key<FixtureDriver, Driver.Driver>

/** `fixture.outage`: the fixture's /health answers 503 for `ms` milliseconds. */
export class FixtureOutage extends Schema.TaggedClass<FixtureOutage>()("fixture.outage", {
  target: Selector.Selector,
  ms: Schema.Number
}) {
  get driver() {
    return driver
  }
}

export const outage = (options: { readonly target?: Selector.Selector; readonly ms: number }): FixtureOutage =>
  new FixtureOutage({ target: options.target ?? Selector.all, ms: options.ms })
