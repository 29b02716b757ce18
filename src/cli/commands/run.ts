/**
 * `faultline run` and `faultline plan`: load an experiment (a module or a YAML/JSON file),
 * build the drivers its faults name, and run it (a plan is a dry run). Loaded only when one
 * of these commands runs.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Experiment from "../../core/Experiment.ts"
import type * as Journal from "../../core/Journal.ts"
import * as Ledger from "../../core/Ledger.ts"
import * as Os from "../../core/Os.ts"
import { Run } from "../../core/Run.ts"
import * as ExperimentFile from "../../ExperimentFile.ts"
import * as Integrations from "../../integrations.ts"
import * as Runner from "../../run/Runner.ts"
import type * as Process from "../../targets/process/ProcessDriver.ts"
import { exitCodeOf } from "../ExitCode.ts"
import { ensurePrivateLedger, ledgerLayer } from "../Ledger.ts"
import * as RunHistory from "../RunHistory.ts"
import { both, finish, junitWritable, live, traced, writeJunit } from "../Output.ts"
import { BadInput, state } from "../State.ts"

const importModule = (file: string) =>
  Effect.tryPromise({
    try: () => import(pathToFileURL(path.resolve(file)).href),
    catch: (e) => new BadInput({ message: `${file}: cannot load module: ${(e as Error).message}` })
  })

// A module may export `layer`: the services its experiment needs beyond the process driver
// (e.g. `AwsDriver.layerConfig(...)`), provided to its set-up and its run. This keeps the CLI
// free of integrations' SDKs.
const moduleLayer = (file: string, mod: any): Effect.Effect<Layer.Layer<never, unknown>, BadInput> =>
  mod.layer === undefined
    ? Effect.succeed(Layer.empty as Layer.Layer<never, unknown>)
    : Layer.isLayer(mod.layer)
    ? Effect.succeed(mod.layer)
    : Effect.fail(new BadInput({ message: `${file}: the export \`layer\` is not a Layer` }))

const loadModule = (file: string, mod: any) =>
  Effect.gen(function*() {
    // The default export is an Experiment, or an Effect that sets the system up and yields one.
    const exp = Effect.isEffect(mod.default)
      ? yield* (mod.default as Effect.Effect<unknown, unknown>).pipe(
        Effect.mapError((e) => new BadInput({ message: `${file}: setting up the experiment failed: ${e instanceof Error ? e.message : String(e)}` }))
      )
      : mod.default
    if (!Experiment.isExperiment(exp)) {
      return yield* new BadInput({ message: `${file}: the default export is not an Experiment, nor an Effect yielding one (use Experiment.make)` })
    }
    const bad = shapeProblem(exp) ?? exp.abort.find((a) => a.problem !== undefined)?.problem
    if (bad !== undefined) return yield* new BadInput({ message: `${file}: ${bad}` })
    return exp as Experiment.Experiment<any>
  }).pipe(
    // A set-up that dies (a defect, not a typed failure) is still bad input: one line, no trace.
    Effect.catchDefect((d) =>
      Effect.fail(new BadInput({ message: `${file}: setting up the experiment failed: ${d instanceof Error ? d.message : String(d)}` }))
    )
  )

// What the engine relies on, checked before anything starts: a module is trusted code, but a
// wrong shape must be one line of bad input, not a stack trace half-way through a run.
const shapeProblem = (exp: Experiment.Experiment<unknown>): string | undefined => {
  if (typeof exp.name !== "string" || exp.name === "") return "the experiment has no name"
  if (!Array.isArray(exp.hypotheses) || exp.hypotheses.length === 0) return "the experiment has no hypothesis"
  const h = exp.hypotheses.findIndex((x) => typeof x?.name !== "string" || !Effect.isEffect(x?.probe?.observe) || typeof x?.tolerance?._tag !== "string")
  if (h >= 0) return `hypothesis[${h}] is not a Hypothesis (use Hypothesis.make)`
  if (!Effect.isEffect(exp.method)) return "method is not an Effect"
  if (!Array.isArray(exp.abort)) return "abort is not an array of abort conditions"
  return rpoProblem(exp)
}

// An RPO objective needs something that measures RPO: without a heartbeat writer the run
// could only report the objective as missed after the whole run.
const rpoProblem = (exp: Experiment.Experiment<unknown>): string | undefined =>
  exp.objectives.rpo !== undefined && exp.stopwatches.rpo === undefined
    ? "objectives.rpo needs an RPO stopwatch (stopwatches.rpo: Stopwatch.heartbeat(writer)); nothing would measure it"
    : undefined

// `--out` is checked before anything starts, and nothing is created for bad input: the
// nearest folder that exists must be a folder this user can write.
const ensureOut = (out: string) =>
  Effect.try({
    try: () => {
      let dir = path.resolve(out)
      while (!fs.existsSync(dir)) dir = path.dirname(dir)
      if (!fs.statSync(dir).isDirectory()) {
        throw Object.assign(new Error(`not a directory: ${dir}`), { code: "ENOTDIR" })
      }
      fs.accessSync(dir, fs.constants.W_OK)
    },
    catch: (e) => {
      const err = e as NodeJS.ErrnoException
      return new BadInput({ message: `--out ${out}: cannot write there (${err.code ?? "error"}: ${err.message.replace(/^\w+: /, "")})` })
    }
  })

// Loads a .ts/.js experiment and runs it (or plans it) with its module's layer provided.
// A module is trusted code (like a test file), but a dry run and a plan promise to change
// nothing: they never run the module's `setup` export, and refuse a default export that is
// an Effect when there is no separate `setup` (that Effect is the set-up: it would have to run).
const runModule = (file: string, options: RunArgs) =>
  Effect.gen(function*() {
    const mod = yield* importModule(file)
    const layer = yield* moduleLayer(file, mod)
    if (mod.setup !== undefined && !Effect.isEffect(mod.setup)) {
      return yield* new BadInput({ message: `${file}: the export \`setup\` is not an Effect` })
    }
    if (options.dryRun && mod.setup === undefined && Effect.isEffect(mod.default)) {
      return yield* new BadInput({
        message: `${file}: not planned: the default export is an Effect, which would have to run (it may start or create things) ` +
          "to yield the experiment, and a dry run changes nothing. Export the set-up as `export const setup = Effect...` and the " +
          "experiment as the default export: plan and --dry-run never run `setup`"
      })
    }
    return yield* Effect.gen(function*() {
      if (!options.dryRun && mod.setup !== undefined) {
        yield* (mod.setup as Effect.Effect<unknown, unknown>).pipe(
          Effect.mapError((e) => new BadInput({ message: `${file}: setup failed: ${e instanceof Error ? e.message : String(e)}` }))
        )
      }
      const exp = yield* loadModule(file, mod)
      const planned = options.dryRun && mod.setup !== undefined
        ? { ...exp, method: Effect.andThen(note(`dry run: the module's \`setup\` was not run`), exp.method) }
        : exp
      return yield* runExperiment(planned, options)
    }).pipe(
      Effect.provide(layer),
      // A module's faults are not known before it runs: every integration whose driver can
      // be built here is offered (a module's own `layer` takes precedence).
      Effect.provide(Integrations.layerAvailable),
      Effect.mapError((e: unknown) => e instanceof BadInput ? e : new BadInput({ message: `${file}: ${e instanceof Error ? e.message : String(e)}` }))
    )
  })

// A note in the run's journal (from the method, where the run's context is).
const note = (message: string) =>
  Effect.gen(function*() {
    const run = yield* Run
    yield* run.journal.append({ _tag: "Note", message })
  })

export interface RunArgs {
  readonly out: string
  /** `fis`: AWS FIS runs the faults (`--engine fis`); faultline observes, aborts and reverts. */
  readonly engine?: "local" | "fis"
  readonly roleArn?: string | undefined
  readonly stopAlarms?: ReadonlyArray<string>
  readonly dryRun: boolean
  readonly json: boolean
  /** Keep every journal entry in memory (plans read them); runs stream instead. */
  readonly keepEntries?: boolean
  /** Planning before any probe runs (experiment files: targets and guards). */
  readonly preflight?: Effect.Effect<void, unknown, any>
  /** The run history to index into (and read SLIs from); null or absent: none. */
  readonly history?: string | null
  /** The service catalog file; null or absent: none. */
  readonly services?: string | null
  readonly allowTier0?: boolean
  /** Another journal listener besides the live lines (traces, when configured). */
  readonly onEntry?: ((entry: Journal.Entry) => void) | undefined
}

// A .json/.yaml experiment: decoded strictly, its drivers built from the integrations its
// faults name, its targets resolved before anything is injected.
const runFile = (file: string, args: RunArgs) =>
  Effect.gen(function*() {
    const decoded = yield* ExperimentFile.load(file).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
    // The drivers of the integrations the file's faults name (the process driver always:
    // it starts the file's `processes:`), built for this run and stopped with it.
    const names = ["process", ...ExperimentFile.integrationsOf(decoded)]
    const drivers = yield* Integrations.layerFor(names).pipe(Effect.mapError((e) => new BadInput({ message: `${file}: ${e.message}` })))
    const runId = yield* Experiment.makeRunId
    return yield* Effect.gen(function*() {
      const exp = ExperimentFile.toExperiment(decoded)
      // A change freeze or environment guard that refuses: the run is journaled `refused`
      // without starting the file's processes or running a probe.
      if (yield* ExperimentFile.refusedUpFront(decoded)) return yield* runExperiment(exp, args, runId)
      // The processes a file declares are its system under test, started (and owned) by this
      // run; a dry run starts nothing: it resolves them from their declarations and says so.
      if (!args.dryRun) yield* startRecorded(file, decoded, runId)
      // A target that matches nothing is bad input found now, before any probe or fault.
      yield* ExperimentFile.resolveTargets(decoded).pipe(Effect.mapError((e) => new BadInput({ message: `${file}: ${e.message}` })))
      // Targets and guards are planned (and journaled) before any probe runs; a dry run
      // journals that the file's processes were not started.
      const planned = args.dryRun ? { ...exp, method: Effect.andThen(ExperimentFile.notStarted(decoded), exp.method) } : exp
      return yield* runExperiment(planned, { ...args, preflight: ExperimentFile.plan(decoded) }, runId)
    }).pipe(
      Effect.provide(args.dryRun ? ExperimentFile.declaredProcesses(decoded).pipe(Layer.provideMerge(drivers)) : drivers),
      // Outside the drivers: the watchdog's pipe closes after the set-up's processes stopped.
      Effect.provide(ledgerLayer(args.out)),
      Effect.mapError((e: unknown) =>
        e instanceof BadInput ? e : new BadInput({ message: `${file}: a driver is unavailable: ${e instanceof Error ? e.message : String(e)}` })
      )
    )
  })

// Each process of the file's set-up is recorded in the ledger as it starts (pid and start
// time), so that if this runner dies the run's watchdog stops exactly these.
const startRecorded = (file: string, decoded: ExperimentFile.ExperimentFile, runId: string) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger.Ledger
    const record = (p: Process.ManagedProcess) =>
      ledger.setUp === undefined ? Effect.void : ledger.setUp(runId, { name: p.name, pid: p.pid, startTime: Os.startTime(p.pid), label: p.label })
    yield* ExperimentFile.startProcesses(decoded, record).pipe(Effect.mapError((e) => new BadInput({ message: `${file}: ${e.message}` })))
  })

/**
 * Runs an experiment as a run folder. With a run id, the caller has begun the run and
 * provides its ledger.
 *
 * @since 0.1.0
 */
export const runExperiment = (exp: Experiment.Experiment<any>, args: RunArgs, begun?: string) =>
  Effect.gen(function*() {
    const runId = begun ?? (yield* Experiment.makeRunId)
    const history = args.history ?? null
    const catalogued = yield* RunHistory.withCatalog(exp, args.services ?? null, args.allowTier0 ?? false)
    state.runDir = path.resolve(args.out, runId)
    const ran = Runner.run(catalogued as Experiment.Experiment<never>, {
      out: args.out,
      runId,
      dryRun: args.dryRun,
      keepEntries: args.keepEntries ?? false,
      onEntry: both(live(args.json), args.onEntry),
      ...(args.preflight ? { preflight: args.preflight } : {}),
      ...(history !== null && !args.dryRun ? { afterReport: RunHistory.indexer(history) } : {})
    })
    return yield* (begun === undefined ? ran.pipe(Effect.provide(ledgerLayer(args.out))) : ran)
  })

export const runAny = (file: string, args: RunArgs) =>
  Effect.gen(function*() {
    yield* ensureOut(args.out)
    yield* ensurePrivateLedger(path.join(args.out, "ledger"))
    if (args.engine === "fis") return yield* Effect.flatMap(Effect.promise(() => import("./runFis.ts")), (m) => m.runFis(file, args))
    if (/\.(json|ya?ml)$/.test(file)) return yield* runFile(file, args)
    if (!/\.(ts|mts|js|mjs)$/.test(file)) {
      return yield* new BadInput({ message: `${file}: expected a .ts, .js, .json or .yaml experiment` })
    }
    return yield* runModule(file, args)
    // The SLO source for error-budget guards (also judged up front, before a file's processes
    // start) and burn-rate conditions.
  }).pipe(Effect.provide(RunHistory.sloLayer(args.history ?? null)))

/**
 * `faultline run`: runs an experiment and prints its summary (or its report as JSON).
 *
 * @since 0.1.0
 */
export const run = (args: {
  readonly experiment: string
  readonly json: boolean
  readonly out: string
  readonly dryRun: boolean
  readonly engine?: "local" | "fis"
  readonly roleArn?: string | undefined
  readonly stopAlarms?: ReadonlyArray<string>
  readonly junit?: Option.Option<string>
  readonly history: Option.Option<string>
  readonly services: Option.Option<string>
  readonly allowTier0: boolean
}) =>
  Effect.gen(function*() {
    const junit = args.junit === undefined ? undefined : Option.getOrUndefined(args.junit)
    // A JUnit file that cannot be written is bad input before the run, not a lost result after it.
    if (junit !== undefined) yield* junitWritable(junit)
    const o = yield* traced((onEntry) =>
      runAny(args.experiment, {
        ...args,
        onEntry,
        history: RunHistory.HistoryConfig.configured(args.history),
        services: RunHistory.catalogFile(Option.getOrUndefined(args.services))
      })
    )
    if (junit !== undefined) yield* writeJunit(junit, o.dir)
    yield* finish(o, args.json)
    // The run folder is complete; only its index failed: say so in the exit code.
    if (state.indexFailed) state.exitCode = 2
  })

/**
 * The plan of a dry run, from its journal: per fault, the targets, the guards and every
 * call the driver would make (drivers that can list them, e.g. AWS).
 *
 * @since 0.1.0
 */
export const planText = (entries: ReadonlyArray<Journal.Entry>): string => {
  const lines: Array<string> = []
  for (const { event: ev } of entries) {
    switch (ev._tag) {
      case "TargetsResolved":
        lines.push(`${ev.fault} ${ev.selector}: ${ev.targets.length} targets`)
        for (const t of ev.targets) lines.push(`  target ${t.kind} ${t.id}${t.name !== t.id ? ` (${t.name})` : ""}`)
        break
      case "GuardChecked":
        lines.push(`  guard ${ev.guard}: ${ev.ok ? "ok" : "REFUSED"} — ${ev.detail}`)
        break
      case "CallsPlanned":
        for (const c of ev.calls) {
          lines.push(`  ${c.phase.padEnd(7)} ${c.mutating ? "WOULD CALL" : "read     "} ${c.service}.${c.operation} ${JSON.stringify(c.params)}`)
        }
        break
      case "Note":
        lines.push(`  note: ${ev.message}`)
        break
      case "MethodEnded":
        if (ev.error) lines.push(`method: ${ev.outcome} — ${ev.error}`)
        break
    }
  }
  return lines.join("\n") + "\n"
}

/**
 * `faultline plan`: a dry run into a temporary folder, printed as the calls it would make.
 *
 * @since 0.1.0
 */
export const plan = (args: { readonly experiment: string; readonly json: boolean }) =>
  Effect.gen(function*() {
    const file = args.experiment
    // A plan keeps nothing: its dry run writes into a private temporary folder, removed after.
    const out = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "faultline-plan-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    // A plan changes nothing: a Tier 0 service's experiment may be planned without approval.
    const o = yield* runAny(file, { out, dryRun: true, json: true, keepEntries: true, services: RunHistory.catalogFile(undefined), allowTier0: true })
    const calls = o.result.entries.flatMap((e) => e.event._tag === "CallsPlanned" ? e.event.calls : [])
    if (args.json) process.stdout.write(JSON.stringify({ status: o.result.verdict.status, reason: o.result.verdict.reason, calls }, null, 2) + "\n")
    else {process.stdout.write(
        `plan of ${file} (dry run: nothing was changed)\n${planText(o.result.entries)}${
          o.result.verdict.status === "planned" ? "" : `plan ${o.result.verdict.status}: ${o.result.verdict.reason}\n`
        }`
      )}
    state.exitCode = exitCodeOf(o.result.verdict.status)
  }).pipe(Effect.scoped)
