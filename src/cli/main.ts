/**
 * The `faultline` command line: run, plan, demo, report, recover. Exit codes: 0 passed; 1 deviated,
 * aborted or failed; 2 bad input; 130 interrupted.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit, Fiber, Layer, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Experiment from "../core/Experiment.ts"
import * as Journal from "../core/Journal.ts"
import * as Demo from "../../examples/kv-failover/demo.ts"
import * as Ledger from "../core/Ledger.ts"
import * as Os from "../core/Os.ts"
import { Run } from "../core/Run.ts"
import * as ExperimentFile from "../ExperimentFile.ts"
import { jsonSchema } from "../ExperimentFileSchema.ts"
import * as Report from "../report/Report.ts"
import * as FileJournal from "../run/FileJournal.ts"
import * as Runner from "../run/Runner.ts"
import * as FileLedger from "../run/FileLedger.ts"
import * as LedgerTrust from "../run/LedgerTrust.ts"
import * as Recover from "../run/Recover.ts"
import * as Integrations from "../integrations.ts"
import * as EmbeddedProxy from "../proxy/EmbeddedProxy.ts"
import type * as Process from "../targets/process/ProcessDriver.ts"
import { ProcessDriver } from "../targets/process/ProcessDriver.ts"
import { ToxiproxyDriver } from "../targets/toxiproxy/ToxiproxyDriver.ts"
import { exitCodeOf } from "./ExitCode.ts"
import { liveLine, summary } from "./Summary.ts"

/**
 * Bad input: a malformed file, flag or module. The CLI prints `message` and exits 2.
 *
 * @since 0.1.0
 */
export class BadInput extends Schema.TaggedError<BadInput>()("BadInput", { message: Schema.String }) {}

let exitCode = 0

const json = Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print the report as JSON on stdout"))
const out = Flag.String("out").pipe(Flag.withDefault("faultline-runs"), Flag.withDescription("directory for run folders (default: faultline-runs)"))

const live = (asJson: boolean) => {
  let t0: number | null = null
  return (e: Journal.Entry) => {
    if (asJson) return
    t0 ??= e.mono
    const line = liveLine(e, t0)
    if (line) process.stderr.write(`${line}\n`)
  }
}

const finish = (o: Runner.Outcome, asJson: boolean) =>
  Effect.sync(() => {
    if (asJson) process.stdout.write(JSON.stringify(o.report, null, 2) + "\n")
    else process.stdout.write(`\n${summary(o.report, o.dir)}\n`)
    exitCode = exitCodeOf(o.result.verdict.status)
  })

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
    Effect.catchDefect((d) => Effect.fail(new BadInput({ message: `${file}: setting up the experiment failed: ${d instanceof Error ? d.message : String(d)}` })))
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
      Effect.mapError((e: unknown) => e instanceof BadInput ? e : new BadInput({ message: `${file}: ${e instanceof Error ? e.message : String(e)}` })))
  })

// A note in the run's journal (from the method, where the run's context is).
const note = (message: string) =>
  Effect.gen(function*() {
    const run = yield* Run
    yield* run.journal.append({ _tag: "Note", message })
  })

// The run in progress, so that an interrupted run still prints its summary and report path.
const current: { dir: string | null } = { dir: null }

interface RunArgs {
  readonly out: string
  readonly dryRun: boolean
  readonly json: boolean
  /** Keep every journal entry in memory (plans read them); runs stream instead. */
  readonly keepEntries?: boolean
  /** Planning before any probe runs (experiment files: targets and guards). */
  readonly preflight?: Effect.Effect<void, unknown, any>
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
      // Each is recorded in the ledger as it starts (pid and start time), so that if this
      // runner dies the run's watchdog stops exactly these.
      if (!args.dryRun) {
        const ledger = yield* Ledger.Ledger
        const record = (p: Process.ManagedProcess) =>
          ledger.setUp === undefined ? Effect.void : ledger.setUp(runId, { name: p.name, pid: p.pid, startTime: Os.startTime(p.pid), label: p.label })
        yield* ExperimentFile.startProcesses(decoded, record).pipe(Effect.mapError((e) => new BadInput({ message: `${file}: ${e.message}` })))
      }
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

// With a run id, the caller has begun the run and provides its ledger.
const runExperiment = (exp: Experiment.Experiment<any>, args: RunArgs, begun?: string) =>
  Effect.gen(function*() {
    const runId = begun ?? (yield* Experiment.makeRunId)
    current.dir = path.resolve(args.out, runId)
    const ran = Runner.run(exp as Experiment.Experiment<never>, {
      out: args.out,
      runId,
      dryRun: args.dryRun,
      keepEntries: args.keepEntries ?? false,
      onEntry: live(args.json),
      ...(args.preflight ? { preflight: args.preflight } : {})
    })
    return yield* (begun === undefined ? ran.pipe(Effect.provide(ledgerLayer(args.out))) : ran)
  })

// A ledger folder that is not this user's private folder is refused before anything starts.
const ensurePrivateLedger = (dir: string) =>
  Effect.suspend(() => {
    const bad = LedgerTrust.ledgerProblem(dir)
    return bad === null ? Effect.void : Effect.fail(new BadInput({ message: `refusing the ledger: ${bad}` }))
  })

const runAny = (file: string, args: RunArgs) =>
  Effect.gen(function*() {
    yield* ensureOut(args.out)
    yield* ensurePrivateLedger(path.join(args.out, "ledger"))
    if (/\.(json|ya?ml)$/.test(file)) return yield* runFile(file, args)
    if (!/\.(ts|mts|js|mjs)$/.test(file)) {
      return yield* new BadInput({ message: `${file}: expected a .ts, .js, .json or .yaml experiment` })
    }
    return yield* runModule(file, args)
  })

const run = Command.make("run", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a .ts/.js module whose default export is an Experiment, or a .json/.yaml file")),
  json,
  out,
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDefault(false), Flag.withDescription("resolve targets and check guards; inject nothing"))
}, (args) =>
  Effect.gen(function*() {
    const o = yield* runAny(args.experiment, args)
    return yield* finish(o, args.json)
  })).pipe(Command.withDescription("run an experiment and write journal.jsonl, report.json and report.md"))

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
      case "MethodEnded":
        if (ev.error) lines.push(`method: ${ev.outcome} — ${ev.error}`)
        break
    }
  }
  return lines.join("\n") + "\n"
}

const plan = Command.make("plan", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a .ts/.js module whose default export is an Experiment, or a .json/.yaml file")),
  json
}, (args) =>
  Effect.gen(function*() {
    const file = args.experiment
    // A plan keeps nothing: its dry run writes into a private temporary folder, removed after.
    const out = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "faultline-plan-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const o = yield* runAny(file, { out, dryRun: true, json: true, keepEntries: true })
    const calls = o.result.entries.flatMap((e) => e.event._tag === "CallsPlanned" ? e.event.calls : [])
    if (args.json) process.stdout.write(JSON.stringify({ status: o.result.verdict.status, reason: o.result.verdict.reason, calls }, null, 2) + "\n")
    else process.stdout.write(`plan of ${file} (dry run: nothing was changed)\n${planText(o.result.entries)}${o.result.verdict.status === "planned" ? "" : `plan ${o.result.verdict.status}: ${o.result.verdict.reason}\n`}`)
    exitCode = exitCodeOf(o.result.verdict.status)
  }).pipe(Effect.scoped)).pipe(Command.withDescription("resolve targets, check guards and print every call the experiment would make; changes nothing"))

const demo = Command.make("demo", {
  json,
  out,
  lagMs: Flag.Int("lag-ms").pipe(Flag.withDefault(50), Flag.withDescription("replication lag of the primary, ms (default: 50)"))
}, (args) =>
  Effect.gen(function*() {
    if (args.lagMs < 0) return yield* new BadInput({ message: `--lag-ms must be >= 0, got ${args.lagMs}` })
    if (!args.json) process.stderr.write("starting examples/kv-failover: standby, primary, router on 127.0.0.1\n")
    const system = yield* Demo.startSystem({ lagMs: args.lagMs }).pipe(
      Effect.mapError((e) => new BadInput({ message: `could not start the demo system: ${e.message}` }))
    )
    // The embedded fault proxy, between the clients and the router, for the life of the demo.
    const { url } = yield* EmbeddedProxy.start("127.0.0.1:0").pipe(Effect.mapError((e) => new BadInput({ message: `could not start the embedded proxy: ${e.message}` })))
    return yield* Effect.gen(function*() {
      const clientUrl = yield* Demo.routeThroughProxy(system.routerUrl).pipe(
        Effect.mapError((e) => new BadInput({ message: `could not route through the embedded proxy: ${e.message}` }))
      )
      if (!args.json) process.stderr.write(`clients reach the router through the embedded fault proxy at ${clientUrl}\n`)
      const o = yield* Runner.run(Demo.primaryLoss(clientUrl, { lagMs: args.lagMs }), { out: args.out, onEntry: live(args.json) }).pipe(
        Effect.provide(ledgerLayer(args.out))
      )
      return yield* finish(o, args.json)
    }).pipe(Effect.provide(ToxiproxyDriver.layerConfig({ url })))
  }).pipe(Effect.scoped, Effect.provide(ProcessDriver.layer))).pipe(Command.withDescription("run the kv-failover demo: add network latency, then kill the primary; measure RTO and RPO (no Docker, no AWS)"))

const proxy = Command.make("proxy", {
  listen: Flag.String("listen").pipe(
    Flag.withDefault("127.0.0.1:8474"),
    Flag.withDescription("host:port for the Toxiproxy-compatible API (default: 127.0.0.1:8474; port 0: a free one; :PORT means 127.0.0.1:PORT; beyond loopback needs an explicit host, e.g. 0.0.0.0:8474)")
  ),
  token: Flag.Boolean("token").pipe(
    Flag.withDefault(true),
    Flag.withDescription("writes need the API token (default); --no-token: they need none, for Toxiproxy clients that can send neither a header nor a base path (loopback only)")
  ),
  tokenFile: Flag.String("token-file").pipe(
    Flag.optional,
    Flag.withDescription("where to write the generated API token, 0600 (default ~/.faultline/proxy-PORT.token; not written when $FAULTLINE_PROXY_TOKEN gives the token)")
  ),
  allowNonLoopbackProxies: Flag.Boolean("allow-non-loopback-proxies").pipe(
    Flag.withDefault(false),
    Flag.withDescription("let API clients create proxies listening beyond loopback (e.g. 0.0.0.0:0)")
  )
}, (args) =>
  Effect.gen(function*() {
    const bad = EmbeddedProxy.validateListen(args.listen)
    if (bad !== null) return yield* new BadInput({ message: `--listen ${JSON.stringify(args.listen)}: ${bad} (expected host:port, e.g. 127.0.0.1:8474)` })
    // $FAULTLINE_PROXY_TOKEN lets the proxy and the runs that use it share one secret.
    const fromEnv = process.env.FAULTLINE_PROXY_TOKEN
    const given = args.token && fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined
    const { server, token, url } = yield* EmbeddedProxy.start(args.listen, {
      token: args.token ? given : null,
      allowNonLoopbackProxies: args.allowNonLoopbackProxies
    }).pipe(Effect.mapError((e) => new BadInput({ message: `--listen ${JSON.stringify(args.listen)}: ${e.detail}` })))
    const port = server.address()!.port
    const say = (line: string) => process.stdout.write(`faultline proxy: ${line}\n`)
    say(`Toxiproxy-compatible API listening on ${url}`)
    if (token === null) {
      say("writes need no token (--no-token): any local process may add faults through this API")
    } else if (given !== undefined) {
      say("writes need the token of $FAULTLINE_PROXY_TOKEN: send `Authorization: Bearer $FAULTLINE_PROXY_TOKEN`, or use the base URL " +
        `${url}/token/$FAULTLINE_PROXY_TOKEN; faultline run and recover read $FAULTLINE_PROXY_TOKEN`)
    } else {
      const file = Option.getOrElse(args.tokenFile, () => EmbeddedProxy.defaultTokenFile(port))
      yield* EmbeddedProxy.writeTokenFile(file, token).pipe(Effect.mapError((e) => new BadInput({ message: `--token-file ${JSON.stringify(file)}: ${e.detail}` })))
      say(`writes need the API token in ${file} (0600, removed on exit)`)
      say(`  curl:     -H "Authorization: Bearer $(cat ${file})"`)
      say(`  faultline run / recover:  export FAULTLINE_PROXY_TOKEN=$(cat ${file})`)
      say(`  clients that take only a base URL:  ${url}/token/$(cat ${file})`)
    }
    return yield* Effect.never
  }).pipe(Effect.scoped)).pipe(Command.withDescription("run the embedded Toxiproxy-compatible fault proxy on loopback (Ctrl-C stops it); writes need its API token"))

const report = Command.make("report", {
  journal: Argument.String("journal").pipe(Argument.withDescription("a journal.jsonl file")),
  json,
  allowIncomplete: Flag.Boolean("allow-incomplete").pipe(
    Flag.withDefault(false),
    Flag.withDescription("print the report of a journal that ends without RunEnded (exit 1) instead of refusing it (exit 2)")
  )
}, (args) =>
  Effect.gen(function*() {
    const file = args.journal
    // One line at a time: a game day's journal does not fit in memory.
    const { result: r, torn } = yield* FileJournal.foldUpToTornTail(file, Report.fold()).pipe(
      Effect.mapError((e) => new BadInput({ message: e.message }))
    )
    if (torn !== null && !args.allowIncomplete) {
      return yield* new BadInput({
        message: `${torn.message} — the last line, a write its runner never finished; --allow-incomplete reads the journal up to line ${r.lastLine}`
      })
    }
    // The report written at the end of the run must be the report of this very journal.
    const written = yield* besideLastHash(file)
    if (written !== undefined && written.lastHash !== r.journal.lastHash) {
      return yield* new BadInput({
        message: `${written.file} records journal.lastHash ${written.lastHash ?? "null"}, but ${file} ends with ${r.journal.lastHash ?? "no entry"} ` +
          `(line ${r.lastLine}): the report and the journal disagree`
      })
    }
    if (!r.complete && !args.allowIncomplete) {
      return yield* new BadInput({
        message: `${file}: incomplete evidence: the journal ends at line ${r.lastLine} without RunEnded ` +
          "(truncated, or the runner died with no watchdog); --allow-incomplete prints what it holds"
      })
    }
    if (torn !== null) process.stderr.write(`faultline: ${torn.message} — a torn last line, ignored\n`)
    if (args.json) process.stdout.write(JSON.stringify(r, null, 2) + "\n")
    else process.stdout.write(Report.toMarkdown(r))
    exitCode = !r.complete || r.status === "running" ? 1 : exitCodeOf(r.status)
  })).pipe(Command.withDescription(
    "rebuild the report of a run from its journal (verifies the hash chain, and the last hash recorded by a report.json beside it); " +
      "a journal without RunEnded exits 2 unless --allow-incomplete"
  ))

// The journal's last hash as recorded by the `report.json` beside it, if there is one; a
// report.json that cannot be read is bad input, not a report to skip.
const besideLastHash = (journal: string) =>
  Effect.suspend(() => {
    const file = path.join(path.dirname(journal), "report.json")
    if (!fs.existsSync(file)) return Effect.succeed(undefined)
    return Effect.try({
      try: () => {
        const lastHash = JSON.parse(fs.readFileSync(file, "utf8"))?.journal?.lastHash
        if (lastHash !== null && typeof lastHash !== "string") throw new Error("it has no journal.lastHash")
        return { file, lastHash: lastHash as string | null }
      },
      catch: (e) => new BadInput({ message: `${file}: cannot check it against ${journal}: ${(e as Error).message}` })
    })
  })

// `recover`: every fault that runs which are gone left open in the ledger (all drivers with an
// out-of-process reverter), then every integration's leftover scan (Docker: marker volumes
// and helper containers, which need only the engine). `--docker` is kept as an alias that
// makes the Docker scan required.
const recover = Command.make("recover", {
  ledger: Flag.String("ledger").pipe(Flag.withDefault(FileLedger.DEFAULT_DIR), Flag.withDescription(`the ledger directory (default: ${FileLedger.DEFAULT_DIR})`)),
  docker: Flag.Boolean("docker").pipe(Flag.withDefault(false), Flag.withDescription("require the Docker scan (it runs anyway when the engine answers): an engine that does not answer is then an error")),
  runId: Flag.String("run").pipe(Flag.optional, Flag.withDescription("Docker: only this run id (default: every run whose runner is gone)")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("Docker: also revert faults whose runner process still looks alive on this host")),
  socket: Flag.String("docker-socket").pipe(Flag.optional, Flag.withDescription("the Docker Engine socket (default /var/run/docker.sock)")),
  json
}, (args) =>
  Effect.gen(function*() {
    // A typo must never read as "all clear": a ledger path that is not a folder is bad input.
    const stat = fs.statSync(args.ledger, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isDirectory()) {
      return yield* new BadInput({ message: `no ledger at ${args.ledger}${stat === undefined ? "" : " (not a folder)"}` })
    }
    yield* ensurePrivateLedger(args.ledger)
    const { rows, remaining } = yield* Recover.recover(path.resolve(args.ledger))
    let failed = remaining > 0
    // Leftovers only a target system can show (Docker's marker volumes and helper
    // containers), from every integration that has a scan. A system that does not answer is
    // skipped, unless the ledger names its faults (or `--docker` asked for it by name).
    const needed = new Set(Recover.namedIntegrations(path.resolve(args.ledger)))
    if (args.docker) needed.add("docker")
    const scans = yield* Recover.scanLeftovers({
      runId: Option.getOrUndefined(args.runId),
      force: args.force,
      endpoint: Option.getOrUndefined(args.socket),
      needed
    })
    for (const scan of scans) {
      if (scan.failed) failed = true
      if (args.json) continue
      if (scan.result === null) {
        if (scan.failed) process.stderr.write(`faultline: recover: ${scan.integration}: ${scan.skipped}\n`)
        else process.stdout.write(`${scan.integration}: skipped (${scan.skipped})\n`)
        continue
      }
      const r = scan.result
      const lines = [
        ...r.reverted.map((x) => `reverted  ${x}`),
        ...r.removed.map((x) => `removed   ${x}`),
        ...r.skipped.map((x) => `skipped   ${x}`),
        ...r.failed.map((x) => `FAILED    ${x}`)
      ]
      process.stdout.write(`${scan.integration}: ${lines.length === 0 ? "nothing to recover" : `\n${lines.join("\n")}`}\n`)
    }
    // `docker` stays in the JSON for scripts written against `--docker`.
    const docker = scans.find((x) => x.integration === "docker")?.result ?? null
    if (args.json) process.stdout.write(JSON.stringify({ rows, remaining, docker, leftovers: scans }, null, 2) + "\n")
    else if (rows.length === 0) process.stdout.write(`nothing open in ${args.ledger}\n`)
    else {
      const head = ["run", "fault", "target", "result", "detail"]
      const table = [head, ...rows.map((r) => [r.run, `${r.fault} ${r.faultId.split("/").at(-1)}`, r.target, r.result, r.detail])]
      const widths = head.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
      for (const row of table) process.stdout.write(row.map((c, i) => c.padEnd(widths[i]!)).join("  ") + "\n")
      process.stdout.write(`${remaining} faults left open by runs that are gone\n`)
    }
    exitCode = failed ? 1 : 0
  })).pipe(Command.withDescription("revert every fault left open by runs that died (the ledger, and every target's own leftovers such as Docker markers and helpers); exit 0 when none is left"))

// `schema`: the JSON Schema of experiment files, for editors
// (`# yaml-language-server: $schema=./faultline.schema.json`). The CLI ends with
// `process.exit`, which drops what a pipe has not taken yet: wait until stdout has it all.
const schema = Command.make("schema", {}, () =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      // A reader that stops early (`| head`) closes the pipe: that is not an error here.
      process.stdout.once("error", () => resolve())
      process.stdout.write(JSON.stringify(jsonSchema(), null, 2) + "\n", () => resolve())
    })
  )).pipe(Command.withDescription("print the JSON Schema of YAML/JSON experiment files (for editors: faultline schema > faultline.schema.json)"))

const cli = Command.make("faultline").pipe(
  Command.withDescription("chaos experiments and disaster-recovery drills as typed Effect programs"),
  Command.withSubcommands([run, plan, demo, report, recover, proxy, schema])
)

const layer = NodeServices.layer

// Runs started by the CLI keep their ledger next to their run folders, watched by a watchdog.
const ledgerLayer = (out: string) => FileLedger.layer({ dir: path.join(out, "ledger") })

// `faultline` alone and `faultline help [CMD]` print help and exit 0.
const argv = ((a: ReadonlyArray<string>): ReadonlyArray<string> =>
  a.length === 0 ? ["--help"] : a[0] === "help" ? [...a.slice(1), "--help"] : a)(process.argv.slice(2))

const main = Command.runWith(cli, { version: "0.1.0", renderErrors: false })(argv).pipe(
  Effect.catchTag("BadInput", (e) =>
    Effect.sync(() => {
      process.stderr.write(`faultline: ${e.message}\n`)
      exitCode = 2
    })),
  Effect.catchCause((cause) =>
    Effect.sync(() => {
      const err = Cause.squash(cause) as any
      const isCli = err && typeof err === "object" && typeof err._tag === "string"
      // Parse errors arrive wrapped in ShowHelp; name each of them rather than "Help requested".
      const inner: ReadonlyArray<{ message?: string }> = Array.isArray(err?.errors) ? err.errors : []
      const text = inner.length > 0 ? inner.map((e) => e.message ?? String(e)).join("; ") : isCli && err.message ? err.message : Cause.pretty(cause)
      process.stderr.write(`faultline: ${text}\n`)
      if (isCli) process.stderr.write("run `faultline --help` for usage\n")
      exitCode = isCli ? 2 : 1
    })),
  Effect.provide(layer)
)

const fiber = Effect.runFork(main)
// Ctrl-C / SIGTERM interrupt the run: faults are reverted, the report is written, exit 130.
// When the experiment declares `Abort.signals()`, its own listener turns the first signal
// into an abort instead; a second signal interrupts.
let signals = 0
let interrupting = false
const onSignal = (sig: NodeJS.Signals) => {
  signals++
  if (signals === 1 && process.listenerCount(sig) > 1) return
  if (interrupting) return
  interrupting = true
  Effect.runFork(Fiber.interrupt(fiber))
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)
// `npx faultline run` does not pass SIGTERM on: when the parent goes away the runner is
// re-parented, and it treats that as SIGTERM (interrupted, every fault reverted).
const parent = process.ppid
const orphaned = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(orphaned)
    process.kill(process.pid, "SIGTERM")
  }
}, 100)
orphaned.unref()
fiber.addObserver((exit) => {
  process.removeListener("SIGINT", onSignal)
  process.removeListener("SIGTERM", onSignal)
  if (Exit.isFailure(exit) && Cause.hasInterrupts(exit.cause)) {
    exitCode = 130
    // An interrupted run still wrote its report: say where, with the summary.
    const file = current.dir === null ? null : path.join(current.dir, "report.json")
    if (file !== null && fs.existsSync(file)) {
      try {
        process.stdout.write(`\n${summary(JSON.parse(fs.readFileSync(file, "utf8")), current.dir!)}\n`)
      } catch {
        process.stdout.write(`\nreport: ${current.dir}\n`)
      }
    }
  }
  process.exit(exitCode)
})
