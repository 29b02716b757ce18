/**
 * What the process integration adds to experiment files: the `processes:` section (the
 * system under test, started by the run and recorded for its watchdog), and `${NAME.port}`
 * in a probe's address, resolved at every sample. `ExperimentFile` reaches it through the
 * integrations list, never by importing this folder.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Probe from "../../core/Probe.ts"
import { Run } from "../../core/Run.ts"
import * as Target from "../../core/Target.ts"
import { isTemplate, references, url } from "./Address.ts"
import { type ManagedProcess, ProcessDriver, ProcessSpec } from "./ProcessDriver.ts"

/** The section's key and the schema of one of its items. @since 0.1.0 */
export const key = "processes"
/** @since 0.1.0 */
export const Item = ProcessSpec
/** @since 0.1.0 */
export type Item = typeof ProcessSpec.Type
/** A started process, as `start` reports it. @since 0.1.0 */
export type Started = ManagedProcess
/** The service `start` and `declared` need. @since 0.1.0 */
export type Requirement = ProcessDriver

/** A probe's host or URL: `${NAME.port}` in it is resolved at every sample. @since 0.1.0 */
export const text = (t: string): string | Probe.Dynamic<string, ProcessDriver> => isTemplate(t) ? url(t) : t

/** A probe's port: a number, or `${NAME.port}` resolved at every sample. @since 0.1.0 */
export const port = (p: number | string): number | Probe.Dynamic<number, ProcessDriver> =>
  typeof p === "number" ? p : Probe.dynamic(
    p,
    Effect.flatMap(url(p).resolve, (s) => {
      const n = Number(s)
      return Number.isInteger(n) && n >= 1 && n <= 65535 ? Effect.succeed(n) : Effect.fail(new Error(`${p} is ${JSON.stringify(s)}, not a port`))
    })
  )

// Whether a process' ready pattern has a capture group: without one, `${NAME.port}` would be
// the whole ready line.
const captures = (ready: string) => (new RegExp(`${ready}|`).exec("")?.length ?? 1) > 1

/**
 * The problems of one probe field (`field` at `path`): every `${NAME.port}` must name a
 * declared process whose `ready` pattern captures the port; found at load, before anything
 * starts.
 *
 * @since 0.1.0
 */
export const addressProblems = (declared: ReadonlyArray<Item>, field: string, value: unknown, path: string): ReadonlyArray<string> => {
  if (typeof value !== "string") return []
  if (field === "tcp.port" && !/^\$\{[^}]+\.port\}$/.test(value)) {
    return [`expected a port number or "\${NAME.port}", got ${JSON.stringify(value)} at ${path}`]
  }
  return references(value).flatMap(({ name, placeholder }) => {
    if (name === null) return [`unknown placeholder ${placeholder} at ${path}; expected \${NAME.port}, NAME a process under processes:`]
    const spec = declared.find((p) => p.name === name)
    if (spec === undefined) {
      return [`no process named ${JSON.stringify(name)} at ${path}; processes: ${declared.map((p) => p.name).join(", ") || "none"}`]
    }
    if (spec.ready === undefined || !captures(spec.ready)) {
      return [
        `${placeholder} at ${path} needs process ${
          JSON.stringify(name)
        } to have a ready pattern whose first capture group is the port, e.g. ready: "listening on (\\d+)"`
      ]
    }
    return []
  })
}

/**
 * Starts the declared processes, in order, through the process driver; `onStarted` runs as
 * each has started (the CLI records it in the ledger for the watchdog).
 *
 * @since 0.1.0
 */
export const start = <E = never, R = never>(
  specs: ReadonlyArray<Item>,
  onStarted?: (p: ManagedProcess) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    const driver = yield* ProcessDriver
    for (const spec of specs) {
      const p = yield* driver.start(spec)
      if (onStarted) yield* onStarted(p)
    }
  })

/**
 * For a dry run: the process driver, plus the declared processes as targets that were not
 * started (no pid), so process faults resolve without starting anything.
 *
 * @since 0.1.0
 */
export const declared = (specs: ReadonlyArray<Item>): Layer.Layer<ProcessDriver, never, ProcessDriver> =>
  Layer.effect(
    ProcessDriver,
    Effect.gen(function*() {
      const d = yield* ProcessDriver
      const targets = specs.map((spec) => Target.make({ kind: "process", id: `${spec.name} (not started)`, name: spec.name, labels: { ...spec.labels } }))
      return ProcessDriver.of({ ...d, discover: (fault) => Effect.map(d.discover(fault), (ts) => [...ts, ...targets]) })
    })
  )

/**
 * For a dry run: journals that the declared processes were not started, so the plan says
 * what it did not do.
 *
 * @since 0.1.0
 */
export const notStarted = (specs: ReadonlyArray<Item>): Effect.Effect<void, never, Run> =>
  specs.length === 0
    ? Effect.void
    : Effect.gen(function*() {
      const run = yield* Run
      yield* run.journal.append({
        _tag: "Note",
        message: `dry run: the file's processes (${specs.map((p) => p.name).join(", ")}) were not started; ` +
          "their targets are resolved from the declarations (no pid)"
      })
    })
