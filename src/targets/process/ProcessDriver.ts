/**
 * The process driver: starts local processes through `effect/process`, and applies and
 * reverts `process.*` faults (signals, pause/resume, restart).
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import type { Driver } from "../../core/Driver.ts"
import * as Handler from "../../core/Handler.ts"
import * as Target from "../../core/Target.ts"
import { ValidRegex } from "../../core/Tolerance.ts"
import { type Managed, type ProcessContext, processFaults } from "./Handlers.ts"
import { LABEL_ENV, pidAlive, signallable } from "../../core/Os.ts"
import { ProcessError, toDriverError } from "./ProcessError.ts"

/** Whether a pid is alive (a zombie counts as dead). @since 0.1.0 */
export { isStopped, pidAlive as isAlive } from "../../core/Os.ts"

/**
 * How to start a process. `ready` is a regular expression a stdout line must match before
 * `start` returns; its first capture group is kept (e.g. the port a service bound).
 *
 * @since 0.1.0
 */
export const ProcessSpec = Schema.Struct({
  name: Schema.String,
  command: Schema.String,
  args: Schema.Array(Schema.String),
  cwd: Schema.optionalKey(Schema.String),
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  labels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  ready: Schema.optionalKey(ValidRegex),
  readyTimeoutMs: Schema.optionalKey(Schema.Number)
})
/** @since 0.1.0 */
export type ProcessSpec = typeof ProcessSpec.Type

/** A process the driver knows: started by it, or adopted by pid. @since 0.1.0 */
export interface ManagedProcess {
  readonly name: string
  readonly pid: number
  readonly spec: ProcessSpec | null
  /** The first capture group of the `ready` pattern, if any. */
  readonly readyMatch: string | null
  readonly labels: Record<string, string>
  /** The run label in its environment (`FAULTLINE_PROCESS`), when the driver started it. */
  readonly label: string | null
  /** Recent stdout and stderr lines, for diagnostics. */
  readonly output: ReadonlyArray<string>
}

/**
 * The process driver service.
 *
 * @since 0.1.0
 */
export class ProcessDriver extends Context.Service<
  ProcessDriver,
  Driver & {
    readonly start: (spec: ProcessSpec) => Effect.Effect<ManagedProcess, ProcessError>
    readonly adopt: (p: { readonly name: string; readonly pid: number; readonly labels?: Record<string, string> }) => Effect.Effect<void>
    readonly get: (name: string) => Effect.Effect<ManagedProcess, ProcessError>
    readonly list: Effect.Effect<ReadonlyArray<ManagedProcess>>
    /** Sends a signal to the process (its whole group when the driver started it). */
    readonly signal: (name: string, signal: NodeJS.Signals) => Effect.Effect<void, ProcessError>
    readonly stop: (name: string) => Effect.Effect<void, ProcessError>
  }
>()("faultline/ProcessDriver") {
  /** The real driver, spawning through `effect/process`. @since 0.1.0 */
  static readonly layer: Layer.Layer<ProcessDriver, never, ChildProcessSpawner.ChildProcessSpawner> = Layer.effect(
    ProcessDriver,
    Effect.suspend(() => make)
  )
}

interface Entry {
  name: string
  pid: number
  spec: ProcessSpec | null
  readyMatch: string | null
  labels: Record<string, string>
  label: string | null
  output: Array<string>
  scope: Scope.Closeable | null
  ownsGroup: boolean
}

const snapshot = (e: Entry): ManagedProcess => ({
  name: e.name,
  pid: e.pid,
  spec: e.spec,
  readyMatch: e.readyMatch,
  labels: e.labels,
  label: e.label,
  output: e.output.slice()
})

// Keeps the last lines of the process's output (for diagnostics) and resolves `ready` with
// the ready pattern's capture; without a pattern, it is ready at once.
const watchOutput = (entry: Entry, handle: ChildProcessSpawner.ChildProcessHandle, spec: ProcessSpec, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const ready = yield* Deferred.make<string | null, string>()
    const pattern = spec.ready === undefined ? null : new RegExp(spec.ready)
    const keep = (line: string) => {
      entry.output.push(line)
      if (entry.output.length > 50) entry.output.shift()
    }
    const drain = (stream: Stream.Stream<Uint8Array, unknown>, watch: boolean) =>
      stream.pipe(
        Stream.decodeText(),
        Stream.splitLines,
        Stream.runForEach((line) =>
          Effect.suspend(() => {
            keep(line)
            const m = watch && pattern ? pattern.exec(line) : null
            return m ? Deferred.succeed(ready, m[1] ?? m[0]) : Effect.void
          })
        ),
        Effect.ignore
      )
    yield* Effect.forkIn(drain(handle.stdout, true), scope)
    yield* Effect.forkIn(drain(handle.stderr, false), scope)
    if (pattern === null) {
      yield* Deferred.succeed(ready, null)
    } else {
      // If the process exits before it is ready, say so rather than wait for the timeout.
      yield* Effect.forkIn(
        Effect.flatMap(Effect.exit(handle.exitCode), (exit) =>
          Deferred.fail(ready, `exited (${Exit.isSuccess(exit) ? `code ${exit.value}` : "error"}) before ready`)),
        scope
      )
    }
    return ready
  })

// Waits for the ready line; when none comes, closes the process's scope (stopping it) and
// fails `NotReady` with its last output.
const awaitReady = (ready: Deferred.Deferred<string | null, string>, entry: Entry, spec: ProcessSpec, scope: Scope.Closeable) => {
  const timeout = Duration.millis(spec.readyTimeoutMs ?? 10_000)
  return Deferred.await(ready).pipe(
    Effect.timeoutOption(timeout),
    Effect.mapError((detail) => String(detail)),
    Effect.flatMap((o) => o._tag === "Some" ? Effect.succeed(o.value) : Effect.fail(`no line matching /${spec.ready}/ within ${Duration.format(timeout)}`)),
    Effect.catch((detail: string) =>
      Effect.andThen(
        Scope.close(scope, Exit.void),
        Effect.fail(
          new ProcessError({ reason: "NotReady", target: spec.name, operation: "start", detail: `${detail}; output: ${entry.output.slice(-5).join(" | ")}` })
        )
      )
    )
  )
}

// Spawns `spec` in a scope of its own, forked from the layer's, and waits until it is ready.
// The process carries `label` in its environment, so a revert in another process (the
// watchdog) finds it, or the copy a restart made, by label instead of by pid.
const launch = (spawner: ChildProcessSpawner.ChildProcessSpawner["Service"], layerScope: Scope.Scope, spec: ProcessSpec, label: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(layerScope, "sequential")
    const cmd = ChildProcess.make(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...spec.env, [LABEL_ENV]: label },
      extendEnv: true,
      forceKillAfter: "2 seconds"
    })
    const handle = yield* cmd.pipe(
      Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner),
      Scope.provide(scope),
      Effect.mapError((e) => new ProcessError({ reason: "SpawnFailed", target: spec.name, operation: "start", detail: e.message }))
    )
    const entry: Entry = { name: spec.name, pid: handle.pid, spec, readyMatch: null, labels: spec.labels ?? {}, label, output: [], scope, ownsGroup: true }
    const ready = yield* watchOutput(entry, handle, spec, scope)
    entry.readyMatch = yield* awaitReady(ready, entry, spec, scope)
    return entry
  })

const adopted = (p: { readonly name: string; readonly pid: number; readonly labels?: Record<string, string> }): Entry => ({
  name: p.name,
  pid: p.pid,
  spec: null,
  readyMatch: null,
  labels: p.labels ?? {},
  label: null,
  output: [],
  scope: null,
  ownsGroup: false
})

const signalPid = (e: Managed, signal: NodeJS.Signals, operation: string) =>
  !signallable(e.pid)
    ? Effect.fail(new ProcessError({ reason: "SignalFailed", target: e.name, operation, detail: `refusing to signal pid ${e.pid}` }))
    : Effect.try({
      try: () => process.kill(e.ownsGroup ? -e.pid : e.pid, signal),
      catch: (err) => new ProcessError({ reason: "SignalFailed", target: e.name, operation, detail: (err as Error).message })
    })

const toTarget = (e: Entry) => Target.make({ kind: "process", id: String(e.pid), name: e.name, labels: e.labels })

const make = Effect.gen(function*() {
  const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
  const layerScope = yield* Effect.scope
  const procs = new Map<string, Entry>()
  // One token per driver: a process's label is `<token>.<name>`, the same for every copy a
  // restart makes, and unlike any other driver's.
  const token = randomBytes(9).toString("base64url")
  const labelOf = (name: string) => `${token}.${name.replace(/[^\w.-]/g, "_")}`

  const start = Effect.fn("ProcessDriver.start")(function*(spec: ProcessSpec) {
    const entry = yield* launch(spawner, layerScope, spec, labelOf(spec.name))
    const previous = procs.get(spec.name)
    if (previous?.scope) yield* Scope.close(previous.scope, Exit.void)
    procs.set(spec.name, entry)
    return snapshot(entry)
  })

  const get = (name: string) =>
    Effect.suspend(() => {
      const e = procs.get(name)
      return e ? Effect.succeed(e) : Effect.fail(new ProcessError({ reason: "NotFound", target: name, operation: "get", detail: "no such managed process" }))
    })

  const signal = Effect.fn("ProcessDriver.signal")(function*(name: string, sig: NodeJS.Signals) {
    const e = yield* get(name)
    yield* signalPid(e, sig, "signal")
  })

  const stop = Effect.fn("ProcessDriver.stop")(function*(name: string) {
    const e = yield* get(name)
    if (e.scope) yield* Scope.close(e.scope, Exit.void)
    else if (pidAlive(e.pid)) yield* signalPid(e, "SIGTERM", "stop")
  })

  const context: ProcessContext = {
    targets: Effect.sync(() => [...procs.values()].filter((e) => pidAlive(e.pid)).map(toTarget)),
    managed: (name) => get(name),
    signal: (p, sig, operation) => signalPid(p, sig, operation),
    stop,
    start: (spec) => start(spec),
    running: (data) => {
      const current = procs.get(data.name)
      return current !== undefined && pidAlive(current.pid)
    }
  }

  yield* Effect.addFinalizer(() => Effect.sync(() => procs.clear()))

  return ProcessDriver.of({
    name: "process",
    connection: {},
    ...Handler.bind(
      processFaults,
      context,
      (e, at) => toDriverError(e, { operation: at.operation, target: at.target ? `${at.target.name} (pid ${at.target.id})` : at.fault })
    ),
    start,
    adopt: (p) => Effect.sync(() => void procs.set(p.name, adopted(p))),
    get: (name) => Effect.map(get(name), snapshot),
    list: Effect.sync(() => [...procs.values()].map(snapshot)),
    signal,
    stop
  })
})
