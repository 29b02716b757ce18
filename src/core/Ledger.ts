/**
 * The Ledger: the write-ahead record of faults that were (or may have been) injected and
 * not yet reverted. A record is opened before a driver touches a target, gains revert data
 * once the fault lands, and is closed once it is reverted.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { Revert } from "./Journal.ts"
import type { Target } from "./Target.ts"

/** @since 0.1.0 */
export interface LedgerRecord {
  readonly runId: string
  readonly faultId: string
  readonly driver: string
  readonly fault: string
  readonly target: Target
  readonly state: "intent" | "injected" | "closed"
  readonly revert?: Revert | undefined
}

/**
 * Where a run records intents, injections and closings.
 *
 * @since 0.1.0
 */
export class Ledger extends Context.Service<Ledger, {
  readonly intent: (record: Omit<LedgerRecord, "state" | "revert">) => Effect.Effect<void>
  readonly injected: (faultId: string, revert: Revert) => Effect.Effect<void>
  readonly closed: (faultId: string) => Effect.Effect<void>
  readonly open: Effect.Effect<ReadonlyArray<LedgerRecord>>
}>()("faultline/Ledger") {}

/**
 * An in-memory ledger (the process-death-proof file ledger builds on the same shape).
 *
 * @since 0.1.0
 */
export const makeMemory = Effect.sync(() => {
  const records = new Map<string, LedgerRecord>()
  return Ledger.of({
    intent: (r) => Effect.sync(() => void records.set(r.faultId, { ...r, state: "intent" })),
    injected: (faultId, revert) =>
      Effect.sync(() => {
        const r = records.get(faultId)
        if (r) records.set(faultId, { ...r, state: "injected", revert })
      }),
    closed: (faultId) =>
      Effect.sync(() => {
        const r = records.get(faultId)
        if (r) records.set(faultId, { ...r, state: "closed" })
      }),
    open: Effect.sync(() => [...records.values()].filter((r) => r.state !== "closed"))
  })
})

/** @since 0.1.0 */
export const layerMemory: Layer.Layer<Ledger> = Layer.effect(Ledger, makeMemory)
