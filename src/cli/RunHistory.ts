/**
 * What `faultline run` adds around a run from the history and the catalog: the SLO source its
 * error-budget guards and burn-rate conditions read, the catalog service's tier and
 * objectives, and indexing the finished run. The run folder is written first: an index that
 * fails (locked, corrupt, unreachable) is reported (exit 2) and never loses the run.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Experiment from "../core/Experiment.ts"
import type * as SloSpec from "../core/SloSpec.ts"
import * as HistoryIndex from "../schedule/HistoryIndex.ts"
import * as Stores from "../schedule/Stores.ts"
import * as Catalog from "../slo/Catalog.ts"
import * as SloSources from "../slo/Sources.ts"
import * as HistoryConfig from "./HistoryConfig.ts"
import { BadInput, state } from "./State.ts"

/**
 * The SLO source of a run: Prometheus SLIs always, the monitor's and the history's when a
 * history is configured.
 *
 * @since 0.2.0
 */
export const sloLayer = (history: string | null): Layer.Layer<SloSpec.SloSource> =>
  SloSources.layer(history === null ? undefined : Stores.lazyEventStore(history))

/**
 * Indexes a finished run folder into the history; a failure is one line and exit 2.
 *
 * @since 0.2.0
 */
export const indexer = (history: string | null) => (dir: string): Effect.Effect<void> =>
  history === null ? Effect.void : Effect.acquireUseRelease(
    Stores.open(history),
    (store) => Effect.asVoid(HistoryIndex.indexRun(store, dir)),
    (store) => store.close
  ).pipe(Effect.catch((e) =>
    Effect.sync(() => {
      process.stderr.write(`faultline: ${e.message}; the run folder ${dir} is kept (\`faultline history --reindex\` indexes it later)\n`)
      state.indexFailed = true
    })
  ))

/**
 * The catalog file: `--services`, else `$FAULTLINE_SERVICES`, else `./services.yaml` when it
 * exists; null for none.
 *
 * @since 0.2.0
 */
export const catalogFile = (flag: string | null | undefined): string | null =>
  flag ?? (process.env.FAULTLINE_SERVICES || (fs.existsSync("services.yaml") ? "services.yaml" : null))

/**
 * The experiment as its catalog service makes it: tier recorded, objectives inherited; a
 * Tier 0 service without approval, or a service the catalog lacks, is refused before
 * anything starts.
 *
 * @since 0.2.0
 */
export const withCatalog = <R>(exp: Experiment.Experiment<R>, file: string | null, allowTier0: boolean) =>
  Effect.gen(function*() {
    if (exp.service === undefined || file === null) return exp
    const catalog = yield* Catalog.load(file).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
    const service = Catalog.find(catalog, exp.service.name)
    if (service === undefined) {
      return yield* new BadInput({ message: `${file}: no service named ${JSON.stringify(exp.service.name)} (named by experiment ${exp.name})` })
    }
    const refusal = Catalog.tier0Refusal(service, allowTier0)
    if (refusal !== null) return yield* new BadInput({ message: refusal })
    return Catalog.apply(exp, catalog, service)
  })

export { HistoryConfig }
