/**
 * Experiments: a hypothesis, a method that injects faults, abort conditions, stopwatches
 * and objectives; and `run`, the engine that carries one out.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as MutableRef from "effect/MutableRef"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import type { AbortCondition } from "./Abort.ts"
import * as Environment from "./Environment.ts"
import * as Guard from "./Guard.ts"
import * as Hypothesis from "./Hypothesis.ts"
import * as Journal from "./Journal.ts"
import * as Ledger from "./Ledger.ts"
import { Run } from "./Run.ts"
import * as Stopwatch from "./Stopwatch.ts"
import * as Verdict from "./Verdict.ts"
import * as Windows from "./Windows.ts"

const TypeId = "~faultline/Experiment"

/**
 * An experiment. Its type parameter is the set of services (drivers, probes' clients) it
 * needs: running it without providing them does not compile.
 *
 * @since 0.1.0
 */
export interface Experiment<R = never> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly description: string
  readonly hypotheses: ReadonlyArray<Hypothesis.Hypothesis<any>>
  readonly method: Effect.Effect<unknown, unknown, any>
  readonly abort: ReadonlyArray<AbortCondition<any>>
  readonly stopwatches: { readonly rto?: Stopwatch.Rto | undefined; readonly rpo?: Stopwatch.Heartbeat<any> | undefined }
  readonly objectives: { readonly rto?: Duration.Duration | undefined; readonly rpo?: Duration.Duration | undefined }
  readonly guards: ReadonlyArray<Guard.Guard>
  /** Irreversible faults (e.g. `docker.remove`) are allowed; default false. */
  readonly irreversible: boolean
  /** `guards` replace the faults' default guards instead of adding to them; default false. */
  readonly replaceDefaultGuards?: boolean | undefined
  /** The catalog service the experiment exercises (journaled; the run history is indexed by it). */
  readonly service?: { readonly name: string; readonly tier: number | null } | undefined
  /** Phantom: the services this experiment requires. */
  readonly "~R"?: (_: never) => R
}

/** Whether a value is an Experiment. @since 0.1.0 */
export const isExperiment = (u: unknown): u is Experiment<unknown> => typeof u === "object" && u !== null && (u as any)[TypeId] === TypeId

type ServicesOf<T> = T extends Hypothesis.Hypothesis<infer R> ? R
  : T extends AbortCondition<infer R> ? R
  : T extends Stopwatch.Heartbeat<infer R> ? R
  : never

// The RTO is measured from its hypothesis' samples, so that hypothesis is always sampled.
const withRtoHypothesis = (
  hs: ReadonlyArray<Hypothesis.Hypothesis<any>>,
  rto: Stopwatch.Rto | undefined
): ReadonlyArray<Hypothesis.Hypothesis<any>> => rto === undefined || hs.some((h) => h.name === rto.hypothesis.name) ? hs : [...hs, rto.hypothesis]

/**
 * Makes an experiment.
 *
 * @since 0.1.0
 */
export const make = <
  H extends Hypothesis.Hypothesis<any>,
  RM,
  A extends AbortCondition<any> = never,
  W extends Stopwatch.Heartbeat<any> = never
>(config: {
  readonly name: string
  readonly description?: string
  readonly hypothesis: H | ReadonlyArray<H>
  readonly method: Effect.Effect<unknown, unknown, RM>
  readonly abort?: ReadonlyArray<A>
  readonly stopwatches?: { readonly rto?: Stopwatch.Rto; readonly rpo?: W }
  readonly objectives?: { readonly rto?: Duration.Input; readonly rpo?: Duration.Input }
  readonly guards?: ReadonlyArray<Guard.Guard>
  /** Allow faults that cannot be reverted (e.g. `docker.remove`); default false. */
  readonly irreversible?: boolean
  /**
   * Drop the faults' default guards (e.g. Docker's `faultline.allow=true`) and check only
   * `guards`; default false: `guards` add to the defaults. Named in the plan and the journal.
   */
  readonly replaceDefaultGuards?: boolean
  /** The catalog service this experiment exercises (see `Catalog.apply` for its tier's objectives). */
  readonly service?: string | { readonly name: string; readonly tier: number | null }
}): Experiment<Exclude<RM | ServicesOf<H> | ServicesOf<A> | ServicesOf<W>, Run | Scope.Scope>> => ({
  [TypeId]: TypeId,
  name: config.name,
  description: config.description ?? "",
  hypotheses: withRtoHypothesis(
    Array.isArray(config.hypothesis) ? config.hypothesis : [config.hypothesis as H],
    config.stopwatches?.rto
  ),
  method: config.method,
  abort: config.abort ?? [],
  stopwatches: config.stopwatches ?? {},
  objectives: {
    rto: config.objectives?.rto === undefined ? undefined : Duration.fromInputUnsafe(config.objectives.rto),
    rpo: config.objectives?.rpo === undefined ? undefined : Duration.fromInputUnsafe(config.objectives.rpo)
  },
  guards: config.guards ?? [Guard.maxTargets(10)],
  irreversible: config.irreversible ?? false,
  replaceDefaultGuards: config.replaceDefaultGuards ?? false,
  service: typeof config.service === "string" ? { name: config.service, tier: null } : config.service
})

/** @since 0.1.0 */
export interface RunOptions {
  /** Run id; default: a timestamp plus random suffix. */
  readonly runId?: string
  /** Where the journal is written (e.g. `FileJournal.open(file)`); default: memory only. */
  readonly storage?: Journal.Storage
  /**
   * Keep every journal entry in memory and return them in `RunResult.entries` (default
   * true). A long run with `storage` turns this off: it then keeps only its sampler windows
   * and its journal lives on disk.
   */
  readonly keepEntries?: boolean
  /** Plan only: resolve targets and check guards, inject nothing, probe nothing. */
  readonly dryRun?: boolean
  /** Called for every journal entry as it is written (live views). */
  readonly onEntry?: (entry: Journal.Entry) => void
  /** The ledger; default: the `Ledger` service if provided, else in memory. */
  readonly ledger?: Ledger.Ledger["Service"]
  /**
   * Planning the caller can do before any probe runs (an experiment file's faults are data:
   * their targets are resolved and guarded here). A guard's refusal ends the run `refused`.
   */
  readonly preflight?: Effect.Effect<void, unknown, any>
  /**
   * Objectives the caller measures itself (a drill's RTO clock, started and stopped by its
   * checkpoints), judged once the method has ended: each string is an objective missed.
   */
  readonly judge?: Effect.Effect<ReadonlyArray<string>>
}

/** @since 0.1.0 */
export interface RunResult {
  readonly runId: string
  readonly verdict: Verdict.Verdict
  /** Every journal entry, or none when the run was made with `keepEntries: false`. */
  readonly entries: ReadonlyArray<Journal.Entry>
  readonly journalFile: string | null
}

/** Makes a run id: UTC timestamp and a random suffix. @since 0.1.0 */
export const makeRunId: Effect.Effect<string> = Effect.gen(function*() {
  const ms = yield* Clock.currentTimeMillis
  const n = yield* Random.nextIntBetween(0, 0xffffff)
  return `${new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${n.toString(16).padStart(6, "0")}`
})

const errorText = (cause: Cause.Cause<unknown>): string => describeError(Cause.squash(cause))

/**
 * An error in one line that keeps its cause: the message of what was thrown inside
 * `Effect.tryPromise` (not "An error occurred in Effect.tryPromise"), a tagged error's tag,
 * and for a process its exit code and the tail of its stderr.
 *
 * @since 0.1.0
 */
export const describeError = (e: unknown): string => {
  if (e instanceof Error) {
    const tag = (e as { readonly _tag?: unknown })._tag
    const inner = (e as { readonly cause?: unknown }).cause
    // Effect wraps what a promise rejected with as UnknownError; the cause is the news.
    if ((tag === "UnknownError" || e.message.startsWith("An error occurred in ")) && inner !== undefined) return describeError(inner)
    const { exitCode, stderr } = e as { readonly exitCode?: unknown; readonly stderr?: unknown }
    const code = typeof exitCode === "number" ? ` (exit code ${exitCode})` : ""
    const tail = typeof stderr === "string" && stderr.trim() !== "" ? `; stderr: ${stderr.trim().split("\n").slice(-5).join(" | ").slice(-500)}` : ""
    return `${typeof tag === "string" ? `${tag}: ` : ""}${e.message}${code}${tail}`
  }
  if (typeof e === "string") return e
  try {
    return JSON.stringify(e) ?? String(e)
  } catch {
    return String(e)
  }
}

type Objectives = Extract<Journal.Event, { _tag: "RunStarted" }>["objectives"]

// The objectives missed by measured figures, as readable strings.
const missed = (
  objectives: Objectives,
  rto: Stopwatch.RtoResult | null,
  rpo: Stopwatch.RpoResult | null
): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (objectives.rtoMs !== null) {
    if (rto === null || rto.measuredMs === null) out.push(`RTO not measured (objective ${objectives.rtoMs} ms)`)
    else if (rto.measuredMs > objectives.rtoMs) {
      out.push(`RTO ${rto.measuredMs.toFixed(1)} ms > objective ${objectives.rtoMs} ms`)
    }
  }
  if (objectives.rpoMs !== null) {
    if (rpo === null) out.push(`RPO not measured (objective ${objectives.rpoMs} ms)`)
    else if (rpo.windowMs > objectives.rpoMs) {
      out.push(`RPO ${rpo.windowMs.toFixed(1)} ms (${rpo.lostWrites} writes lost) > objective ${objectives.rpoMs} ms`)
    }
  }
  return out
}

/**
 * Objectives the measured figures missed, as readable strings.
 *
 * @since 0.1.0
 */
export const missedObjectives = (
  entries: ReadonlyArray<Journal.Entry>
): ReadonlyArray<string> => {
  const started = entries.find((e) => e.event._tag === "RunStarted")?.event
  if (started?._tag !== "RunStarted") return []
  return missed(started.objectives, Stopwatch.computeRto(entries), Stopwatch.computeRpo(entries))
}

// What the phases found so far. The engine reads it after the body, whatever stopped it.
interface Progress {
  readonly beforeMet: boolean
  readonly method: Verdict.Observed["method"]
  readonly duringMissed: ReadonlyArray<string>
  readonly afterMet: boolean
}

type Ctx = Run["Service"]

const objectivesOf = (experiment: Experiment<any>): Objectives => ({
  rtoMs: experiment.objectives.rto ? Duration.toMillis(experiment.objectives.rto) : null,
  rpoMs: experiment.objectives.rpo ? Duration.toMillis(experiment.objectives.rpo) : null
})

// Opens the run: its journal (feeding the windows), ledger and context; journals RunStarted.
const open = Effect.fnUntraced(function*(experiment: Experiment<any>, options: RunOptions) {
  const runId = options.runId ?? (yield* makeRunId)
  const windows = Windows.make(experiment.hypotheses)
  const journal = yield* Journal.make({
    runId,
    storage: options.storage,
    retain: options.keepEntries ?? true,
    onEntry: (e) => {
      windows.observe(e)
      options.onEntry?.(e)
    }
  })
  const provided = yield* Effect.serviceOption(Ledger.Ledger)
  const ledger = options.ledger ?? (provided._tag === "Some" ? provided.value : yield* Ledger.makeMemory)
  const faults = MutableRef.make(0)
  const ctx = Run.of({
    runId,
    journal,
    windows,
    ledger,
    guards: experiment.guards,
    irreversible: experiment.irreversible,
    replaceDefaultGuards: experiment.replaceDefaultGuards === true,
    dryRun: options.dryRun ?? false,
    cleanupFailed: { value: false },
    nextFaultId: () => `${runId}/f${MutableRef.incrementAndGet(faults)}`
  })
  const { rto, rpo } = experiment.stopwatches
  yield* journal.append({
    _tag: "RunStarted",
    experiment: experiment.name,
    dryRun: ctx.dryRun,
    hypotheses: experiment.hypotheses.map(Hypothesis.toJSON),
    objectives: objectivesOf(experiment),
    rto: rto ? { hypothesis: rto.hypothesis.name, stableFor: rto.stableFor, from: rto.from } : null,
    rpo: rpo ? { everyMs: Duration.toMillis(rpo.every) } : null,
    abort: experiment.abort.map((a) => a.name),
    // The definition and the environment, so that a report says who ran what, where.
    description: experiment.description,
    runtime: Environment.current(),
    guards: experiment.guards.map((g) => ({ name: Guard.describe(g), spec: g })),
    ...(experiment.service ? { service: experiment.service } : {})
  })
  return { ctx, journalFile: options.storage?.file ?? null }
})

// Gate: the hypotheses before the method. Not met: the run ends without injecting anything.
const gate = (experiment: Experiment<any>, ctx: Ctx) =>
  ctx.dryRun
    ? Effect.succeed(true)
    : Effect.map(Effect.forEach(experiment.hypotheses, (h) => Hypothesis.check(h, "before")), (js) => js.every((j) => j.met))

// Method: the hypotheses sampled continuously, the method raced against the abort
// conditions in its own scope (closing it reverts the faults in reverse order), then the
// judgement during. An interrupted method interrupts the run.
const method = (experiment: Experiment<any>, ctx: Ctx) =>
  Effect.gen(function*() {
    const samplers = ctx.dryRun ? [] : [yield* Effect.forkChild(Hypothesis.continuouslyAll(experiment.hypotheses))]
    const aborts = experiment.abort.map((a) =>
      a.watch.pipe(
        Effect.tap((reason) => ctx.journal.append({ _tag: "AbortFired", condition: a.name, reason })),
        Effect.map((reason) => ({ _tag: "aborted" as const, reason: `${a.name}: ${reason}` }))
      )
    )
    // A dry run plans the method's faults and skips its waits: nothing to wait for.
    const body = ctx.dryRun
      ? Effect.flatMap(Effect.service(Clock.Clock), (clock) => Effect.provideService(experiment.method, Clock.Clock, instant(clock)))
      : experiment.method
    const completed = Effect.as(body, { _tag: "completed" as const })
    const raced = aborts.length === 0 ? completed : Effect.raceFirst(completed, Effect.raceAll(aborts))
    const exit = yield* Effect.exit(Effect.scoped(raced))
    if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.failCause(exit.cause)
    const outcome: Verdict.Observed["method"] = Exit.isFailure(exit)
      ? { outcome: isRefusal(exit.cause) ? "refused" : "failed", detail: errorText(exit.cause) }
      : exit.value._tag === "completed"
      ? { outcome: "completed", detail: "" }
      : { outcome: "aborted", detail: exit.value.reason }
    yield* ctx.journal.append({
      _tag: "MethodEnded",
      outcome: outcome.outcome,
      error: outcome.outcome === "completed" ? null : outcome.detail
    })
    yield* Effect.forEach(samplers, Fiber.interrupt)
    const duringMissed = ctx.dryRun ? [] : yield* judgeDuring(experiment)
    return { outcome, duringMissed }
  })

// What judges each hypothesis during the method (see Verdict.decide); returns the ones
// that count and were not met.
const judgeDuring = (experiment: Experiment<any>) =>
  Effect.gen(function*() {
    const { rto } = experiment.stopwatches
    const missed: Array<string> = []
    for (const h of experiment.hypotheses) {
      const by = h.during === "observe"
        ? "observe" as const
        : rto !== undefined && rto.hypothesis.name === h.name && experiment.objectives.rto !== undefined
        ? "rto-objective" as const
        : "tolerance" as const
      const j = yield* Hypothesis.judgeDuring(h, by)
      if (by === "tolerance" && !j.met && j.samples > 0) missed.push(`${h.name} (${j.good}/${j.samples} good)`)
    }
    return missed
  })

// The guards that judge the run's circumstances, not its targets; the reason of the first
// that refuses, or null.
const circumstances = (experiment: Experiment<any>, ctx: Ctx) =>
  Effect.gen(function*() {
    for (const g of experiment.guards.filter((x) => !Guard.needsTargets(x))) {
      const result = yield* Effect.result(Guard.check(g, []))
      const ok = result._tag === "Success"
      yield* ctx.journal.append({ _tag: "GuardChecked", guard: Guard.describe(g), ok, detail: ok ? result.success : result.failure.reason })
      if (!ok) return `guard ${Guard.describe(g)} refused: ${result.failure.reason}`
    }
    return null
  })

// The caller's planning: a refusal (guard, cap) is returned as its reason; any other error
// fails the run as usual.
const preflight = (options: RunOptions, ctx: Ctx) =>
  options.preflight === undefined
    ? Effect.succeed(null)
    : options.preflight.pipe(
      Effect.as(null),
      Effect.catchCause((cause) => isRefusal(cause) ? Effect.succeed(errorText(cause)) : Effect.failCause(cause)),
      Effect.provideService(Run, ctx)
    )

// A clock whose sleeps return at once (the time still reads from the real clock).
const instant = (clock: Clock.Clock): Clock.Clock => ({
  currentTimeMillisUnsafe: () => clock.currentTimeMillisUnsafe(),
  currentTimeMillis: clock.currentTimeMillis,
  currentTimeNanosUnsafe: () => clock.currentTimeNanosUnsafe(),
  currentTimeNanos: clock.currentTimeNanos,
  monotonicTimeNanosUnsafe: () => clock.monotonicTimeNanosUnsafe(),
  monotonicTimeNanos: clock.monotonicTimeNanos,
  sleep: () => Effect.void
})

// A guard (or the irreversible check) said no: the run is refused, not failed.
const isRefusal = (cause: Cause.Cause<unknown>): boolean => {
  const e = Cause.squash(cause) as { readonly _tag?: unknown } | undefined
  return typeof e === "object" && e !== null && (e._tag === "GuardRejected" || e._tag === "CapExceeded")
}

// Recover: the faults are reverted; did steady state come back?
const recover = (experiment: Experiment<any>, ctx: Ctx) =>
  ctx.dryRun
    ? Effect.succeed(true)
    : Effect.map(Effect.forEach(experiment.hypotheses, (h) => Hypothesis.check(h, "after")), (js) => js.every((j) => j.met))

// Measure: stop the heartbeat writer and read back which acknowledged writes survived.
const measure = (writer: Fiber.Fiber<never> | undefined, rpo: Stopwatch.Heartbeat<any> | undefined, ctx: Ctx) =>
  writer === undefined || rpo === undefined ? Effect.void : Effect.andThen(
    Fiber.interrupt(writer),
    Stopwatch.readBack(rpo, ctx).pipe(
      Effect.catchCause((cause) => ctx.journal.append({ _tag: "Note", message: `RPO read-back failed: ${errorText(cause)}` }))
    )
  )

// The phases in order, each recording what it found in `progress`.
const phases = (experiment: Experiment<any>, options: RunOptions, ctx: Ctx, journalFile: string | null, progress: Ref.Ref<Progress>) =>
  Effect.gen(function*() {
    const { rpo } = experiment.stopwatches
    // Guards first: those that need no targets (change freeze, environment) are checked
    // before any probe runs or any process is touched; a refusal ends the run `refused`.
    const refusal = (yield* circumstances(experiment, ctx)) ?? (yield* preflight(options, ctx))
    if (refusal !== null) {
      yield* Ref.update(progress, (p) => ({ ...p, method: { outcome: "refused" as const, detail: refusal } }))
      yield* ctx.journal.append({ _tag: "MethodEnded", outcome: "refused", error: refusal })
      return
    }
    if (!ctx.dryRun) yield* ctx.ledger.beginRun(ctx.runId, journalFile)
    // The heartbeat writer runs from the start, so the write history before the fault is
    // as long as the before-check and losses right after injection are measurable.
    const writer = rpo && !ctx.dryRun ? yield* Effect.forkChild(Stopwatch.runWriter(rpo, ctx)) : undefined
    const beforeMet = yield* gate(experiment, ctx)
    yield* Ref.update(progress, (p) => ({ ...p, beforeMet }))
    if (!beforeMet) {
      if (writer) yield* Fiber.interrupt(writer)
      yield* ctx.journal.append({ _tag: "MethodEnded", outcome: "skipped", error: "steady state not met before" })
      return
    }
    const { outcome, duringMissed } = yield* method(experiment, ctx)
    yield* Ref.update(progress, (p) => ({ ...p, method: outcome, duringMissed }))
    const afterMet = yield* recover(experiment, ctx)
    yield* Ref.update(progress, (p) => ({ ...p, afterMet }))
    yield* measure(writer, rpo, ctx)
  }).pipe(Effect.provideService(Run, ctx))

// Decide: the verdict from what the phases found, how the body ended and the live figures.
const decide = (experiment: Experiment<any>, options: RunOptions, ctx: Ctx, exit: Exit.Exit<void, unknown>, progress: Ref.Ref<Progress>) =>
  Effect.gen(function*() {
    const interrupted = Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
    const found = yield* Ref.get(progress)
    if (interrupted && found.method.outcome === "skipped" && found.beforeMet) {
      yield* ctx.journal.append({ _tag: "MethodEnded", outcome: "interrupted", error: "the run was interrupted" })
    }
    const failure = Exit.isFailure(exit) && !interrupted ? `error outside the method: ${errorText(exit.cause)}` : null
    // An error outside the method (a throwing probe or tolerance, a failing read-back):
    // the scope has already reverted every fault; the run failed.
    if (failure !== null) yield* ctx.journal.append({ _tag: "Note", message: failure })
    return Verdict.decide({
      interrupted,
      dryRun: ctx.dryRun,
      beforeMet: found.beforeMet,
      method: failure === null ? found.method : { outcome: "failed", detail: failure },
      afterMet: found.afterMet,
      duringMissed: found.duringMissed,
      objectivesMissed: ctx.dryRun || interrupted ? [] : [
        ...missed(objectivesOf(experiment), ctx.windows.rto(), ctx.windows.rpo()),
        ...(options.judge === undefined ? [] : yield* options.judge)
      ],
      cleanupFailed: ctx.cleanupFailed.value
    })
  })

/**
 * Runs an experiment: gate (hypothesis before), method (in a Scope raced against the abort
 * conditions with the hypothesis sampled continuously; faults reverted as the scope
 * closes), recover (hypothesis after), measure (stopwatches), decide (verdict). Every step
 * is journaled. Never fails: the outcome is in the verdict. If the run itself is
 * interrupted, faults are reverted and `RunEnded { status: "interrupted" }` is journaled
 * before the interruption propagates.
 *
 * @since 0.1.0
 */
export const run = <R>(experiment: Experiment<R>, options: RunOptions = {}): Effect.Effect<RunResult, never, R> =>
  Effect.scoped(Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const { ctx, journalFile } = yield* open(experiment, options)
      const progress = yield* Ref.make<Progress>({ beforeMet: true, method: { outcome: "skipped", detail: "" }, duringMissed: [], afterMet: true })
      const exit = yield* Effect.exit(restore(phases(experiment, options, ctx, journalFile, progress)))
      const verdict = yield* decide(experiment, options, ctx, exit, progress)
      yield* ctx.journal.append({ _tag: "RunEnded", status: verdict.status, cleanup: verdict.cleanup, reason: verdict.reason })
      // Every revert has run: release the run's leases and dismiss its watchdog.
      yield* ctx.ledger.endRun(ctx.runId)
      if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
      const result: RunResult = { runId: ctx.runId, verdict, entries: ctx.journal.snapshot().slice(), journalFile }
      return result
    })
  )) as Effect.Effect<RunResult, never, R>
