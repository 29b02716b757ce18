/**
 * Experiments: a hypothesis, a method that injects faults, abort conditions, stopwatches
 * and objectives; and `run`, the engine that carries one out.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import { Cause, Clock, Duration, Effect, Exit, Fiber, Random, Scope } from "effect"
import type { AbortCondition } from "./Abort.ts"
import * as Guard from "./Guard.ts"
import * as Hypothesis from "./Hypothesis.ts"
import * as Journal from "./Journal.ts"
import * as Ledger from "./Ledger.ts"
import { Run } from "./Run.ts"
import * as Stopwatch from "./Stopwatch.ts"
import * as Verdict from "./Verdict.ts"

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
  /** Phantom: the services this experiment requires. */
  readonly "~R"?: (_: never) => R
}

/** Whether a value is an Experiment. @since 0.1.0 */
export const isExperiment = (u: unknown): u is Experiment<unknown> =>
  typeof u === "object" && u !== null && (u as any)[TypeId] === TypeId

type ServicesOf<T> = T extends Hypothesis.Hypothesis<infer R> ? R
  : T extends AbortCondition<infer R> ? R
  : T extends Stopwatch.Heartbeat<infer R> ? R
  : never

// The RTO is measured from its hypothesis' samples, so that hypothesis is always sampled.
const withRtoHypothesis = (
  hs: ReadonlyArray<Hypothesis.Hypothesis<any>>,
  rto: Stopwatch.Rto | undefined
): ReadonlyArray<Hypothesis.Hypothesis<any>> =>
  rto === undefined || hs.some((h) => h.name === rto.hypothesis.name) ? hs : [...hs, rto.hypothesis]

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
  replaceDefaultGuards: config.replaceDefaultGuards ?? false
})

/** @since 0.1.0 */
export interface RunOptions {
  /** Run id; default: a timestamp plus random suffix. */
  readonly runId?: string
  /** Directory for `journal.jsonl`; default: no file, memory only. */
  readonly dir?: string
  /** Plan only: resolve targets and check guards, inject nothing, probe nothing. */
  readonly dryRun?: boolean
  /** Called for every journal entry as it is written (live views). */
  readonly onEntry?: (entry: Journal.Entry) => void
  /** The ledger; default: the `Ledger` service if provided, else in memory. */
  readonly ledger?: Ledger.Ledger["Service"]
}

/** @since 0.1.0 */
export interface RunResult {
  readonly runId: string
  readonly verdict: Verdict.Verdict
  readonly entries: ReadonlyArray<Journal.Entry>
  readonly journalFile: string | null
}

/** Makes a run id: UTC timestamp and a random suffix. @since 0.1.0 */
export const makeRunId: Effect.Effect<string> = Effect.gen(function*() {
  const ms = yield* Clock.currentTimeMillis
  const n = yield* Random.nextIntBetween(0, 0xffffff)
  return `${new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${n.toString(16).padStart(6, "0")}`
})

const errorText = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return e instanceof Error ? `${(e as any)._tag ? `${(e as any)._tag}: ` : ""}${e.message}` : String(e)
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
  const out: Array<string> = []
  const rto = Stopwatch.computeRto(entries)
  if (started.objectives.rtoMs !== null) {
    if (rto === null || rto.measuredMs === null) out.push(`RTO not measured (objective ${started.objectives.rtoMs} ms)`)
    else if (rto.measuredMs > started.objectives.rtoMs) {
      out.push(`RTO ${rto.measuredMs.toFixed(1)} ms > objective ${started.objectives.rtoMs} ms`)
    }
  }
  const rpo = Stopwatch.computeRpo(entries)
  if (started.objectives.rpoMs !== null) {
    if (rpo === null) out.push(`RPO not measured (objective ${started.objectives.rpoMs} ms)`)
    else if (rpo.windowMs > started.objectives.rpoMs) {
      out.push(`RPO ${rpo.windowMs.toFixed(1)} ms (${rpo.lostWrites} writes lost) > objective ${started.objectives.rpoMs} ms`)
    }
  }
  return out
}

/**
 * Runs an experiment: hypothesis before (a gate), the method in a Scope raced against
 * the abort conditions with the hypothesis sampled continuously, faults reverted as the
 * scope closes, hypothesis after, stopwatches, verdict. Every step is journaled. Never
 * fails: the outcome is in the verdict. If the run itself is interrupted, faults are
 * reverted and `RunEnded { status: "interrupted" }` is journaled before the interruption
 * propagates.
 *
 * @since 0.1.0
 */
export const run = <R>(experiment: Experiment<R>, options: RunOptions = {}): Effect.Effect<RunResult, never, R> =>
  Effect.scoped(Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const runId = options.runId ?? (yield* makeRunId)
      const journalFile = options.dir === undefined ? null : path.join(options.dir, "journal.jsonl")
      const journal = yield* Journal.make({ runId, file: journalFile ?? undefined, onEntry: options.onEntry })
      const provided = yield* Effect.serviceOption(Ledger.Ledger)
      const ledger = options.ledger ?? (provided._tag === "Some" ? provided.value : yield* Ledger.makeMemory)
      let n = 0
      const ctx = Run.of({
        runId,
        journal,
        ledger,
        guards: experiment.guards,
        irreversible: experiment.irreversible,
        replaceDefaultGuards: experiment.replaceDefaultGuards === true,
        dryRun: options.dryRun ?? false,
        cleanupFailed: { value: false },
        nextFaultId: () => `${runId}/f${++n}`
      })
      const { rto, rpo } = experiment.stopwatches
      yield* journal.append({
        _tag: "RunStarted",
        experiment: experiment.name,
        dryRun: ctx.dryRun,
        hypotheses: experiment.hypotheses.map(Hypothesis.toJSON),
        objectives: {
          rtoMs: experiment.objectives.rto ? Duration.toMillis(experiment.objectives.rto) : null,
          rpoMs: experiment.objectives.rpo ? Duration.toMillis(experiment.objectives.rpo) : null
        },
        rto: rto ? { hypothesis: rto.hypothesis.name, stableFor: rto.stableFor, from: rto.from } : null,
        rpo: rpo ? { everyMs: Duration.toMillis(rpo.every) } : null,
        abort: experiment.abort.map((a) => a.name)
      })

      let beforeMet = true
      let afterMet = true
      let method: Verdict.Observed["method"] = { outcome: "skipped", detail: "" }

      const body = Effect.gen(function*() {
        // The heartbeat writer runs from the start, so the write history before the fault is
        // as long as the before-check and losses right after injection are measurable.
        if (!ctx.dryRun) yield* ledger.beginRun(runId, journalFile)
        const writer = rpo && !ctx.dryRun ? yield* Effect.forkChild(Stopwatch.runWriter(rpo)) : undefined
        if (!ctx.dryRun) {
          for (const h of experiment.hypotheses) {
            const j = yield* Hypothesis.check(h, "before")
            beforeMet = beforeMet && j.met
          }
        }
        if (!beforeMet) {
          if (writer) yield* Fiber.interrupt(writer)
          yield* journal.append({ _tag: "MethodEnded", outcome: "skipped", error: "steady state not met before" })
          return
        }
        const samplers = ctx.dryRun ? [] : [yield* Effect.forkChild(Hypothesis.continuouslyAll(experiment.hypotheses))]

        const aborts = experiment.abort.map((a) =>
          a.watch.pipe(
            Effect.tap((reason) => journal.append({ _tag: "AbortFired", condition: a.name, reason })),
            Effect.map((reason) => ({ _tag: "aborted" as const, reason: `${a.name}: ${reason}` }))
          )
        )
        const raced = aborts.length === 0
          ? Effect.as(experiment.method, { _tag: "completed" as const })
          : Effect.raceFirst(
            Effect.as(experiment.method, { _tag: "completed" as const }),
            Effect.raceAll(aborts)
          )
        // The scope closes here, whatever happened: faults are reverted in reverse order.
        const exit = yield* Effect.exit(Effect.scoped(raced))
        if (Exit.isSuccess(exit)) {
          method = exit.value._tag === "completed"
            ? { outcome: "completed", detail: "" }
            : { outcome: "aborted", detail: exit.value.reason }
        } else if (Cause.hasInterruptsOnly(exit.cause)) {
          return yield* Effect.failCause(exit.cause)
        } else {
          method = { outcome: "failed", detail: errorText(exit.cause) }
        }
        yield* journal.append({
          _tag: "MethodEnded",
          outcome: method.outcome,
          error: method.outcome === "completed" ? null : method.detail
        })
        yield* Effect.forEach(samplers, Fiber.interrupt)
        if (!ctx.dryRun) {
          yield* Effect.forEach(experiment.hypotheses, Hypothesis.judgeDuring, { discard: true })
          for (const h of experiment.hypotheses) {
            const j = yield* Hypothesis.check(h, "after")
            afterMet = afterMet && j.met
          }
        }
        if (writer) {
          yield* Fiber.interrupt(writer)
          yield* Stopwatch.readBack(rpo!).pipe(
            Effect.catchCause((cause) => journal.append({ _tag: "Note", message: `RPO read-back failed: ${errorText(cause)}` }))
          )
        }
      }).pipe(Effect.provideService(Run, ctx))

      const exit = yield* Effect.exit(restore(body))
      const interrupted = Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
      if (interrupted && method.outcome === "skipped" && beforeMet) {
        yield* journal.append({ _tag: "MethodEnded", outcome: "interrupted", error: "the run was interrupted" })
      }
      if (Exit.isFailure(exit) && !interrupted) {
        // An error outside the method (a throwing probe or tolerance, a failing read-back):
        // the scope has already reverted every fault; the run failed.
        const detail = `error outside the method: ${errorText(exit.cause)}`
        yield* journal.append({ _tag: "Note", message: detail })
        method = { outcome: "failed", detail }
      }
      const entries = journal.snapshot()
      const verdict = Verdict.decide({
        interrupted,
        beforeMet,
        method,
        afterMet,
        objectivesMissed: ctx.dryRun || interrupted ? [] : missedObjectives(entries),
        cleanupFailed: ctx.cleanupFailed.value
      })
      yield* journal.append({ _tag: "RunEnded", status: verdict.status, cleanup: verdict.cleanup, reason: verdict.reason })
      // Every revert has run: release the run's leases and dismiss its watchdog.
      yield* ledger.endRun(runId)
      const result: RunResult = { runId, verdict, entries: journal.snapshot().slice(), journalFile }
      if (interrupted) return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
      return result
    })
  )) as Effect.Effect<RunResult, never, R>
