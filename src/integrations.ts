/**
 * The one list of integrations. Adding a target is a folder under `src/targets/` that
 * exports an `Integration`, and one line here. Listing an integration loads no SDK: its
 * driver layer and out-of-process reverter load on demand.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Fault } from "./core/Fault.ts"
import { type FaultClass, tagOf } from "./core/Fault.ts"
import { type Integration, IntegrationUnavailable, type Reverter } from "./core/Integration.ts"
import { integration as aws } from "./targets/aws/Integration.ts"
import { integration as docker } from "./targets/docker/Integration.ts"
import { integration as postgres } from "./targets/postgres/Integration.ts"
import { integration as process } from "./targets/process/Integration.ts"
import { integration as toxiproxy } from "./targets/toxiproxy/Integration.ts"

/**
 * The process integration's part of the experiment file format: the `processes:` section
 * (the system under test) and `${NAME.port}` in probe addresses.
 *
 * @since 0.1.0
 */
export * as FileProcesses from "./targets/process/FileSection.ts"

/**
 * The merged driver layers of integrations chosen at run time (from a file's faults): which
 * services it provides is data, so it is typed as providing any service.
 *
 * @since 0.1.0
 */
export type DriverLayer = Layer.Layer<unknown, unknown, never>

/** Every integration, in the order `faultline` lists them. @since 0.1.0 */
export const integrations: ReadonlyArray<Integration> = [
  process,
  docker,
  toxiproxy,
  aws,
  postgres
]

/** The integration of a driver name (`docker`), if any. @since 0.1.0 */
export const byName = (name: string): Integration | undefined => integrations.find((i) => i.name === name)

/** Every fault class with its tag and integration, in list order. @since 0.1.0 */
export const faultClasses: ReadonlyArray<{ readonly tag: string; readonly cls: FaultClass; readonly integration: Integration }> = integrations
  .flatMap((integration) => integration.faults.map((cls) => ({ tag: tagOf(cls), cls, integration })))

/** The integration whose fault has this tag. @since 0.1.0 */
export const ofFault = (fault: Pick<Fault, "_tag">): Integration | undefined => faultClasses.find((f) => f.tag === fault._tag)?.integration

/**
 * The driver layers of these integrations, merged (each loaded on demand).
 *
 * @since 0.1.0
 */
export const layerFor = (names: Iterable<string>): Effect.Effect<DriverLayer, IntegrationUnavailable> =>
  Effect.gen(function*() {
    let layer = Layer.empty as unknown as DriverLayer
    for (const name of new Set(names)) {
      const i = byName(name)
      if (i === undefined) return yield* new IntegrationUnavailable({ integration: name, detail: "no such integration" })
      layer = Layer.merge(layer, yield* i.layer)
    }
    return layer
  })

/**
 * Every integration's driver layer whose dependencies load here, merged; one that cannot be
 * built (its SDK is not installed, its engine does not answer) is left out. For experiment
 * modules, whose faults are not known before they run.
 *
 * @since 0.1.0
 */
export const layerAvailable: Layer.Layer<unknown, never, never> = Layer.unwrap(
  Effect.map(
    Effect.forEach(integrations, (i) => Effect.option(i.layer)),
    (layers) =>
      layers.reduce<Layer.Layer<unknown, never, never>>(
        (acc, o) => o._tag === "Some" ? Layer.merge(acc, o.value.pipe(Layer.catch(() => Layer.empty))) : acc,
        Layer.empty as unknown as Layer.Layer<unknown, never, never>
      )
  )
)

/**
 * The out-of-process reverter for a ledger record's driver, looked up by name in this list:
 * a ledger record is data, and no string in it is ever imported or run.
 *
 * @since 0.1.0
 */
export const reverterFor = (driver: string): Effect.Effect<Reverter, IntegrationUnavailable> => {
  const i = byName(driver)
  return i === undefined
    ? Effect.fail(
      new IntegrationUnavailable({
        integration: driver,
        detail: `no integration named ${JSON.stringify(driver)}; known: ${integrations.map((x) => x.name).join(", ")}`
      })
    )
    : i.reverter
}
