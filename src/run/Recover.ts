/**
 * Recovery of faults left open by runs that are no longer live: used by the watchdog when
 * its runner dies, and by `faultline recover`.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type { LeftoverOptions, Leftovers } from "../core/Integration.ts"
import type * as Journal from "../core/Journal.ts"
import type { SetUpProcess } from "../core/Ledger.ts"
import * as Os from "../core/Os.ts"
import * as FileJournal from "./FileJournal.ts"
import { appendLine, isLive, openFaults, readRun, readRuns, releaseLeases, type RunState } from "./FileLedger.ts"
import { byName, integrations, reverterFor } from "../integrations.ts"
import * as LedgerTrust from "./LedgerTrust.ts"

/** One line of the recover table. @since 0.1.0 */
export interface Row {
  readonly run: string
  readonly faultId: string
  readonly fault: string
  readonly target: string
  readonly result: "reverted" | "stopped" | "removed" | "failed" | "skipped (run is live)"
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
    // What else the run left: its set-up's processes, and what only a target system can show
    // (Docker's helper containers and marker volumes). A failure here is a failed cleanup.
    const extra = [...(yield* stopSetUp(run, by)), ...(yield* sweepRun(run, by))]
    rows.push(...extra)
    if (extra.some((r) => r.result === "failed")) failed = true
    if (!run.closed) {
      // Folded line by line: the journal of a long run does not fit in memory.
      const ended = journal ? (yield* Effect.exit(FileJournal.fold(journal, endedFold()))) : null
      const hasEnd = ended?._tag === "Success" && ended.value
      if (!hasEnd) {
        yield* note({
          _tag: "RunEnded",
          status: "interrupted",
          cleanup: failed ? "failed" : "ok",
          reason: `the runner (pid ${run.pid}) died; ${by} reverted ${rows.filter((r) => r.result === "reverted").length} of ${open.length} open faults` +
            (extra.length > 0 ? `; ${extra.filter((r) => r.result !== "failed").length} of ${extra.length} set-up processes and leftovers cleaned` : "")
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
          rows.push({
            run: run.runId,
            faultId: r.faultId,
            fault: r.fault,
            target: `${r.target.kind} ${r.target.name} (${r.target.id})`,
            result: "skipped (run is live)",
            detail: `runner pid ${run.pid}`
          })
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

const STOP_GRACE_MS = 2000

// Signals a process's group (the driver starts each process as a group leader), else the
// process alone; a stopped process is continued so that it can act on SIGTERM.
const signalTree = (pid: number, sig: NodeJS.Signals) => Os.signal(pid, sig, true) || Os.signal(pid, sig, false)

// The processes of one set-up record that still run: the recorded pid when its start time
// matches (a recycled pid is someone else's), and every copy carrying its label.
const setUpPids = (p: SetUpProcess): ReadonlyArray<number> => {
  const pids = new Set<number>()
  if (Os.signallable(p.pid) && Os.pidAlive(p.pid) && (p.startTime === null || Os.startTime(p.pid) === p.startTime)) pids.add(p.pid)
  if (p.label !== null && p.label !== "") { for (const pid of Os.labelled(p.label)) pids.add(pid) }
  return [...pids]
}

/**
 * Stops the processes a dead run's set-up started (recorded in the ledger with pid and start
 * time) and the copies restarts made of them: SIGTERM, then SIGKILL after a grace period.
 * One row per process found; none when nothing of the set-up runs.
 *
 * @since 0.1.0
 */
export const stopSetUp = (run: RunState, by: string) =>
  Effect.gen(function*() {
    const rows: Array<Row> = []
    const targets = run.setUp.flatMap((p) => setUpPids(p).map((pid) => ({ p, pid })))
    if (targets.length === 0) return rows
    for (const t of targets) {
      signalTree(t.pid, "SIGCONT")
      signalTree(t.pid, "SIGTERM")
    }
    const alive = () => targets.filter((t) => Os.pidAlive(t.pid))
    for (let waited = 0; waited < STOP_GRACE_MS && alive().length > 0; waited += 10) yield* Effect.sleep("10 millis")
    for (const t of alive()) signalTree(t.pid, "SIGKILL")
    for (let waited = 0; waited < 1000 && alive().length > 0; waited += 10) yield* Effect.sleep("10 millis")
    for (const t of targets) {
      const gone = !Os.pidAlive(t.pid)
      rows.push({
        run: run.runId,
        faultId: "-",
        fault: "set-up process",
        target: `process ${t.p.name} (${t.pid})`,
        result: gone ? "stopped" : "failed",
        detail: gone ? `by ${by}` : "still running after SIGKILL"
      })
    }
    return rows
  })

/**
 * Runs the leftover scan of every integration a dead run's faults name (Docker: helper
 * containers and marker volumes of that run), so the watchdog leaves nothing the run made.
 * An integration whose system cannot be asked is a failed row: the run used it.
 *
 * @since 0.1.0
 */
export const sweepRun = (run: RunState, by: string) =>
  Effect.gen(function*() {
    const rows: Array<Row> = []
    for (const name of new Set(run.faults.map((f) => f.driver))) {
      const scan = byName(name)?.leftovers
      if (scan === undefined) continue
      const exit = yield* Effect.exit(scan({ runId: run.runId, force: true }))
      rows.push(...leftoverRows(run.runId, name, exit, by))
    }
    return rows
  })

const leftoverRows = (run: string, integration: string, exit: Exit.Exit<Leftovers, { readonly message: string }>, by: string): Array<Row> => {
  const row = (result: Row["result"], target: string, detail: string): Row => ({ run, faultId: "-", fault: `${integration} leftover`, target, result, detail })
  if (exit._tag === "Failure") return [row("failed", integration, text(exit.cause))]
  const l = exit.value
  return [
    ...l.reverted.map((x) => row("reverted", x, `marker, by ${by}`)),
    ...l.removed.map((x) => row("removed", x, `by ${by}`)),
    ...l.failed.map((x) => row("failed", x, "")),
    // A marker left alone because its runner lives is not cleaned: say so.
    ...l.skipped.map((x) => row("failed", x, "skipped"))
  ]
}

/** What one integration's leftover scan found, or why it was skipped. @since 0.1.0 */
export interface Scan {
  readonly integration: string
  readonly result: Leftovers | null
  /** Why the scan did not run (its system does not answer), when it did not. */
  readonly skipped: string | null
  /** The scan was needed (the ledger names the integration's faults) and could not run. */
  readonly failed: boolean
}

/**
 * Every integration's leftover scan (`faultline recover`): an integration whose system does
 * not answer is skipped, not an error, unless `needed` names it (the ledger holds its faults).
 *
 * @since 0.1.0
 */
export const scanLeftovers = (options: LeftoverOptions & { readonly needed: ReadonlySet<string>; readonly only?: ReadonlySet<string> | undefined }) =>
  Effect.forEach(
    integrations.filter((i) => i.leftovers !== undefined && (options.only === undefined || options.only.has(i.name))),
    (i) =>
      i.leftovers!(options).pipe(
        Effect.map((result): Scan => ({ integration: i.name, result, skipped: null, failed: result.failed.length > 0 })),
        Effect.catch((e) => Effect.succeed<Scan>({ integration: i.name, result: null, skipped: e.message, failed: options.needed.has(i.name) }))
      )
  )

/**
 * The integrations whose faults the ledger's unfinished runs name (a run that closed left
 * nothing its integrations would have to find).
 *
 * @since 0.1.0
 */
export const namedIntegrations = (dir: string): ReadonlySet<string> =>
  new Set(readRuns(dir).filter((r) => !r.closed).flatMap((r) => r.faults.map((f) => f.driver)))
