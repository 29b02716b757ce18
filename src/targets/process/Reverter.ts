/**
 * The process target's out-of-process reverter: resumes a paused process, or restarts a
 * killed one from the spec its run recorded, from a ledger record alone — with the same
 * handlers as the driver, in a context that knows only the record.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import * as Effect from "effect/Effect"
import { DriverError } from "../../core/Driver.ts"
import type { LedgerRecord } from "../../core/Ledger.ts"
import { type ProcessContext, processFaults, type ProcessRevertData } from "./Handlers.ts"
import { LABEL_ENV, labelled, pidAlive, signallable } from "../../core/Os.ts"
import { ProcessError, toDriverError } from "./ProcessError.ts"
import type { ProcessSpec } from "./ProcessDriver.ts"
import * as Redact from "../../core/Redact.ts"

const notHere = (operation: string) => (name: string) =>
  Effect.fail(new ProcessError({ reason: "Unsupported", target: name, operation, detail: "out of process, only reverts run" }))

// A record holds environment names only and masked credentials: the restart takes values
// from this (the reverting user's) environment, and refuses a command whose credentials were
// masked rather than run it wrong.
const restartEnvironment = (spec: ProcessSpec): NodeJS.ProcessEnv => {
  if (Redact.holdsMask(spec.command) || Redact.holdsMask([...spec.args])) {
    throw new Error(`${spec.name}: its command line held a credential, which no file keeps; restart it yourself`)
  }
  const r = Redact.environmentFor(spec.env, process.env)
  if ("missing" in r) throw new Error(`${spec.name}: its environment needs ${r.missing.join(", ")}, not set here`)
  return { ...process.env, ...r.env }
}

// Whether the process a record names runs: by its label, any copy the run started (the
// original when the kill never landed, or the copy the runner's own revert started before
// it died); without a label (an older record), the original pid.
const runsAgain = (data: ProcessRevertData): boolean =>
  typeof data.label === "string" && data.label !== "" ? labelled(data.label).length > 0 : pidAlive(data.pid)

// This process manages nothing: it starts detached children (the runner that owned the
// process group is gone) and asks the OS whether a pid lives.
const outOfProcess: ProcessContext = {
  targets: Effect.succeed([]),
  managed: notHere("get"),
  signal: (p) => notHere("signal")(p.name),
  stop: notHere("stop"),
  start: (spec, label) =>
    Effect.try({
      try: () => {
        const env = restartEnvironment(spec)
        const child = spawn(spec.command, [...spec.args], {
          cwd: spec.cwd,
          env: { ...env, ...(label ? { [LABEL_ENV]: label } : {}) },
          detached: true,
          stdio: "ignore"
        })
        child.unref()
        return { pid: child.pid ?? 0 }
      },
      catch: (e) => new ProcessError({ reason: "SpawnFailed", target: spec.name, operation: "revert", detail: (e as Error).message })
    }),
  running: runsAgain
}

/**
 * Reverts one process ledger record in this process. Idempotent.
 *
 * @since 0.1.0
 */
export const revertRecord = (record: LedgerRecord): Effect.Effect<void, DriverError> =>
  Effect.suspend(() => {
    const data = record.revert.data as unknown as ProcessRevertData
    const target = `${data.name} (pid ${data.pid})`
    // Never signal pid 0, 1 or a negative number taken from a damaged record: kill(0) and
    // kill(-1) reach whole process groups.
    if (!signallable(data.pid)) {
      return Effect.fail(
        new DriverError({ driver: "process", operation: "revert", target, reason: "InvalidRecord", detail: `pid ${data.pid} is not a process` })
      )
    }
    return processFaults.revert(outOfProcess, record.fault, record.revert.data, record.target).pipe(
      Effect.mapError((e) => toDriverError(e, { operation: "revert", target }))
    )
  })
