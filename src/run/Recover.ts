/**
 * Recovery of faults left open by runs that are no longer live: used by the watchdog when
 * its runner dies, and by `faultline recover`.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Schedule } from "effect"
import type * as Journal from "../core/Journal.ts"
import * as FileJournal from "./FileJournal.ts"
import { appendLine, isLive, openFaults, readRun, readRuns, releaseLeases, type RunState } from "./FileLedger.ts"
import { reverterFor } from "../integrations.ts"
import * as LedgerTrust from "./LedgerTrust.ts"

/** One line of the recover table. @since 0.1.0 */
export interface Row {
  readonly run: string
  readonly faultId: string
  readonly fault: string
  readonly target: string
  readonly result: "reverted" | "failed" | "skipped (run is live)"
  readonly detail: string
}

const text = (e: unknown) => (e instanceof Error ? e.message : String(e))

/**
 * Reverts every open fault of one run, newest first, closing each in the ledger and
 * journaling what was done; then closes the run and releases its leases.
 *
 * @since 0.1.0
 */
export const recoverRun = (dir: string, run: RunState, by: string) =>
  Effect.gen(function*() {
    const rows: Array<Row> = []
    const open = [...openFaults(run)].reverse()
    // Only the run's own, verified journal (a ledger is data: its path is not trusted).
    const journal = LedgerTrust.journalOf(dir, run.runId, run.journal).file
    const note = (event: Journal.Event) => journal ? Effect.ignore(FileJournal.appendTo(journal, event)) : Effect.void
    if (open.length > 0) {
      yield* note({ _tag: "Note", message: `${by}: run ${run.runId} (runner pid ${run.pid}) is gone; reverting ${open.length} open faults` })
    }
    let failed = false
    for (const record of open) {
      let attempts = 0
      const exit = yield* Effect.exit(
        Effect.suspend(() => {
          attempts++
          // Looked up by the record's driver name in the built-in list: a ledger is data.
          // Only records this user's runs sealed are handed to a reverter.
          return Effect.flatMap(LedgerTrust.admit(record), (r) => Effect.flatMap(reverterFor(r.driver), (revert) => revert(r)))
        }).pipe(Effect.retry({ schedule: Schedule.exponential("20 millis"), times: 2 }))
      )
      const target = `${record.target.kind} ${record.target.name} (${record.target.id})`
      if (exit._tag === "Success") {
        appendLine(dir, run.runId, { type: "closed", faultId: record.faultId, by })
        yield* note({ _tag: "FaultReverted", faultId: record.faultId, attempts })
        rows.push({ run: run.runId, faultId: record.faultId, fault: record.fault, target, result: "reverted", detail: `${record.state}, by ${by}` })
      } else {
        failed = true
        const detail = text(exit.cause)
        yield* note({ _tag: "FaultRevertFailed", faultId: record.faultId, attempts, error: detail })
        rows.push({ run: run.runId, faultId: record.faultId, fault: record.fault, target, result: "failed", detail })
      }
    }
    if (!run.closed) {
      // Folded line by line: the journal of a long run does not fit in memory.
      const ended = journal ? (yield* Effect.exit(FileJournal.fold(journal, endedFold()))) : null
      const hasEnd = ended?._tag === "Success" && ended.value
      if (!hasEnd) {
        yield* note({
          _tag: "RunEnded",
          status: "interrupted",
          cleanup: failed ? "failed" : "ok",
          reason: `the runner (pid ${run.pid}) died; ${by} reverted ${rows.filter((r) => r.result === "reverted").length} of ${open.length} open faults`
        })
      }
      if (!failed) appendLine(dir, run.runId, { type: "run-closed", by })
    }
    if (!failed) releaseLeases(dir, run.runId)
    return rows
  }).pipe(Effect.provide(NodeFileSystem.layer))

const endedFold = (): Journal.Fold<boolean> => {
  let ended = false
  return {
    step: (e) => {
      ended ||= e.event._tag === "RunEnded"
    },
    result: () => ended
  }
}

/**
 * Reverts everything left open by runs that are not live. Live runs are listed, not touched.
 * `remaining` counts faults still open among runs that are not live.
 *
 * @since 0.1.0
 */
export const recover = (dir: string) =>
  Effect.gen(function*() {
    const rows: Array<Row> = []
    for (const run of readRuns(dir)) {
      const open = openFaults(run)
      if (isLive(run)) {
        for (const r of open) {
          rows.push({ run: run.runId, faultId: r.faultId, fault: r.fault, target: `${r.target.kind} ${r.target.name} (${r.target.id})`, result: "skipped (run is live)", detail: `runner pid ${run.pid}` })
        }
        continue
      }
      if (open.length === 0 && run.closed) continue
      rows.push(...(yield* recoverRun(dir, run, "recover")))
    }
    const remaining = readRuns(dir).filter((r) => !isLive(r)).flatMap(openFaults).length
    return { rows, remaining }
  })

/** Re-reads one run (for the watchdog). @since 0.1.0 */
export { readRun }
