/**
 * Experiment files (JSON or YAML), decoded by Schema into an Experiment. A bad field is
 * reported with its path; nothing is started or touched before the whole file decodes.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import { Duration, Effect, Schema, SchemaGetter } from "effect"
import * as YAML from "yaml"
import * as Abort from "./core/Abort.ts"
import * as Experiment from "./core/Experiment.ts"
import * as Fault from "./core/Fault.ts"
import { Guard } from "./core/Guard.ts"
import * as Hypothesis from "./core/Hypothesis.ts"
import * as Strict from "./core/internal/strict.ts"
import type * as Probe from "./core/Probe.ts"
import * as Selector from "./core/Selector.ts"
import * as Stopwatch from "./core/Stopwatch.ts"
import * as Tolerance from "./core/Tolerance.ts"
import * as Integrations from "./integrations.ts"
import * as Probes from "./probes/index.ts"
import * as Process from "./targets/process/index.ts"

const DurationText = Schema.String.check(
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
  const kinds = ["all", "id", "name", "label", "regex"].filter((k) => (s as any)[k] !== undefined)
  return kinds.length === 1 || `a target needs exactly one of all, id, name, label, regex (got ${kinds.length === 0 ? "none" : kinds.join(", ")})`
}))
type FileSelector = typeof FileSelector.Type

const toSelector = (s: FileSelector): Selector.Selector => {
  let sel = s.all ? Selector.all
    : s.id ? Selector.id(...s.id)
    : s.name ? Selector.name(...s.name)
    : s.label ? Selector.label(s.label.key, s.label.value)
    : Selector.regex(s.regex!)
  if (s.count !== undefined) sel = Selector.count(sel, s.count)
  if (s.percent !== undefined) sel = Selector.percent(sel, s.percent)
  if (s.random !== undefined) sel = Selector.random(sel, s.random.n, s.random.seed)
  if (s.cap !== undefined) sel = Selector.cap(sel, s.cap)
  return sel
}

// A fault in a file is its class's fields under `fault: <tag>`, with a file selector for
// `target`. The union is generated from the integration list and decodes straight into the
// fault classes, so a new integration's faults are accepted with no change here.
const fileFault = (tag: string, cls: Fault.FaultClass) => {
  const { _tag: _t, target: _s, ...fields } = cls.fields
  return Schema.Struct({ fault: Schema.Literal(tag), target: FileSelector, ...fields }).pipe(
    Schema.decodeTo(cls as unknown as Schema.Codec<Fault.Fault<any>, unknown>, {
      decode: SchemaGetter.transform(({ fault, target, ...rest }: any) => ({ ...rest, _tag: fault, target: toSelector(target) })),
      encode: SchemaGetter.forbidden(() => "a fault is not written back to a file")
    })
  )
}

const FileFault = Schema.Union(Integrations.faultClasses.map(({ tag, cls }) => fileFault(tag, cls)))

/**
 * The integrations whose faults a decoded file injects (the CLI provides their drivers).
 *
 * @since 0.1.0
 */
export const integrationsOf = (f: ExperimentFile): ReadonlyArray<string> => [
  ...new Set(f.method.flatMap((step) => "inject" in step ? [Integrations.ofFault(step.inject)?.name ?? ""] : []).filter((n) => n !== ""))
]

const FileProbe = Schema.Union([
  Schema.Struct({
    http: Schema.Struct({
      url: Schema.String,
      timeout: Schema.optionalKey(DurationText),
      method: Schema.optionalKey(Schema.String),
      expect: Schema.optionalKey(Schema.Array(Schema.Int))
    })
  }),
  Schema.Struct({ tcp: Schema.Struct({ host: Schema.String, port: Schema.Int, timeout: Schema.optionalKey(DurationText) }) }),
  Schema.Struct({
    command: Schema.Struct({ command: Schema.String, args: Schema.optionalKey(Schema.Array(Schema.String)), timeout: Schema.optionalKey(DurationText) })
  })
])
type FileProbe = typeof FileProbe.Type

const toProbe = (p: FileProbe): Probe.Probe<any> =>
  "http" in p
    ? Probes.http(p.http.url, { ...p.http, timeout: p.http.timeout as Duration.Input | undefined })
    : "tcp" in p
    ? Probes.tcp(p.tcp.host, p.tcp.port, { timeout: p.tcp.timeout as Duration.Input | undefined })
    : Probes.command(p.command.command, p.command.args ?? [], { timeout: p.command.timeout as Duration.Input | undefined })

const FileHypothesis = Schema.Struct({
  name: Schema.String,
  probe: FileProbe,
  every: Schema.optionalKey(DurationText),
  samples: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  tolerance: Schema.optionalKey(Schema.Array(Tolerance.ToleranceSpec).check(Schema.isMinLength(1)))
})

const FileStep = Schema.Union([
  Schema.Struct({ inject: FileFault }),
  Schema.Struct({ sleep: DurationText })
])

const FileAbort = Schema.Union([
  Schema.Struct({ maxDuration: DurationText }),
  Schema.Struct({ breach: Schema.Struct({ hypothesis: Schema.String, below: Schema.Number, over: DurationText }) }),
  Schema.Struct({ signals: Schema.Literal(true) })
])

/**
 * The shape of an experiment file.
 *
 * @since 0.1.0
 */
export const ExperimentFile = Schema.Struct({
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  processes: Schema.optionalKey(Schema.Array(Process.ProcessSpec)),
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
  guards: Schema.optionalKey(Schema.Array(Guard)),
  /** Allow faults that cannot be reverted (`docker.remove`). */
  irreversible: Schema.optionalKey(Schema.Boolean)
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
    const dangling = [
      ...(decoded.abort ?? []).flatMap((a, i) => "breach" in a && !names.has(a.breach.hypothesis) ? [`no hypothesis named ${JSON.stringify(a.breach.hypothesis)} at abort[${i}].breach.hypothesis`] : []),
      ...(decoded.objectives?.rpo !== undefined
        ? ["an RPO objective needs a heartbeat writer to measure it, which files cannot declare yet (write the experiment in TypeScript with Stopwatch.heartbeat) at objectives.rpo"]
        : []),
      ...(decoded.stopwatches?.rto && !names.has(decoded.stopwatches.rto.hypothesis) ? [`no hypothesis named ${JSON.stringify(decoded.stopwatches.rto.hypothesis)} at stopwatches.rto.hypothesis`] : [])
    ]
    if (dangling.length > 0) return yield* new ExperimentFileInvalid({ file, problem: dangling.join("; ") })
    return decoded
  })

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
 * Turns a decoded file into an Experiment (its processes are started separately, by
 * `startProcesses`).
 *
 * @since 0.1.0
 */
export const toExperiment = (f: ExperimentFile): Experiment.Experiment<any> => {
  const hyps = f.hypothesis.map((h) =>
    Hypothesis.make(h.name, {
      probe: toProbe(h.probe),
      ...(h.every ? { every: h.every as Duration.Input } : {}),
      ...(h.samples ? { samples: h.samples } : {}),
      ...(h.tolerance ? { tolerance: Tolerance.all(...h.tolerance) } : {})
    })
  )
  const byName = (n: string) => hyps.find((h) => h.name === n)!
  const method = Effect.forEach(f.method, (step) =>
    "inject" in step ? Effect.asVoid(Fault.inject(step.inject)) : Effect.sleep(step.sleep as Duration.Input), { discard: true })
  const rto = f.stopwatches?.rto
  return Experiment.make({
    name: f.name,
    ...(f.description ? { description: f.description } : {}),
    hypothesis: hyps,
    method,
    abort: (f.abort ?? []).map((a) =>
      "maxDuration" in a ? Abort.maxDuration(a.maxDuration as Duration.Input)
      : "breach" in a ? Abort.breach(byName(a.breach.hypothesis), { below: a.breach.below, over: a.breach.over as Duration.Input })
      : Abort.signals()
    ),
    ...(rto ? { stopwatches: { rto: Stopwatch.rto(byName(rto.hypothesis), rto.stableFor ? { stableFor: rto.stableFor } : {}) } } : {}),
    objectives: {
      ...(f.objectives?.rto ? { rto: f.objectives.rto as Duration.Input } : {}),
      ...(f.objectives?.rpo ? { rpo: f.objectives.rpo as Duration.Input } : {})
    },
    ...(f.guards ? { guards: f.guards } : {}),
    ...(f.irreversible ? { irreversible: true } : {})
  })
}

/**
 * Resolves the targets of every fault the file injects (read-only discovery), so that a
 * selector that matches nothing is refused before any probe runs or any fault lands.
 *
 * @since 0.1.0
 */
export const resolveTargets = (f: ExperimentFile): Effect.Effect<void, ResolveFailed, any> =>
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
  onStarted?: (p: Process.ManagedProcess) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    const driver = yield* Process.ProcessDriver
    for (const spec of f.processes ?? []) {
      const p = yield* driver.start(spec)
      if (onStarted) yield* onStarted(p)
    }
  })
