/**
 * What the watchdog process of one run does once loaded (its entry, `watchdog.ts`, says
 * `ready` before loading this). A composition root: it reverts through the integration list
 * (via `Recover`), never through a module named in a ledger record.
 * It waits for the runner to go (EOF on its stdin pipe, seen by the entry, or the pid gone,
 * polled), then, if the run did not close normally, reverts the run's open faults from the
 * ledger.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { pidAlive, readRun } from "./FileLedger.ts"
import { reverterFor } from "../integrations.ts"
import { recoverRun, stopSetUp } from "./Recover.ts"

/** What the entry hands over: the run, and the runner's pipe closing. @since 0.1.0 */
export interface Watch {
  readonly dir: string
  readonly runId: string
  readonly runnerPid: number
  readonly piped: Promise<string>
}

const main = ({ dir, piped, runId, runnerPid }: Watch) =>
  Effect.gen(function*() {
    const gone = yield* Deferred.make<string>()
    void piped.then((reason) => Deferred.doneUnsafe(gone, Effect.succeed(reason)))
    // The pipe is the fast path; the pid check catches a runner whose pipe was inherited.
    // Meanwhile the reverters of the drivers the run uses are loaded, so a revert after the
    // runner died does not wait for a module (or an SDK) to load.
    const warmed = new Set<string>()
    const warm = Effect.suspend(() => {
      const drivers = (readRun(dir, runId)?.faults ?? []).map((f) => f.driver).filter((d) => !warmed.has(d))
      for (const d of drivers) warmed.add(d)
      return Effect.forEach(new Set(drivers), (d) => Effect.ignore(reverterFor(d)), { discard: true })
    })
    const poll = Effect.repeat(
      Effect.suspend(() => pidAlive(runnerPid) ? warm : Deferred.succeed(gone, "pid gone")),
      Schedule.spaced("50 millis")
    )
    yield* Effect.raceFirst(Deferred.await(gone), Effect.andThen(poll, Effect.never))
    // A runner that closed its run normally also closes the pipe. Otherwise never act while
    // the runner lives: wait for the run to close or the pid to go.
    while (true) {
      const run = readRun(dir, runId)
      if (run?.closed) break
      if (!pidAlive(runnerPid)) break
      yield* Effect.sleep("25 millis")
    }
    const run = readRun(dir, runId)
    if (run === null) return
    if (run.closed) {
      if (run.setUp.length === 0) return
      // The run closed, but a runner killed before its process driver stopped the set-up's
      // processes leaves them running: stop what is left of them (nothing, normally).
      while (pidAlive(runnerPid)) yield* Effect.sleep("25 millis")
      yield* stopSetUp(run, "watchdog")
      return
    }
    yield* recoverRun(dir, run, "watchdog")
  })

/**
 * Watches one run until its runner is gone, then reverts what it left open; exits the process.
 *
 * @since 0.1.0
 */
export const watch = (w: Watch): void => {
  Effect.runPromise(main(w)).then(
    () => process.exit(0),
    () => process.exit(1)
  )
}
