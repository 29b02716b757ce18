/**
 * Process faults, as data.
 *
 * @since 0.1.0
 */
import type { Context } from "effect"
import { Schema } from "effect"
import type { Driver } from "../../core/Driver.ts"
import * as Selector from "../../core/Selector.ts"
import { ProcessDriver } from "./ProcessDriver.ts"

/** @since 0.1.0 */
export const Signal = Schema.Literals([
  "SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGABRT", "SIGSTOP", "SIGCONT"
])
/** @since 0.1.0 */
export type Signal = typeof Signal.Type

const driver = ProcessDriver as unknown as Context.Key<ProcessDriver, Driver>

/**
 * `process.kill`: send a signal (default SIGKILL). Reverting restarts a process the driver
 * started, unless it is running again already.
 *
 * @since 0.1.0
 */
export class ProcessKill extends Schema.TaggedClass<ProcessKill>()("process.kill", {
  target: Selector.Selector,
  signal: Signal
}) {
  get driver() {
    return driver
  }
}

/**
 * `process.pause`: SIGSTOP; reverting sends SIGCONT.
 *
 * @since 0.1.0
 */
export class ProcessPause extends Schema.TaggedClass<ProcessPause>()("process.pause", {
  target: Selector.Selector
}) {
  get driver() {
    return driver
  }
}

/**
 * `process.restart`: stop and start again; reverting makes sure it runs.
 *
 * @since 0.1.0
 */
export class ProcessRestart extends Schema.TaggedClass<ProcessRestart>()("process.restart", {
  target: Selector.Selector
}) {
  get driver() {
    return driver
  }
}

/** Every process fault. @since 0.1.0 */
export const ProcessFault = Schema.Union([ProcessKill, ProcessPause, ProcessRestart])

/** `process.kill`. @since 0.1.0 */
export const kill = (options: { readonly target: Selector.Selector; readonly signal?: Signal }): ProcessKill =>
  new ProcessKill({ target: options.target, signal: options.signal ?? "SIGKILL" })
/** `process.pause`. @since 0.1.0 */
export const pause = (options: { readonly target: Selector.Selector }): ProcessPause => new ProcessPause(options)
/** `process.restart`. @since 0.1.0 */
export const restart = (options: { readonly target: Selector.Selector }): ProcessRestart => new ProcessRestart(options)
