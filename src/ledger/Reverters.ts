/**
 * Out-of-process reverts: how the watchdog and `faultline recover` undo a fault from its
 * ledger record alone, without the runner's in-memory drivers. One entry per driver.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { Duration, Effect } from "effect"
import { DriverError } from "../core/Driver.ts"
import type { LedgerRecord } from "../core/Ledger.ts"
import * as Toxiproxy from "../targets/toxiproxy/ToxiproxyDriver.ts"
import { pidAlive } from "./FileLedger.ts"

const stopped = (pid: number): boolean => {
  try {
    return /\) [Tt] /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

const processRevert = (record: LedgerRecord): Effect.Effect<void, DriverError> =>
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
        try {
          process.kill(data.group ? -data.pid : data.pid, "SIGCONT")
        } catch {
          return // ESRCH: gone, nothing to resume
        }
        for (let waited = 0; stopped(data.pid); waited += 5) {
          if (waited > 1000) return yield* fail("SignalFailed", "still stopped 1 s after SIGCONT")
          yield* Effect.sleep(Duration.millis(5))
        }
        return
      }
      case "process.kill":
      case "process.restart": {
        // Alive: the kill never landed (or a restart already happened). Nothing to do.
        if (pidAlive(data.pid)) return
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

// Toxiproxy (real or embedded, when it runs as its own process): the ledger's connection
// names the API, and the driver's own revert is idempotent (a missing toxic is a no-op).
const toxiproxyRevert = (record: LedgerRecord): Effect.Effect<void, DriverError> => {
  const url = record.connection.url
  if (typeof url !== "string") {
    return Effect.fail(new DriverError({ driver: "toxiproxy", operation: "revert", target: record.target.name, reason: "InvalidRecord", detail: "the ledger record names no Toxiproxy URL" }))
  }
  return Effect.suspend(() => Toxiproxy.make(url).revert(record.revert))
}

const reverters: Record<string, (record: LedgerRecord) => Effect.Effect<void, DriverError>> = {
  process: processRevert,
  toxiproxy: toxiproxyRevert
}

/**
 * Reverts one ledger record out of process. Idempotent, like every driver's revert.
 *
 * @since 0.1.0
 */
export const revert = (record: LedgerRecord): Effect.Effect<void, DriverError> =>
  Effect.gen(function*() {
    // An integration outside the core names, in its connection, the module that registers
    // its reverter (e.g. faultline/aws): the watchdog loads it on demand.
    const module = (record.connection as { reverter?: unknown }).reverter
    if (reverters[record.driver] === undefined && typeof module === "string") {
      yield* Effect.tryPromise(() => import(module)).pipe(Effect.ignore)
    }
    const r = reverters[record.driver]
    return r
      ? yield* r(record)
      : yield* new DriverError({ driver: record.driver, operation: "revert", target: record.target.name, reason: "Unsupported", detail: `no out-of-process reverter for driver ${record.driver}` })
  })

/**
 * Registers the out-of-process reverter of a driver (integrations call this).
 *
 * @since 0.1.0
 */
export const register = (driver: string, f: (record: LedgerRecord) => Effect.Effect<void, DriverError>): void => {
  reverters[driver] = f
}
