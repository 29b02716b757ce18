/**
 * The `faultline` command line: run, plan, drill, demo, report, postmortem, recover, proxy, evidence, schema. Exit codes:
 * 0 passed; 1 deviated, aborted or failed; 2 bad input; 130 interrupted. This module is the
 * command tree only (names, flags, descriptions): each command's module is imported when that
 * command runs, so `--help` and `run` do not load the demo, the proxy server or the report
 * renderer.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit, Fiber, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as FileLedger from "../run/FileLedger.ts"
import { state } from "./State.ts"

export {
  /**
   * Bad input: a malformed file, flag or module. The CLI prints `message` and exits 2.
   *
   * @since 0.1.0
   */
  BadInput
} from "./State.ts"

const json = Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print the report as JSON on stdout"))
const out = Flag.String("out").pipe(Flag.withDefault("faultline-runs"), Flag.withDescription("directory for run folders (default: faultline-runs)"))

// A command's module, loaded when the command runs.
const lazily = <M>(load: () => Promise<M>) => Effect.promise(load)

const run = Command.make("run", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a .ts/.js module whose default export is an Experiment, or a .json/.yaml file")),
  json,
  out,
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDefault(false), Flag.withDescription("resolve targets and check guards; inject nothing")),
  junit: Flag.String("junit").pipe(Flag.optional, Flag.withDescription("also write JUnit XML of the run to this file (a test case per experiment, hypothesis phase and objective)"))
}, (args) => Effect.flatMap(lazily(() => import("./commands/run.ts")), (m) => m.run(args))).pipe(Command.withDescription("run an experiment and write journal.jsonl, report.json, report.md and report.html"))

const plan = Command.make("plan", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a .ts/.js module whose default export is an Experiment, or a .json/.yaml file")),
  json
}, (args) => Effect.flatMap(lazily(() => import("./commands/run.ts")), (m) => m.plan(args))).pipe(Command.withDescription("resolve targets, check guards and print every call the experiment would make; changes nothing"))

const demo = Command.make("demo", {
  json,
  out,
  lagMs: Flag.Int("lag-ms").pipe(Flag.withDefault(50), Flag.withDescription("replication lag of the primary, ms (default: 50)"))
}, (args) => Effect.flatMap(lazily(() => import("./commands/demo.ts")), (m) => m.demo(args))).pipe(Command.withDescription("run the kv-failover demo: add network latency, then kill the primary; measure RTO and RPO (no Docker, no AWS)"))

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
}, (args) => Effect.flatMap(lazily(() => import("./commands/proxy.ts")), (m) => m.proxy(args))).pipe(Command.withDescription("run the embedded Toxiproxy-compatible fault proxy on loopback (Ctrl-C stops it); writes need its API token"))

const report = Command.make("report", {
  journal: Argument.String("journal").pipe(Argument.withDescription("a journal.jsonl file")),
  json,
  html: Flag.Boolean("html").pipe(Flag.withDefault(false), Flag.withDescription("print the self-contained HTML report (timeline and tables) on stdout")),
  junit: Flag.Boolean("junit").pipe(Flag.withDefault(false), Flag.withDescription("print JUnit XML on stdout: a test case per experiment, hypothesis phase and objective")),
  allowIncomplete: Flag.Boolean("allow-incomplete").pipe(
    Flag.withDefault(false),
    Flag.withDescription("print the report of a journal that ends without RunEnded (exit 1) instead of refusing it (exit 2)")
  )
}, (args) => Effect.flatMap(lazily(() => import("./commands/report.ts")), (m) => m.report(args))).pipe(Command.withDescription(
    "rebuild the report of a run from its journal (verifies the hash chain, and the last hash recorded by a report.json beside it); " +
      "a journal without RunEnded exits 2 unless --allow-incomplete"
  ))

// `recover`: every fault that runs which are gone left open in the ledger (all drivers with an
// out-of-process reverter); with --docker, also what the Docker driver's marker volumes record
// (and helper containers), which needs only the engine.
const recover = Command.make("recover", {
  ledger: Flag.String("ledger").pipe(Flag.withDefault(FileLedger.DEFAULT_DIR), Flag.withDescription(`the ledger directory (default: ${FileLedger.DEFAULT_DIR})`)),
  docker: Flag.Boolean("docker").pipe(Flag.withDefault(false), Flag.withDescription("require the Docker scan (it runs anyway when the engine answers): an engine that does not answer is then an error")),
  runId: Flag.String("run").pipe(Flag.optional, Flag.withDescription("Docker: only this run id (default: every run whose runner is gone)")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("Docker: also revert faults whose runner process still looks alive on this host")),
  socket: Flag.String("docker-socket").pipe(Flag.optional, Flag.withDescription("the Docker Engine socket (default /var/run/docker.sock)")),
  json
}, (args) => Effect.flatMap(lazily(() => import("./commands/recover.ts")), (m) => m.recover(args))).pipe(Command.withDescription("revert every fault left open by runs that died (the ledger, and every target's own leftovers such as Docker markers and helpers); exit 0 when none is left"))

const drill = Command.make("drill", {
  runbook: Argument.String("runbook").pipe(Argument.withDescription("a Markdown runbook (runbooks/*.md)")),
  answers: Flag.String("answers").pipe(Flag.optional, Flag.withDescription("a YAML file of scripted answers: run without people (CI, tests)")),
  serve: Flag.String("serve").pipe(Flag.optional, Flag.withDescription("HOST:PORT for the web live view (e.g. 127.0.0.1:8080; beyond loopback needs an explicit host); its join link is printed")),
  name: Flag.String("name").pipe(Flag.optional, Flag.withDescription("your name, journaled as the drill's runner (default: the OS user)")),
  out,
  json
}, (args) =>
  Effect.flatMap(lazily(() => import("./commands/drill.ts")), (m) =>
    m.drill({
      runbook: args.runbook,
      answers: Option.getOrUndefined(args.answers),
      serve: Option.getOrUndefined(args.serve),
      name: Option.getOrUndefined(args.name),
      out: args.out,
      json: args.json
    }))).pipe(Command.withDescription("run a Markdown runbook as a drill: a terminal live view with keys, --answers for CI, --serve for the room; journal, reports and drill.md"))

const postmortem = Command.make("postmortem", {
  run: Argument.String("run").pipe(Argument.withDescription("a run folder (or its journal.jsonl)")),
  stdout: Flag.Boolean("stdout").pipe(Flag.withDefault(false), Flag.withDescription("print the draft instead of writing RUN/postmortem.md"))
}, (args) => Effect.flatMap(lazily(() => import("./commands/postmortem.ts")), (m) => m.postmortem(args))).pipe(
  Command.withDescription("write a Markdown postmortem draft of a run from its journal: impact, timeline, detection, RTO/RPO, deviations, action items")
)

// `evidence`: signed evidence packs of run folders (keygen, pack, verify).
const evidenceModule = () => lazily(() => import("./commands/evidence.ts"))
const keygen = Command.make("keygen", {
  out: Flag.String("out").pipe(Flag.withDefault("~/.faultline/evidence"), Flag.withDescription("the key files' base name: BASE.key and BASE.pub (default ~/.faultline/evidence)"))
}, (args) => Effect.flatMap(evidenceModule(), (m) => m.keygen({ out: args.out.replace(/^~(?=\/)/, os.homedir()) }))).pipe(
  Command.withDescription("make an Ed25519 key pair for signing packs (the private key 0600)")
)
const pack = Command.make("pack", {
  runs: Flag.String("runs").pipe(Flag.withDefault("faultline-runs"), Flag.withDescription("the directory of run folders (default: faultline-runs)")),
  out: Flag.String("out").pipe(Flag.withDescription("the pack file to write (a tar; refused if it exists)")),
  key: Flag.String("key").pipe(Flag.optional, Flag.withDescription("the private key (default ~/.faultline/evidence.key)")),
  from: Flag.String("from").pipe(Flag.optional, Flag.withDescription("only runs started at or after this date/time")),
  to: Flag.String("to").pipe(Flag.optional, Flag.withDescription("only runs started at or before this date/time")),
  keep: Flag.String("keep").pipe(Flag.optional, Flag.withDescription("after the pack verifies, remove the packed run folders older than this (e.g. 30d)"))
}, (args) => Effect.flatMap(evidenceModule(), (m) => m.pack(args))).pipe(Command.withDescription("bundle the journals and reports of runs into one signed tar"))
const verify = Command.make("verify", {
  pack: Argument.String("pack").pipe(Argument.withDescription("an evidence pack (.tar)")),
  key: Flag.String("key").pipe(Flag.optional, Flag.withDescription("the signer's public key you trust (without it, only the key the pack names is checked)")),
  json
}, (args) => Effect.flatMap(evidenceModule(), (m) => m.verify(args))).pipe(
  Command.withDescription("check a pack's signature and every file; names each changed, missing or added file (exit 2)")
)
const evidence = Command.make("evidence").pipe(
  Command.withDescription("signed evidence packs: journals and reports of runs with a manifest signed with Ed25519"),
  Command.withSubcommands([keygen, pack, verify])
)

// `schema`: the JSON Schema of experiment files, for editors
// (`# yaml-language-server: $schema=./faultline.schema.json`).
const schema = Command.make("schema", {}, () => Effect.flatMap(lazily(() => import("./commands/schema.ts")), (m) => m.schema())).pipe(Command.withDescription("print the JSON Schema of YAML/JSON experiment files (for editors: faultline schema > faultline.schema.json)"))

const cli = Command.make("faultline").pipe(
  Command.withDescription("chaos experiments and disaster-recovery drills as typed Effect programs"),
  Command.withSubcommands([run, plan, drill, demo, report, postmortem, recover, proxy, evidence, schema])
)

const layer = NodeServices.layer

// `faultline` alone and `faultline help [CMD]` print help and exit 0.
const argv = ((a: ReadonlyArray<string>): ReadonlyArray<string> =>
  a.length === 0 ? ["--help"] : a[0] === "help" ? [...a.slice(1), "--help"] : a)(process.argv.slice(2))

const main = Command.runWith(cli, { version: "0.1.0", renderErrors: false })(argv).pipe(
  Effect.catchTag("BadInput", (e) =>
    Effect.sync(() => {
      process.stderr.write(`faultline: ${e.message}\n`)
      state.exitCode = 2
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
      state.exitCode = isCli ? 2 : 1
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
    state.exitCode = 130
    // An interrupted run still wrote its report: say where, with the summary.
    const dir = state.runDir
    const file = dir === null ? null : path.join(dir, "report.json")
    if (dir !== null && file !== null && fs.existsSync(file)) {
      // The summary's renderer is loaded only here: no other path out of the CLI needs it.
      void import("./Summary.ts").then(({ summary }) => {
        try {
          process.stdout.write(`\n${summary(JSON.parse(fs.readFileSync(file, "utf8")), dir)}\n`)
        } catch {
          process.stdout.write(`\nreport: ${dir}\n`)
        }
      }, () => process.stdout.write(`\nreport: ${dir}\n`)).finally(() => process.exit(state.exitCode))
      return
    }
  }
  process.exit(state.exitCode)
})
