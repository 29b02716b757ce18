/**
 * One handler per process fault. The table runs in two contexts: the process driver's
 * (processes it started or adopted) and the out-of-process reverter's (only what the ledger
 * record says), so a fault is reverted by the same code wherever the revert runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Handler from "../../core/Handler.ts"
import type * as Target from "../../core/Target.ts"
import * as Wait from "../../core/Wait.ts"
import type { ProcessFault } from "./Faults.ts"
import * as Os from "../../core/Os.ts"
import type { ProcessSpec } from "./ProcessDriver.ts"
import { ProcessError } from "./ProcessError.ts"

/**
 * A process as the handlers see it.
 *
 * @since 0.1.0
 */
export interface Managed {
  readonly name: string
  readonly pid: number
  readonly spec: ProcessSpec | null
  /** Whether signals go to its whole process group (the driver started it). */
  readonly ownsGroup: boolean
  /** The run label in its environment (the driver started it), or null (adopted). */
  readonly label: string | null
}

/**
 * What the handlers need of their surroundings.
 *
 * @since 0.1.0
 */
export interface ProcessContext {
  /** The candidate targets. */
  readonly targets: Effect.Effect<ReadonlyArray<Target.Target>>
  readonly managed: (name: string) => Effect.Effect<Managed, ProcessError>
  readonly signal: (p: Managed, signal: NodeJS.Signals, operation: string) => Effect.Effect<void, ProcessError>
  readonly stop: (name: string) => Effect.Effect<void, ProcessError>
  /** Starts a process from its spec, with the run label it had (`FAULTLINE_PROCESS`). */
  readonly start: (spec: ProcessSpec, label: string | null) => Effect.Effect<{ readonly pid: number }, ProcessError>
  /** Whether the process a revert record names runs (again) already. */
  readonly running: (data: ProcessRevertData) => boolean
}

/** What a process fault records for its revert. @since 0.1.0 */
export interface ProcessRevertData {
  readonly name: string
  readonly pid: number
  readonly group?: boolean | undefined
  readonly spec?: ProcessSpec | null | undefined
  /** The run label of the process and of every copy a restart starts (`FAULTLINE_PROCESS`). */
  readonly label?: string | null | undefined
}

// Signals are delivered asynchronously: how long a stop or continue may take to show.
const SIGNAL_EFFECT = { every: "2 millis", timeout: "1 second" } as const
const TERMINATING: ReadonlySet<string> = new Set(["SIGKILL", "SIGTERM", "SIGINT"])

// Revert data known before the fault lands: resuming (SIGCONT) or restarting from the spec
// is safe whether or not the injection happened.
const prepare = (ctx: ProcessContext, fault: ProcessFault, target: Target.Target) =>
  Effect.map(ctx.managed(target.name), (p) => ({
    name: p.name,
    pid: p.pid,
    group: p.ownsGroup,
    spec: p.spec,
    label: p.label,
    ...(fault._tag === "process.kill" ? { signal: fault.signal } : {})
  }))

// A process that is not running again gets started from the spec its run recorded. Whether
// it runs is asked of the system (by its label where it has one: a copy a restart started
// before the runner died counts), so a revert never starts a second copy.
const restartUnlessRunning = (ctx: ProcessContext, raw: Handler.RevertData) =>
  Effect.gen(function*() {
    const data = raw as unknown as ProcessRevertData
    if (ctx.running(data)) return
    if (!data.spec) return
    yield* ctx.start(data.spec, data.label ?? null)
  })

// A stopped process resumes within a second, or the revert fails `SignalFailed`.
const awaitResumed = (name: string, pid: number) =>
  Wait.until(Effect.sync(() => Os.isStopped(pid) !== true), {
    ...SIGNAL_EFFECT,
    onTimeout: () => new ProcessError({ reason: "SignalFailed", target: name, operation: "resume", detail: "still stopped 1 s after SIGCONT" })
  })

/**
 * The process faults' handlers.
 *
 * @since 0.1.0
 */
export const handlers: Handler.Handlers<ProcessContext, ProcessFault, ProcessError> = {
  "process.kill": {
    prepare,
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const p = yield* ctx.managed(target.name)
        yield* ctx.signal(p, fault.signal, "kill")
        const died = TERMINATING.has(fault.signal)
          ? yield* Wait.until(Effect.sync(() => !Os.pidAlive(p.pid)), { every: "5 millis", timeout: "2 seconds" })
          : false
        return { name: p.name, pid: p.pid, signal: fault.signal, died, spec: p.spec, label: p.label }
      }),
    revert: restartUnlessRunning
  },
  "process.pause": {
    prepare,
    inject: (ctx, _fault, target) =>
      Effect.gen(function*() {
        const p = yield* ctx.managed(target.name)
        yield* ctx.signal(p, "SIGSTOP", "pause")
        return { name: p.name, pid: p.pid, group: p.ownsGroup }
      }),
    verify: (_ctx, _fault, target, data) =>
      Wait.until(Effect.sync(() => Os.isStopped(Number(data.pid)) !== false), {
        ...SIGNAL_EFFECT,
        onTimeout: () =>
          new ProcessError({ reason: "SignalFailed", target: target.name, operation: "pause", detail: "InjectionIneffective: still running 1 s after SIGSTOP" })
      }),
    // SIGCONT to a running or vanished process is harmless: idempotent by nature.
    revert: (_ctx, raw) =>
      Effect.suspend(() => {
        const data = raw as unknown as ProcessRevertData
        Os.signal(data.pid, "SIGCONT", data.group === true)
        return awaitResumed(data.name, data.pid)
      })
  },
  "process.restart": {
    prepare,
    inject: (ctx, _fault, target) =>
      Effect.gen(function*() {
        const p = yield* ctx.managed(target.name)
        yield* ctx.stop(p.name)
        if (p.spec === null) {
          return yield* new ProcessError({
            reason: "Unsupported",
            target: p.name,
            operation: "restart",
            detail: "adopted process: the driver does not know how to start it"
          })
        }
        const started = yield* ctx.start(p.spec, p.label)
        return { name: p.name, pid: started.pid, spec: p.spec, label: p.label }
      }),
    revert: restartUnlessRunning
  }
}

/**
 * The process faults' operations, for the driver and the out-of-process reverter.
 *
 * @since 0.1.0
 */
export const processFaults = Handler.dispatch(handlers, {
  discover: (ctx) => ctx.targets,
  unknown: (tag, operation) => new ProcessError({ reason: "Unsupported", target: tag, operation, detail: `unknown fault ${tag}` })
})
