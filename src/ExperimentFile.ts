/**
 * Experiment files (JSON or YAML), decoded by Schema into an Experiment. A bad field is
 * reported with its path; nothing is started or touched before the whole file decodes.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as YAML from "yaml"
import * as Abort from "./core/Abort.ts"
import * as Experiment from "./core/Experiment.ts"
import * as Fault from "./core/Fault.ts"
import { Guard } from "./core/Guard.ts"
import * as GuardModule from "./core/Guard.ts"
import * as Hypothesis from "./core/Hypothesis.ts"
import { Run } from "./core/Run.ts"
import * as SloSpec from "./core/SloSpec.ts"
import * as Strict from "./core/internal/strict.ts"
import type * as Probe from "./core/Probe.ts"
import * as Selector from "./core/Selector.ts"
import * as Stopwatch from "./core/Stopwatch.ts"
import * as Tolerance from "./core/Tolerance.ts"
import * as Integrations from "./integrations.ts"
import * as Probes from "./probes/index.ts"

/**
 * A duration as files write it (`"500 millis"`, `"2 seconds"`).
 *
 * @since 0.1.0
 */
export const DurationText = Schema.String.check(
  Schema.makeFilter((s: string) => {
    try {
      Duration.fromInputUnsafe(s as Duration.Input)
      return /^\d+(\.\d+)? (nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/.test(s) ||
        `expected a duration such as "500 millis" or "2 seconds", got ${JSON.stringify(s)}`
    } catch {
      return `expected a duration such as "500 millis" or "2 seconds", got ${JSON.stringify(s)}`
    }
  })
)

// Guards in a file: `changeFreeze: [{ from, to, reason }]`, `allowLabel: { key, value }`,
// `maxTargets: 3`, `environment: { variable, allowed }`; the tagged form (`_tag: ...`) too.
const FreezeWindow = Schema.Struct({ from: Schema.String, to: Schema.String, reason: Schema.optionalKey(Schema.String) })
const FileGuard = Schema.Union([
  Guard,
  Schema.Struct({ changeFreeze: Schema.Array(FreezeWindow).check(Schema.isMinLength(1)) }),
  Schema.Struct({ allowLabel: Schema.Struct({ key: Schema.String, value: Schema.optionalKey(Schema.String) }) }),
  Schema.Struct({ maxTargets: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)) }),
  Schema.Struct({ environment: Schema.Struct({ variable: Schema.String, allowed: Schema.Array(Schema.String) }) }),
  // Refuse at plan time unless this share (0..1) of the SLO's error budget is left.
  Schema.Struct({
    errorBudget: Schema.Struct({ slo: SloSpec.Slo, minRemaining: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1)) })
  })
])
type FileGuard = typeof FileGuard.Type

const toGuard = (g: FileGuard): Guard =>
  "_tag" in g ?
    g
    : "changeFreeze" in g ?
    GuardModule.changeFreeze(g.changeFreeze)
    : "allowLabel" in g ?
    GuardModule.allowLabel(g.allowLabel.key, g.allowLabel.value ?? "true")
    : "maxTargets" in g ?
    GuardModule.maxTargets(g.maxTargets)
    : "errorBudget" in g ?
    GuardModule.errorBudget(g.errorBudget)
    : GuardModule.environment(g.environment.variable, g.environment.allowed)

/**
 * The guards a file declares, as guards.
 *
 * @since 0.1.0
 */
export const guardsOf = (f: { readonly guards?: ReadonlyArray<FileGuard> | undefined }): ReadonlyArray<Guard> => (f.guards ?? []).map(toGuard)

const FileSelector = Schema.Struct({
  all: Schema.optionalKey(Schema.Literal(true)),
  id: Schema.optionalKey(Schema.Array(Schema.String)),
  name: Schema.optionalKey(Schema.Array(Schema.String)),
  label: Schema.optionalKey(Schema.Struct({ key: Schema.String, value: Schema.String })),
  regex: Schema.optionalKey(Tolerance.ValidRegex),
  count: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  percent: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100 }))),
  random: Schema.optionalKey(Schema.Struct({ n: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)), seed: Schema.Int })),
  cap: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))
}).check(Schema.makeFilter((s) => {
  const kinds = ["all", "id", "name", "label", "regex"].filter((k) => (s as Record<string, unknown>)[k] !== undefined)
  return kinds.length === 1 || `a target needs exactly one of all, id, name, label, regex (got ${kinds.length === 0 ? "none" : kinds.join(", ")})`
}))
type FileSelector = typeof FileSelector.Type

const toSelector = (s: FileSelector): Selector.Selector => {
  let sel = s.all ?
    Selector.all
    : s.id ?
    Selector.id(...s.id)
    : s.name ?
    Selector.name(...s.name)
    : s.label ?
    Selector.label(s.label.key, s.label.value)
    : Selector.regex(s.regex!)
  if (s.count !== undefined) sel = Selector.count(sel, s.count)
  if (s.percent !== undefined) sel = Selector.percent(sel, s.percent)
  if (s.random !== undefined) sel = Selector.random(sel, s.random.n, s.random.seed)
  if (s.cap !== undefined) sel = Selector.cap(sel, s.cap)
  return sel
}

/**
 * What an experiment from a file requires: the drivers its faults name, known only once the
 * file is read, so open here; the CLI provides them from the integration list.
 *
 * @since 0.1.0
 */
export type FileRequirements = unknown

// The decoded shape of a file fault before it becomes its class: the tag, the file selector
// and the class's own fields.
interface FileFaultFields {
  readonly fault: string
  readonly target: FileSelector
  readonly [field: string]: unknown
}

// A fault in a file is its class's fields under `fault: <tag>`, with a file selector for
// `target`. The union is generated from the integration list and decodes straight into the
// fault classes, so a new integration's faults are accepted with no change here.
const fileFault = (tag: string, cls: Fault.FaultClass) => {
  const { _tag: _t, target: _s, ...fields } = cls.fields
  return Schema.Struct({ fault: Schema.Literal(tag), target: FileSelector, ...fields }).pipe(
    Schema.decodeTo(cls as unknown as Schema.Codec<Fault.Fault<unknown>, unknown>, {
      decode: SchemaGetter.transform(({ fault, target, ...rest }: FileFaultFields) => ({ ...rest, _tag: fault, target: toSelector(target) })),
      encode: SchemaGetter.forbidden(() => "a fault is not written back to a file")
    })
  )
}

/**
 * A fault as files write it: `fault: <tag>`, a file selector as `target`, the class's own
 * fields; decodes into the fault class of any integration.
 *
 * @since 0.1.0
 */
export const FileFault = Schema.Union(Integrations.faultClasses.map(({ tag, cls }) => fileFault(tag, cls)))

/**
 * The integrations whose faults a decoded file injects (the CLI provides their drivers).
 *
 * @since 0.1.0
 */
export const integrationsOf = (f: ExperimentFile): ReadonlyArray<string> => [
  ...new Set(f.method.flatMap((step) => "inject" in step ? [Integrations.ofFault(step.inject)?.name ?? ""] : []).filter((n) => n !== ""))
]

// A probe's URL, host or port may name a process' captured port, `${NAME.port}`: resolved at
// every sample, so the probe follows a process that a restart moved to another port.
const FileProbe = Schema.Union([
  Schema.Struct({
    http: Schema.Struct({
      url: Schema.String,
      timeout: Schema.optionalKey(DurationText),
      method: Schema.optionalKey(Schema.String),
      expect: Schema.optionalKey(Schema.Array(Schema.Int))
    })
  }),
  Schema.Struct({
    tcp: Schema.Struct({ host: Schema.String, port: Schema.Union([Schema.Int, Schema.String]), timeout: Schema.optionalKey(DurationText) })
  }),
  Schema.Struct({
    command: Schema.Struct({ command: Schema.String, args: Schema.optionalKey(Schema.Array(Schema.String)), timeout: Schema.optionalKey(DurationText) })
  }),
  /** A DNS answer from the given resolvers (`["127.0.0.1:5353"]`); good only when it holds every `expect`ed value. */
  Schema.Struct({
    dns: Schema.Struct({
      name: Schema.String,
      servers: Schema.Array(Schema.String).check(Schema.isMinLength(1)),
      type: Schema.optionalKey(Schema.Literals(["A", "AAAA", "CNAME", "TXT"])),
      expect: Schema.optionalKey(Schema.Array(Schema.String)),
      timeout: Schema.optionalKey(DurationText)
    })
  })
])
type FileProbe = typeof FileProbe.Type

const { text, port: portOf } = Integrations.FileProcesses

const toProbe = (p: FileProbe): Probe.Probe<unknown> =>
  "http" in p
    ? Probes.http(text(p.http.url), { ...p.http, timeout: p.http.timeout as Duration.Input | undefined })
    : "tcp" in p
    ? Probes.tcp(text(p.tcp.host), portOf(p.tcp.port), { timeout: p.tcp.timeout as Duration.Input | undefined })
    : "dns" in p
    ? Probes.dns(p.dns.name, {
      servers: p.dns.servers,
      ...(p.dns.type ? { type: p.dns.type } : {}),
      ...(p.dns.expect ? { expect: p.dns.expect } : {}),
      ...(p.dns.timeout ? { timeout: p.dns.timeout as Duration.Input } : {})
    })
    : Probes.command(p.command.command, p.command.args ?? [], { timeout: p.command.timeout as Duration.Input | undefined })

/**
 * A hypothesis as files write it.
 *
 * @since 0.1.0
 */
export const FileHypothesis = Schema.Struct({
  name: Schema.String,
  probe: FileProbe,
  every: Schema.optionalKey(DurationText),
  samples: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  tolerance: Schema.optionalKey(Schema.Array(Tolerance.ToleranceSpec).check(Schema.isMinLength(1))),
  /** During the method: `observe` (reported, not judged) or a relaxed tolerance. */
  during: Schema.optionalKey(Schema.Union([Schema.Literal("observe"), Schema.Array(Tolerance.ToleranceSpec).check(Schema.isMinLength(1))]))
})

const FileStep = Schema.Union([
  Schema.Struct({ inject: FileFault }),
  Schema.Struct({ sleep: DurationText })
])

/**
 * An abort condition as files write it.
 *
 * @since 0.1.0
 */
export const FileAbort = Schema.Union([
  Schema.Struct({ maxDuration: DurationText }),
  Schema.Struct({ breach: Schema.Struct({ hypothesis: Schema.String, below: Schema.Number, over: DurationText }) }),
  Schema.Struct({ signals: Schema.Literal(true) }),
  Schema.Struct({
    burnRate: Schema.Struct({
      slo: SloSpec.Slo,
      factor: Schema.Number.check(Schema.isGreaterThan(0)),
      window: DurationText,
      every: Schema.optionalKey(DurationText)
    })
  })
])

/**
 * The shape of an experiment file.
 *
 * @since 0.1.0
 */
export const ExperimentFile = Schema.Struct({
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  /** The catalog service it exercises (`services.yaml`): its tier's RTO/RPO objectives are inherited. */
  service: Schema.optionalKey(Schema.String),
  processes: Schema.optionalKey(Schema.Array(Integrations.FileProcesses.Item)),
  hypothesis: Schema.Array(FileHypothesis).check(Schema.isMinLength(1)),
  method: Schema.Array(FileStep),
  abort: Schema.optionalKey(Schema.Array(FileAbort)),
  stopwatches: Schema.optionalKey(Schema.Struct({
    rto: Schema.optionalKey(Schema.Struct({
      hypothesis: Schema.String,
      stableFor: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))
    }))
  })),
  objectives: Schema.optionalKey(Schema.Struct({ rto: Schema.optionalKey(DurationText), rpo: Schema.optionalKey(DurationText) })),
  guards: Schema.optionalKey(Schema.Array(FileGuard)),
  /** Allow faults that cannot be reverted (`docker.remove`). */
  irreversible: Schema.optionalKey(Schema.Boolean),
  /** `guards` replace the faults' default guards (Docker's allow label, AWS's allow tag) instead of adding to them. */
  replaceDefaultGuards: Schema.optionalKey(Schema.Boolean)
})
/** @since 0.1.0 */
export type ExperimentFile = typeof ExperimentFile.Type

/**
 * The experiment file is malformed: `problem` names the bad field and its path.
 *
 * @since 0.1.0
 */
export class ExperimentFileInvalid extends Schema.TaggedError<ExperimentFileInvalid>()("ExperimentFileInvalid", {
  file: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `${this.file}: ${this.problem}`
  }
}

/**
 * Parses and decodes an experiment file's text.
 *
 * @since 0.1.0
 */
export const decode = (file: string, text: string): Effect.Effect<ExperimentFile, ExperimentFileInvalid> =>
  Effect.gen(function*() {
    const raw = yield* Effect.try({
      try: () => file.endsWith(".json") ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true }),
      catch: (e) => new ExperimentFileInvalid({ file, problem: `not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}` })
    })
    // Unknown keys first, judged against the format itself: a typo must never run with its
    // objective, tolerance or abort condition silently gone.
    const unknown = Strict.unknownKeys(ExperimentFile, raw)
    if (unknown !== undefined) return yield* new ExperimentFileInvalid({ file, problem: unknown })
    const decoded = yield* Schema.decodeUnknownEffect(ExperimentFile)(raw, { onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => new ExperimentFileInvalid({ file, problem: Strict.oneLine(e.issue) }))
    )
    const names = new Set(decoded.hypothesis.map((h) => h.name))
    const everyOf = (name: string) => {
      const h = decoded.hypothesis.find((x) => x.name === name)
      return Duration.toMillis(Duration.fromInputUnsafe((h?.every ?? "100 millis") as Duration.Input))
    }
    const dangling = [
      ...decoded.hypothesis.flatMap((h, i) => addressProblems(decoded, h.probe, `hypothesis[${i}].probe`)),
      // A breach window must hold at least two samples, or it cannot tell a blip from a breach.
      ...(decoded.abort ?? []).flatMap((a, i) => {
        if (!("breach" in a) || !names.has(a.breach.hypothesis)) return []
        const overMs = Duration.toMillis(Duration.fromInputUnsafe(a.breach.over as Duration.Input))
        const everyMs = everyOf(a.breach.hypothesis)
        return overMs < 2 * everyMs
          ? [`a breach window of ${overMs} ms cannot be judged with a probe every ${everyMs} ms (needs at least ${2 * everyMs} ms) at abort[${i}].breach.over`]
          : []
      }),
      ...(decoded.abort ?? []).flatMap((a, i) =>
        "breach" in a && !names.has(a.breach.hypothesis) ? [`no hypothesis named ${JSON.stringify(a.breach.hypothesis)} at abort[${i}].breach.hypothesis`] : []
      ),
      ...(decoded.objectives?.rpo !== undefined
        ? [
          "an RPO objective needs a heartbeat writer to measure it, which files cannot declare yet (write the experiment in TypeScript with Stopwatch.heartbeat) at objectives.rpo"
        ]
        : []),
      ...(decoded.stopwatches?.rto && !names.has(decoded.stopwatches.rto.hypothesis)
        ? [`no hypothesis named ${JSON.stringify(decoded.stopwatches.rto.hypothesis)} at stopwatches.rto.hypothesis`]
        : [])
    ]
    if (dangling.length > 0) return yield* new ExperimentFileInvalid({ file, problem: dangling.join("; ") })
    return decoded
  })

// Every `${NAME.port}` in a probe must name a declared process whose `ready` pattern
// captures the port; found at load, before anything starts.
const addressProblems = (f: ExperimentFile, probe: FileProbe, at: string): ReadonlyArray<string> => {
  const fields: ReadonlyArray<readonly [string, unknown]> = "http" in probe
    ? [["http.url", probe.http.url]]
    : "tcp" in probe
    ? [["tcp.host", probe.tcp.host], ["tcp.port", probe.tcp.port]]
    : []
  return fields.flatMap(([field, value]) => Integrations.FileProcesses.addressProblems(f.processes ?? [], field, value, `${at}.${field}`))
}

/**
 * Reads and decodes an experiment file.
 *
 * @since 0.1.0
 */
export const load = (file: string): Effect.Effect<ExperimentFile, ExperimentFileInvalid> =>
  Effect.flatMap(
    Effect.try({
      try: () => fs.readFileSync(file, "utf8"),
      catch: (e) => new ExperimentFileInvalid({ file, problem: `cannot read: ${(e as Error).message}` })
    }),
    (text) => decode(file, text)
  )

/**
 * The hypotheses of a file (experiment or runbook) as Hypothesis values.
 *
 * @since 0.1.0
 */
export const toHypotheses = (hs: ReadonlyArray<typeof FileHypothesis.Type>): ReadonlyArray<Hypothesis.Hypothesis<unknown>> =>
  hs.map((h) =>
    Hypothesis.make(h.name, {
      probe: toProbe(h.probe),
      ...(h.every ? { every: h.every as Duration.Input } : {}),
      ...(h.samples ? { samples: h.samples } : {}),
      ...(h.tolerance ? { tolerance: Tolerance.all(...h.tolerance) } : {}),
      ...(h.during === undefined ? {} : { during: h.during === "observe" ? "observe" as const : Tolerance.all(...h.during) })
    })
  )

/**
 * The abort conditions of a file, over its hypotheses (names already checked).
 *
 * @since 0.1.0
 */
export const toAborts = (
  aborts: ReadonlyArray<typeof FileAbort.Type>,
  hyps: ReadonlyArray<Hypothesis.Hypothesis<unknown>>
): ReadonlyArray<Abort.AbortCondition<unknown>> =>
  aborts.map((a) =>
    "maxDuration" in a ?
      Abort.maxDuration(a.maxDuration as Duration.Input)
      : "breach" in a ?
      Abort.breach(hyps.find((h) => h.name === a.breach.hypothesis)!, { below: a.breach.below, over: a.breach.over as Duration.Input })
      : "burnRate" in a ?
      Abort.burnRate({ ...a.burnRate, window: a.burnRate.window as Duration.Input, every: a.burnRate.every as Duration.Input | undefined })
      : Abort.signals()
  )

/**
 * Turns a decoded file into an Experiment (its processes are started separately, by
 * `startProcesses`). Which drivers it requires is data (its faults' integrations), so the
 * type cannot say it: `R` is what the caller provides (the CLI: `Integrations.layerFor`).
 *
 * @since 0.1.0
 */
export const toExperiment = <R = never>(f: ExperimentFile): Experiment.Experiment<R> => {
  const hyps = toHypotheses(f.hypothesis)
  const byName = (n: string) => hyps.find((h) => h.name === n)!
  const method = Effect.forEach(f.method, (step) => "inject" in step ? Effect.asVoid(Fault.inject(step.inject)) : Effect.sleep(step.sleep as Duration.Input), {
    discard: true
  })
  const rto = f.stopwatches?.rto
  const experiment = Experiment.make({
    name: f.name,
    ...(f.description ? { description: f.description } : {}),
    hypothesis: hyps,
    method,
    abort: toAborts(f.abort ?? [], hyps),
    ...(rto ? { stopwatches: { rto: Stopwatch.rto(byName(rto.hypothesis), rto.stableFor ? { stableFor: rto.stableFor } : {}) } } : {}),
    objectives: {
      ...(f.objectives?.rto ? { rto: f.objectives.rto as Duration.Input } : {}),
      ...(f.objectives?.rpo ? { rpo: f.objectives.rpo as Duration.Input } : {})
    },
    ...(f.guards ? { guards: f.guards.map(toGuard) } : {}),
    ...(f.irreversible ? { irreversible: true } : {}),
    ...(f.replaceDefaultGuards ? { replaceDefaultGuards: true } : {}),
    ...(f.service ? { service: f.service } : {})
  })
  // Only the phantom requirement changes: the caller vouches for the drivers it provides.
  return experiment as Experiment.Experiment<R>
}

/**
 * Resolves the targets of every fault the file injects (read-only discovery), so that a
 * selector that matches nothing is refused before any probe runs or any fault lands.
 *
 * @since 0.1.0
 */
export const resolveTargets = (f: ExperimentFile): Effect.Effect<void, ResolveFailed, FileRequirements> =>
  Effect.forEach(f.method, (step, i) =>
    "inject" in step
      ? Effect.gen(function*() {
        const fault = step.inject
        const driver = yield* fault.driver
        const candidates = yield* driver.discover(fault)
        // A selection over the cap is a refusal the run journals, not bad input.
        yield* Selector.select(fault.target, candidates).pipe(Effect.catchTag("CapExceeded", () => Effect.void))
      }).pipe(Effect.mapError((e) => new ResolveFailed({ path: `method[${i}].inject.target`, detail: e.message })))
      : Effect.void, { discard: true })

/**
 * Plans every fault the file injects — targets resolved, guards checked, each journaled —
 * before any probe runs: a guard's refusal ends the run `refused` with nothing touched.
 *
 * @since 0.1.0
 */
export const plan = (f: ExperimentFile): Effect.Effect<void, unknown, FileRequirements> =>
  Effect.forEach(f.method, (step) => "inject" in step ? Effect.asVoid(Fault.plan(step.inject)) : Effect.void, { discard: true })

/**
 * Whether a guard that judges only the circumstances (change freeze, environment) refuses
 * the run: then not even the file's processes are started.
 *
 * @since 0.1.0
 */
export const refusedUpFront = (f: ExperimentFile): Effect.Effect<boolean> =>
  Effect.map(
    Effect.forEach((f.guards ?? []).map(toGuard).filter((g) => !GuardModule.needsTargets(g)), (g) => Effect.result(GuardModule.check(g, []))),
    (results) => results.some((r) => r._tag === "Failure")
  )

/**
 * A fault's targets could not be resolved (none matched, too many, or discovery failed).
 *
 * @since 0.1.0
 */
export class ResolveFailed extends Schema.TaggedError<ResolveFailed>()("ResolveFailed", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.detail} at ${this.path}`
  }
}

/**
 * Starts the processes an experiment file declares, through the process driver.
 *
 * @since 0.1.0
 */
export const startProcesses = <E = never, R = never>(
  f: ExperimentFile,
  /** Called as each process has started (the CLI records it in the ledger for the watchdog). */
  onStarted?: (p: Integrations.FileProcesses.Started) => Effect.Effect<void, E, R>
) => Integrations.FileProcesses.start(f.processes ?? [], onStarted)

/**
 * For a dry run: the process driver, plus the file's `processes:` as targets that were
 * declared but not started (no pid), so process faults resolve without starting anything.
 *
 * @since 0.1.0
 */
export const declaredProcesses = (
  f: ExperimentFile
): Layer.Layer<Integrations.FileProcesses.Requirement, never, Integrations.FileProcesses.Requirement> => Integrations.FileProcesses.declared(f.processes ?? [])

/**
 * For a dry run: journals that the file's processes were not started (its method runs this
 * first), so the plan says what it did not do.
 *
 * @since 0.1.0
 */
export const notStarted = (f: ExperimentFile): Effect.Effect<void, never, Run> => Integrations.FileProcesses.notStarted(f.processes ?? [])
