/**
 * The context of one run, provided by `Experiment.run` to its method: the journal, the
 * ledger, the guards, whether this is a dry run, and the state of cleanup.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as MutableRef from "effect/MutableRef"
import * as Guard from "./Guard.ts"
import * as Journal from "./Journal.ts"
import * as Ledger from "./Ledger.ts"
import * as Windows from "./Windows.ts"

/** @since 0.1.0 */
export class Run extends Context.Service<Run, {
  readonly runId: string
  readonly journal: Context.Service.Shape<typeof Journal.Journal>
  /** What the run keeps in memory of its journal: sampler windows, live RTO, heartbeats. */
  readonly windows: Windows.Windows
  readonly ledger: Context.Service.Shape<typeof Ledger.Ledger>
  readonly guards: ReadonlyArray<Guard.Guard>
  readonly dryRun: boolean
  /** The experiment's guards replace the faults' default guards (see `Fault.guardsFor`). */
  readonly replaceDefaultGuards?: boolean | undefined
  /** The experiment allows irreversible faults (e.g. `docker.remove`). */
  readonly irreversible?: boolean | undefined
  /** Set when any revert failed: the run's `cleanup` becomes `failed`. */
  readonly cleanupFailed: { value: boolean }
  readonly nextFaultId: () => string
}>()("faultline/Run") {}

/**
 * A run context for tests and for calling `Fault.inject` outside an experiment: an
 * in-memory journal and ledger, and windows fed by the journal.
 *
 * @since 0.1.0
 */
export const layerTest = (options?: {
  readonly guards?: ReadonlyArray<Guard.Guard>
  readonly dryRun?: boolean
  readonly irreversible?: boolean
  readonly replaceDefaultGuards?: boolean
}) =>
  Layer.effect(
    Run,
    Effect.gen(function*() {
      const windows = Windows.make([])
      const journal = yield* Journal.make({ runId: "test-run", onEntry: windows.observe })
      const ledger = yield* Ledger.makeMemory
      const n = MutableRef.make(0)
      return Run.of({
        runId: "test-run",
        journal,
        windows,
        ledger,
        guards: options?.guards ?? [],
        dryRun: options?.dryRun ?? false,
        irreversible: options?.irreversible ?? false,
        replaceDefaultGuards: options?.replaceDefaultGuards ?? false,
        cleanupFailed: { value: false },
        nextFaultId: () => `f${MutableRef.incrementAndGet(n)}`
      })
    })
  )

/**
 * The fault being prepared or injected, while its driver runs: a driver derives the names of
 * what it creates (a marker, a rule's tag) from the fault id, so the revert data written
 * with the intent, before anything is touched, already names them. Null outside a fault.
 *
 * @since 0.1.0
 */
export const CurrentFault = Context.Reference<{ readonly faultId: string } | null>("faultline/CurrentFault", {
  defaultValue: () => null
})
