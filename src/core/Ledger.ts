/**
 * The Ledger: the write-ahead record of faults that were (or may have been) injected and
 * not yet reverted. Before a driver touches a target the run takes a lease on it and an
 * intent record is written, already holding revert data that is safe whether or not the
 * injection lands; after injection the record gains the driver's final revert data; after
 * revert it is closed. A process that outlives the runner (the watchdog) or a later
 * `faultline recover` reverts what is left open.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { Revert } from "./Journal.ts"
import * as Target from "./Target.ts"

/** @since 0.1.0 */
export interface LedgerRecord {
  readonly runId: string
  readonly faultId: string
  readonly driver: string
  /** The driver's connection settings (never secrets), so another process can reach it. */
  readonly connection: Record<string, unknown>
  readonly fault: string
  readonly target: Target.Target
  readonly state: "intent" | "injected" | "closed"
  /** At intent: revert data that is safe whether or not the injection landed. */
  readonly revert: Revert
}

/**
 * A process the run's set-up started (an experiment file's `processes:`): the watchdog of a
 * runner that died stops exactly it — the pid with this start time — and the copies a
 * restart made, found by its label.
 *
 * @since 0.1.0
 */
export interface SetUpProcess {
  readonly name: string
  readonly pid: number
  /** Clock ticks since boot (/proc/PID/stat field 22), or null where unknown. */
  readonly startTime: number | null
  /** The run label in its environment (`FAULTLINE_PROCESS`), or null. */
  readonly label: string | null
}

/**
 * Another live run holds the target.
 *
 * @since 0.1.0
 */
export class LeaseHeld extends Schema.TaggedError<LeaseHeld>()("LeaseHeld", {
  target: Schema.String,
  holder: Schema.String,
  pid: Schema.Int
}) {
  override get message() {
    return `${this.target} is held by run ${this.holder} (pid ${this.pid}); two runs may not inject into the same target at once`
  }
}

/**
 * A dead run left faults open on the target: recover first.
 *
 * @since 0.1.0
 */
export class OrphanedFaults extends Schema.TaggedError<OrphanedFaults>()("OrphanedFaults", {
  target: Schema.String,
  run: Schema.String,
  faults: Schema.Array(Schema.String)
}) {
  override get message() {
    return `${this.target} has open faults left by run ${this.run} (${this.faults.join(", ")}); run \`faultline recover\` first`
  }
}

/**
 * The ledger could not be written or read.
 *
 * @since 0.1.0
 */
export class LedgerError extends Schema.TaggedError<LedgerError>()("LedgerError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `ledger ${this.operation}: ${this.detail}`
  }
}

/**
 * Where runs record leases, intents, injections and closings.
 *
 * @since 0.1.0
 */
export class Ledger extends Context.Service<Ledger, {
  /** Called once when a run starts (a file ledger starts the run's watchdog here). */
  readonly beginRun: (runId: string, journalFile: string | null) => Effect.Effect<void, LedgerError>
  /** Called once when a run ends, after every revert: releases its leases. */
  readonly endRun: (runId: string) => Effect.Effect<void>
  /**
   * Takes the lease on a target for a run (re-entrant for the same run). It lasts while the
   * run has faults open on the target, and at most until the run ends.
   */
  readonly acquire: (runId: string, target: Target.Target) => Effect.Effect<void, LeaseHeld | OrphanedFaults | LedgerError>
  readonly intent: (record: Omit<LedgerRecord, "state">) => Effect.Effect<void, LedgerError>
  readonly injected: (faultId: string, revert: Revert) => Effect.Effect<void>
  readonly closed: (faultId: string) => Effect.Effect<void>
  /**
   * Records a process the run's set-up started, before the run begins if need be (a file
   * ledger then starts the run's watchdog here). Absent: nothing outlives the runner.
   */
  readonly setUp?: ((runId: string, p: SetUpProcess) => Effect.Effect<void, LedgerError>) | undefined
  /** Every record not yet closed. */
  readonly open: Effect.Effect<ReadonlyArray<LedgerRecord>>
}>()("faultline/Ledger") {}

// Leases between in-memory ledgers of the same process (two runs in one test suite).
const memoryLeases = new Map<string, string>()

/**
 * An in-memory ledger: leases hold between runs of this process; nothing survives it.
 *
 * @since 0.1.0
 */
export const makeMemory = Effect.sync(() => {
  const records = new Map<string, LedgerRecord>()
  const mine = new Set<string>()
  return Ledger.of({
    beginRun: () => Effect.void,
    endRun: (runId) =>
      Effect.sync(() => {
        for (const key of mine) if (memoryLeases.get(key) === runId) memoryLeases.delete(key)
        mine.clear()
      }),
    acquire: (runId, target) =>
      Effect.suspend(() => {
        const key = Target.key(target)
        const holder = memoryLeases.get(key)
        if (holder !== undefined && holder !== runId) {
          return Effect.fail(new LeaseHeld({ target: key, holder, pid: process.pid }))
        }
        memoryLeases.set(key, runId)
        mine.add(key)
        return Effect.void
      }),
    intent: (r) => Effect.sync(() => void records.set(r.faultId, { ...r, state: "intent" })),
    injected: (faultId, revert) =>
      Effect.sync(() => {
        const r = records.get(faultId)
        if (r) records.set(faultId, { ...r, state: "injected", revert })
      }),
    closed: (faultId) =>
      Effect.sync(() => {
        const r = records.get(faultId)
        if (!r) return
        records.set(faultId, { ...r, state: "closed" })
        // The lease lasts while the run has faults open on the target.
        const key = Target.key(r.target)
        const stillOpen = [...records.values()].some((o) => o.state !== "closed" && o.runId === r.runId && Target.key(o.target) === key)
        if (!stillOpen && memoryLeases.get(key) === r.runId) {
          memoryLeases.delete(key)
          mine.delete(key)
        }
      }),
    open: Effect.sync(() => [...records.values()].filter((r) => r.state !== "closed"))
  })
})

/** @since 0.1.0 */
export const layerMemory: Layer.Layer<Ledger> = Layer.effect(Ledger, makeMemory)
