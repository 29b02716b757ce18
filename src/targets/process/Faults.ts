/**
 * Process faults, as data.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Fault from "../../core/Fault.ts"
import * as Selector from "../../core/Selector.ts"
import { ProcessDriver } from "./ProcessDriver.ts"

/** @since 0.1.0 */
export const Signal = Schema.Literals([
  "SIGKILL",
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGABRT",
  "SIGSTOP",
  "SIGCONT"
])
/** @since 0.1.0 */
export type Signal = typeof Signal.Type

/** The base of every process fault (driver: ProcessDriver; no default guards). @since 0.1.0 */
export const ProcessFaultClass = Fault.Class(ProcessDriver)

/**
 * `process.kill`: send a signal (default SIGKILL). Reverting restarts a process the driver
 * started, unless it is running again already.
 *
 * @since 0.1.0
 */
export class ProcessKill extends ProcessFaultClass<ProcessKill>()("process.kill", {
  target: Selector.Selector,
  signal: Signal.pipe(Schema.withDecodingDefaultKey(Effect.succeed("SIGKILL" as const)))
}) {}

/**
 * `process.pause`: SIGSTOP; reverting sends SIGCONT.
 *
 * @since 0.1.0
 */
export class ProcessPause extends ProcessFaultClass<ProcessPause>()("process.pause", {
  target: Selector.Selector
}) {}

/**
 * `process.restart`: stop and start again; reverting makes sure it runs.
 *
 * @since 0.1.0
 */
export class ProcessRestart extends ProcessFaultClass<ProcessRestart>()("process.restart", {
  target: Selector.Selector
}) {}

/** Every process fault. @since 0.1.0 */
export const ProcessFault = Schema.Union([ProcessKill, ProcessPause, ProcessRestart])
/** @since 0.1.0 */
export type ProcessFault = typeof ProcessFault.Type

/** `process.kill`. @since 0.1.0 */
export const kill = (options: { readonly target: Selector.Selector; readonly signal?: Signal }): ProcessKill =>
  new ProcessKill({ target: options.target, signal: options.signal ?? "SIGKILL" })
/** `process.pause`. @since 0.1.0 */
export const pause = (options: { readonly target: Selector.Selector }): ProcessPause => new ProcessPause(options)
/** `process.restart`. @since 0.1.0 */
export const restart = (options: { readonly target: Selector.Selector }): ProcessRestart => new ProcessRestart(options)
