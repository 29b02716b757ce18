/**
 * The process target's out-of-process reverter: resumes a paused process, or restarts a
 * killed one from the spec its run recorded, from a ledger record alone.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import { Effect } from "effect"
import { DriverError } from "../../core/Driver.ts"
import type { LedgerRecord } from "../../core/Ledger.ts"
import { isAlive, isStopped } from "./ProcessDriver.ts"

/**
 * Reverts one process ledger record in this process. Idempotent.
 *
 * @since 0.1.0
 */
export const revertRecord = (record: LedgerRecord): Effect.Effect<void, DriverError> =>
  Effect.gen(function*() {
    const data = record.revert.data as {
      name: string
      pid: number
      group?: boolean
      spec?: { command: string; args: ReadonlyArray<string>; cwd?: string; env?: Record<string, string> } | null
    }
    const fail = (reason: string, detail: string) =>
      new DriverError({ driver: "process", operation: "revert", target: `${data.name} (pid ${data.pid})`, reason, detail })
    // Never signal pid 0, 1 or a negative number taken from a damaged record: kill(0) and
    // kill(-1) reach whole process groups.
    if (!Number.isInteger(data.pid) || data.pid <= 1) return yield* fail("InvalidRecord", `pid ${data.pid} is not a process`)
    switch (record.fault) {
      case "process.pause": {
        const sent = yield* Effect.sync(() => {
          try {
            process.kill(data.group ? -data.pid : data.pid, "SIGCONT")
            return true
          } catch {
            return false // ESRCH: gone, nothing to resume
          }
        })
        if (!sent) return
        for (let waited = 0; isStopped(data.pid) === true; waited += 5) {
          if (waited > 1000) return yield* fail("SignalFailed", "still stopped 1 s after SIGCONT")
          yield* Effect.sleep("5 millis")
        }
        return
      }
      case "process.kill":
      case "process.restart": {
        // Alive: the kill never landed (or a restart already happened). Nothing to do.
        if (isAlive(data.pid)) return
        if (!data.spec) return
        const spec = data.spec
        yield* Effect.try({
          try: () => {
            const child = spawn(spec.command, [...spec.args], {
              cwd: spec.cwd,
              env: { ...process.env, ...spec.env },
              detached: true,
              stdio: "ignore"
            })
            child.unref()
          },
          catch: (e) => fail("SpawnFailed", (e as Error).message)
        })
        return
      }
      default:
        return yield* fail("Unsupported", `no out-of-process revert for ${record.fault}`)
    }
  })
