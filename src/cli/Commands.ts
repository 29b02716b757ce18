/**
 * The `faultline` command tree: run, plan, drill, demo, report, postmortem, recover, proxy,
 * evidence, schema, export, history, schedule, services, blast-radius, monitor, runner, submit
 * (names, flags, descriptions). Each command's module is imported when that command runs, so
 * `--help` and `run` load neither the demo, the proxy server nor the report renderer.
 *
 * @since 0.1.0
 */
import * as os from "node:os"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Argument, Command, Flag } from "effect/cli"
import * as FileLedger from "../run/FileLedger.ts"

const json = Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print the report as JSON on stdout"))
const out = Flag.String("out").pipe(Flag.withDefault("faultline-runs"), Flag.withDescription("directory for run folders (default: faultline-runs)"))

// A command's module, loaded when the command runs.
const lazily = <M>(load: () => Promise<M>) => Effect.promise(load)

const historyFlag = Flag.String("history").pipe(
  Flag.optional,
  Flag.withDescription("the run history: a SQLite file or a postgres:// URL (default: $FAULTLINE_HISTORY; `run` indexes into it only when one is given)")
)
const servicesFlag = Flag.String("services").pipe(
  Flag.optional,
  Flag.withDescription("the service catalog (default: $FAULTLINE_SERVICES, else ./services.yaml when it exists)")
)

const run = Command.make("run", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a .ts/.js module whose default export is an Experiment, or a .json/.yaml file")),
  json,
  out,
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDefault(false), Flag.withDescription("resolve targets and check guards; inject nothing")),
  history: historyFlag,
  services: servicesFlag,
  allowTier0: Flag.Boolean("allow-tier-0").pipe(
    Flag.withDefault(false),
    Flag.withDescription("run an experiment on a Tier 0 service (the catalog refuses it otherwise)")
  ),
  engine: Flag.Literals("engine", ["local", "fis"]).pipe(
    Flag.withDefault("local" as const),
    Flag.withDescription(
      "who injects: local (faultline's drivers, default) or fis (AWS FIS runs the template `export fis` writes; faultline observes, aborts, reverts)"
    )
  ),
  roleArn: Flag.String("role-arn").pipe(Flag.optional, Flag.withDescription("--engine fis: the IAM role FIS assumes")),
  stopAlarms: Flag.String("stop-alarm").pipe(
    Flag.atLeast(0),
    Flag.withDescription("--engine fis: a CloudWatch alarm ARN that stops the FIS experiment (repeatable)")
  ),
  junit: Flag.String("junit").pipe(
    Flag.optional,
    Flag.withDescription("also write JUnit XML of the run to this file (a test case per experiment, hypothesis phase and objective)")
  )
}, (args) => Effect.flatMap(lazily(() => import("./commands/run.ts")), (m) => m.run({ ...args, roleArn: Option.getOrUndefined(args.roleArn) }))).pipe(
  Command.withDescription("run an experiment and write journal.jsonl, report.json, report.md and report.html")
)

const plan = Command.make("plan", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a .ts/.js module whose default export is an Experiment, or a .json/.yaml file")),
  json
}, (args) => Effect.flatMap(lazily(() => import("./commands/run.ts")), (m) => m.plan(args))).pipe(
  Command.withDescription("resolve targets, check guards and print every call the experiment would make; changes nothing")
)

const demo = Command.make("demo", {
  json,
  out,
  lagMs: Flag.Int("lag-ms").pipe(Flag.withDefault(50), Flag.withDescription("replication lag of the primary, ms (default: 50)"))
}, (args) => Effect.flatMap(lazily(() => import("./commands/demo.ts")), (m) => m.demo(args))).pipe(
  Command.withDescription("run the kv-failover demo: add network latency, then kill the primary; measure RTO and RPO (no Docker, no AWS)")
)

const proxy = Command.make("proxy", {
  listen: Flag.String("listen").pipe(
    Flag.withDefault("127.0.0.1:8474"),
    Flag.withDescription(
      "host:port for the Toxiproxy-compatible API (default: 127.0.0.1:8474; port 0: a free one; :PORT means 127.0.0.1:PORT; beyond loopback needs an explicit host, e.g. 0.0.0.0:8474)"
    )
  ),
  token: Flag.Boolean("token").pipe(
    Flag.withDefault(true),
    Flag.withDescription(
      "writes need the API token (default); --no-token: they need none, for Toxiproxy clients that can send neither a header nor a base path (loopback only)"
    )
  ),
  tokenFile: Flag.String("token-file").pipe(
    Flag.optional,
    Flag.withDescription(
      "where to write the generated API token, 0600 (default ~/.faultline/proxy-PORT.token; not written when $FAULTLINE_PROXY_TOKEN gives the token)"
    )
  ),
  allowNonLoopbackProxies: Flag.Boolean("allow-non-loopback-proxies").pipe(
    Flag.withDefault(false),
    Flag.withDescription("let API clients create proxies listening beyond loopback (e.g. 0.0.0.0:0)")
  )
}, (args) => Effect.flatMap(lazily(() => import("./commands/proxy.ts")), (m) => m.proxy(args))).pipe(
  Command.withDescription("run the embedded Toxiproxy-compatible fault proxy on loopback (Ctrl-C stops it); writes need its API token")
)

const report = Command.make("report", {
  journal: Argument.String("journal").pipe(Argument.withDescription("a journal.jsonl file")),
  json,
  html: Flag.Boolean("html").pipe(Flag.withDefault(false), Flag.withDescription("print the self-contained HTML report (timeline and tables) on stdout")),
  junit: Flag.Boolean("junit").pipe(
    Flag.withDefault(false),
    Flag.withDescription("print JUnit XML on stdout: a test case per experiment, hypothesis phase and objective")
  ),
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
  ledger: Flag.String("ledger").pipe(
    Flag.withDefault(FileLedger.DEFAULT_DIR),
    Flag.withDescription(`the ledger directory (default: ${FileLedger.DEFAULT_DIR})`)
  ),
  docker: Flag.Boolean("docker").pipe(
    Flag.withDefault(false),
    Flag.withDescription("require the Docker scan (it runs anyway when the engine answers): an engine that does not answer is then an error")
  ),
  runId: Flag.String("run").pipe(Flag.optional, Flag.withDescription("Docker: only this run id (default: every run whose runner is gone)")),
  force: Flag.Boolean("force").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Docker: also revert faults whose runner process still looks alive on this host")
  ),
  socket: Flag.String("docker-socket").pipe(Flag.optional, Flag.withDescription("the Docker Engine socket (default /var/run/docker.sock)")),
  json
}, (args) => Effect.flatMap(lazily(() => import("./commands/recover.ts")), (m) => m.recover(args))).pipe(
  Command.withDescription(
    "revert every fault left open by runs that died (the ledger, and every target's own leftovers such as Docker markers and helpers); exit 0 when none is left"
  )
)

const drill = Command.make("drill", {
  runbook: Argument.String("runbook").pipe(Argument.withDescription("a Markdown runbook (runbooks/*.md)")),
  answers: Flag.String("answers").pipe(Flag.optional, Flag.withDescription("a YAML file of scripted answers: run without people (CI, tests)")),
  serve: Flag.String("serve").pipe(
    Flag.optional,
    Flag.withDescription("HOST:PORT for the web live view (e.g. 127.0.0.1:8080; beyond loopback needs an explicit host); its join link is printed")
  ),
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
    }))).pipe(
    Command.withDescription(
      "run a Markdown runbook as a drill: a terminal live view with keys, --answers for CI, --serve for the room; journal, reports and drill.md"
    )
  )

const postmortem = Command.make("postmortem", {
  run: Argument.String("run").pipe(Argument.withDescription("a run folder (or its journal.jsonl)")),
  stdout: Flag.Boolean("stdout").pipe(Flag.withDefault(false), Flag.withDescription("print the draft instead of writing RUN/postmortem.md"))
}, (args) => Effect.flatMap(lazily(() => import("./commands/postmortem.ts")), (m) => m.postmortem(args))).pipe(
  Command.withDescription("write a Markdown postmortem draft of a run from its journal: impact, timeline, detection, RTO/RPO, deviations, action items")
)

// `evidence`: signed evidence packs of run folders (keygen, pack, verify).
const evidenceModule = () => lazily(() => import("./commands/evidence.ts"))
const keygen = Command.make("keygen", {
  out: Flag.String("out").pipe(
    Flag.withDefault("~/.faultline/evidence"),
    Flag.withDescription("the key files' base name: BASE.key and BASE.pub (default ~/.faultline/evidence)")
  )
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

const history = Command.make("history", {
  history: historyFlag,
  out,
  service: Flag.String("service").pipe(Flag.optional, Flag.withDescription("only runs of this catalog service")),
  experiment: Flag.String("experiment").pipe(Flag.optional, Flag.withDescription("only runs of this experiment")),
  since: Flag.String("since").pipe(Flag.optional, Flag.withDescription("only runs since this ISO date, or this long ago (\"30 days\")")),
  window: Flag.String("window").pipe(Flag.withDefault("7 days"), Flag.withDescription("the length of each window of the table (default: 7 days)")),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print the figures as JSON")),
  reindex: Flag.Boolean("reindex").pipe(
    Flag.withDefault(false),
    Flag.withDescription("rebuild the index from the run folders under --out (they are the source of truth)")
  )
}, (args) => Effect.flatMap(lazily(() => import("./commands/history.ts")), (m) => m.history(args))).pipe(Command.withDescription(
  "the run history: pass rate, RTO/RPO p50/p95 and trend, MTTR, MTBF, availability per window (default database <out>/history.db); --reindex rebuilds it"
))

const schedule = Command.make("schedule", {
  drills: Argument.String("drills").pipe(
    Argument.withDescription("a drills file (YAML or JSON): drills, cron or unannounced windows, freeze and allowed windows")
  ),
  once: Flag.Boolean("once").pipe(
    Flag.withDefault(false),
    Flag.withDescription("one pass for an external timer (cron, systemd, a Kubernetes CronJob): run what is due, then exit")
  ),
  grace: Flag.String("grace").pipe(
    Flag.withDefault("1 minute"),
    Flag.withDescription("--once: fire drills whose time fell within this long before now (default: 1 minute)")
  ),
  services: servicesFlag
}, (args) => Effect.flatMap(lazily(() => import("./commands/schedule.ts")), (m) => m.schedule({ ...args, services: Option.getOrUndefined(args.services) })))
  .pipe(
    Command.withDescription(
      "run drills on their schedules, skipping (and journaling why) in freezes, outside allowed windows, on leased targets or spent budgets; SIGTERM reverts the running drill"
    )
  )

const services = Command.make(
  "services",
  { services: servicesFlag, json },
  (args) => Effect.flatMap(lazily(() => import("./commands/services.ts")), (m) => m.services({ ...args, services: Option.getOrUndefined(args.services) }))
).pipe(
  Command.withDescription("print the service catalog: tiers, owners, dependencies, SLOs and the RTO/RPO objectives each service inherits")
)

const blastRadius = Command.make("blast-radius", {
  service: Argument.String("service").pipe(Argument.withDescription("a service of the catalog")),
  services: servicesFlag,
  json
}, (args) => Effect.flatMap(lazily(() => import("./commands/services.ts")), (m) => m.blastRadius({ ...args, services: Option.getOrUndefined(args.services) })))
  .pipe(
    Command.withDescription("print every service that depends on SERVICE, directly or transitively, and the most critical tier among them")
  )

const monitor = Command.make("monitor", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a YAML/JSON experiment file whose hypotheses are sampled (its method is not run)")),
  history: historyFlag,
  out,
  bucket: Flag.String("bucket").pipe(Flag.withDefault("10 seconds"), Flag.withDescription("how long each recorded good/total bucket is (default: 10 seconds)")),
  duration: Flag.String("duration").pipe(Flag.optional, Flag.withDescription("stop after this long (default: until Ctrl-C or SIGTERM)"))
}, (args) => Effect.flatMap(lazily(() => import("./commands/monitor.ts")), (m) => m.monitor(args))).pipe(
  Command.withDescription(
    "synthetic monitoring: sample an experiment file's hypotheses continuously and record good/total events per bucket into the history (the `monitor` SLI)"
  )
)

// `schema`: the JSON Schema of experiment files, for editors
// (`# yaml-language-server: $schema=./faultline.schema.json`).
const schema = Command.make("schema", {}, () => Effect.flatMap(lazily(() => import("./commands/schema.ts")), (m) => m.schema())).pipe(
  Command.withDescription("print the JSON Schema of YAML/JSON experiment files (for editors: faultline schema > faultline.schema.json)")
)

// `export fis`: an FIS experiment template of the faults FIS can run, and what it cannot express.
const fis = Command.make("fis", {
  experiment: Argument.String("experiment").pipe(Argument.withDescription("a .yaml/.json experiment file")),
  out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("write the template here (default: stdout)")),
  roleArn: Flag.String("role-arn").pipe(Flag.optional, Flag.withDescription("the IAM role FIS assumes (default: a placeholder to replace)")),
  stopAlarms: Flag.String("stop-alarm").pipe(Flag.atLeast(0), Flag.withDescription("a CloudWatch alarm ARN that stops the experiment (repeatable)")),
  region: Flag.String("region").pipe(Flag.optional, Flag.withDescription("region of targets selected by id (to write their ARNs)")),
  account: Flag.String("account").pipe(Flag.optional, Flag.withDescription("account of targets selected by id (to write their ARNs)")),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print { template, exported, unsupported } as JSON"))
}, (args) =>
  Effect.flatMap(lazily(() => import("./commands/export.ts")), (m) =>
    m.fis({
      ...args,
      out: Option.getOrUndefined(args.out),
      roleArn: Option.getOrUndefined(args.roleArn),
      region: Option.getOrUndefined(args.region),
      account: Option.getOrUndefined(args.account)
    }))).pipe(
    Command.withDescription("write the AWS FIS experiment template of an experiment file; lists what FIS cannot express; exit 2 when nothing can be exported")
  )

const exportCmd = Command.make("export").pipe(
  Command.withDescription("export an experiment to another engine (fis: AWS Fault Injection Service)"),
  Command.withSubcommands([fis])
)

// Durable drills shared by several runners: the cluster's state lives in PostgreSQL.
const dbFlag = Flag.String("db").pipe(
  Flag.withDescription("the cluster's PostgreSQL (postgres://user:password@host:port/db); needs the optional package @effect/sql-pg")
)
const runnerCmd = Command.make(
  "runner",
  {
    db: dbFlag,
    listen: Flag.String("listen").pipe(
      Flag.withDefault("127.0.0.1:34431"),
      Flag.withDescription(
        "HOST:PORT other runners reach this one at (default 127.0.0.1:34431; the cluster's traffic is not authenticated: keep it on a private network)"
      )
    ),
    out,
    name: Flag.String("name").pipe(Flag.optional, Flag.withDescription("this runner's name in journals (default HOST:PORT)")),
    schedule: Flag.String("schedule").pipe(
      Flag.optional,
      Flag.withDescription("a drills file shared with the other runners: every firing runs once in the cluster")
    )
  },
  (args) =>
    Effect.flatMap(
      lazily(() => import("./commands/runner.ts")),
      (m) => m.runner({ ...args, name: Option.getOrUndefined(args.name), schedule: Option.getOrUndefined(args.schedule) })
    )
).pipe(
  Command.withDescription("join the durable cluster: carry out drills, resume those of runners that died, share a schedule")
)
const submitCmd = Command.make(
  "submit",
  {
    file: Argument.String("file").pipe(Argument.withDescription("a Markdown runbook or an experiment file/module (a path every runner can read)")),
    db: dbFlag,
    answers: Flag.String("answers").pipe(
      Flag.optional,
      Flag.withDescription("scripted answers for the runbook's human steps (a durable drill has no terminal)")
    ),
    key: Flag.String("key").pipe(
      Flag.optional,
      Flag.withDescription("the drill's key: submitting the same key again joins the same drill (default: file and time)")
    ),
    json
  },
  (args) =>
    Effect.flatMap(
      lazily(() => import("./commands/runner.ts")),
      (m) => m.submit({ ...args, answers: Option.getOrUndefined(args.answers), key: Option.getOrUndefined(args.key) })
    )
).pipe(
  Command.withDescription("hand a drill to the durable cluster's runners and wait for its verdict")
)

/**
 * The command tree: every command's name, flags and description.
 *
 * @since 0.1.0
 */
export const cli = Command.make("faultline").pipe(
  Command.withDescription("chaos experiments and disaster-recovery drills as typed Effect programs"),
  Command.withSubcommands([
    run,
    plan,
    drill,
    demo,
    report,
    postmortem,
    recover,
    proxy,
    evidence,
    schema,
    exportCmd,
    history,
    schedule,
    services,
    blastRadius,
    monitor,
    runnerCmd,
    submitCmd
  ])
)
