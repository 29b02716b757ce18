/**
 * Abort conditions: things that, once true, stop the run. The method is raced against
 * every condition; when one fires, the method is interrupted and its scope reverts the
 * faults.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Hypothesis } from "./Hypothesis.ts"
import * as Probe from "./Probe.ts"
import { Run } from "./Run.ts"
import * as SloSpec from "./SloSpec.ts"
import * as Tolerance from "./Tolerance.ts"
import * as Windows from "./Windows.ts"

/**
 * An abort condition: `watch` completes, with a reason, when the run must stop.
 *
 * @since 0.1.0
 */
export interface AbortCondition<R = never> {
  readonly name: string
  readonly watch: Effect.Effect<string, never, R | Run>
  /** Why the condition cannot be honoured as configured (refused when the experiment loads). */
  readonly problem?: string | undefined
}

/**
 * Fires when the share of good samples of `hypothesis` over the last `over` falls below
 * `below`. It waits until a whole window has been observed.
 *
 * @since 0.1.0
 */
export const breach = <R>(
  hypothesis: Hypothesis<R>,
  options: { readonly below: number; readonly over: Duration.Input }
): AbortCondition => {
  const overMs = Duration.toMillis(Duration.fromInputUnsafe(options.over))
  const everyMs = Duration.toMillis(hypothesis.every)
  return {
    name: `breach(${hypothesis.name} < ${options.below} over ${overMs} ms)`,
    // A window shorter than two probe intervals holds at most one sample: it cannot tell a
    // blip from a breach.
    problem: overMs < 2 * everyMs
      ? `breach of ${hypothesis.name}: a window of ${overMs} ms cannot be judged with a probe every ${everyMs} ms (needs at least ${2 * everyMs} ms)`
      : undefined,
    watch: Effect.gen(function*() {
      const run = yield* Run
      // From here on the run keeps this window's samples; any sample the first check
      // counts is sent after `started`, so none is missed.
      run.windows.retain(hypothesis.name, overMs)
      const started = yield* Probe.monoMillis
      while (true) {
        yield* Effect.sleep(hypothesis.every)
        const nowMono = yield* Probe.monoMillis
        if (nowMono - started < overMs) continue
        let n = 0
        let good = 0
        const samples = run.windows.recent(hypothesis.name)
        // By completion time (a timed-out probe at its deadline): a probe slower than the
        // window still counts in the window it ended in.
        for (let i = samples.length - 1; i >= 0; i--) {
          const sample = samples[i]!
          if (Windows.completedAt(sample) < nowMono - overMs) break
          n++
          if (Tolerance.isGood(hypothesis.tolerance, sample)) good++
        }
        if (n > 0 && good / n < options.below) {
          return `${hypothesis.name}: ${good}/${n} good samples over the last ${overMs} ms, below ${options.below}`
        }
      }
    })
  }
}

/**
 * Fires when the method has run for `duration`.
 *
 * @since 0.1.0
 */
export const maxDuration = (duration: Duration.Input): AbortCondition => {
  const d = Duration.fromInputUnsafe(duration)
  return {
    name: `maxDuration(${Duration.format(d)})`,
    watch: Effect.as(Effect.sleep(d), `maximum duration ${Duration.format(d)} reached`)
  }
}

/**
 * Fires when the process receives one of `signals` (default SIGINT and SIGTERM); the
 * handlers are removed when the run ends.
 *
 * @since 0.1.0
 */
export const signals = (list: ReadonlyArray<NodeJS.Signals> = ["SIGINT", "SIGTERM"]): AbortCondition => ({
  name: `signal(${list.join(",")})`,
  watch: Effect.callback<string>((resume) => {
    const handlers = list.map((sig) => {
      const h = () => resume(Effect.succeed(`received ${sig}`))
      process.once(sig, h)
      return [sig, h] as const
    })
    return Effect.sync(() => handlers.forEach(([sig, h]) => process.removeListener(sig, h)))
  })
})

/**
 * A handle a facilitator (or a test) uses to stop a run by hand.
 *
 * @since 0.1.0
 */
export interface Halt {
  readonly halt: (reason: string) => Effect.Effect<void>
  readonly deferred: Deferred.Deferred<string>
}

/** Makes a manual halt handle. @since 0.1.0 */
export const makeHalt: Effect.Effect<Halt> = Effect.map(Deferred.make<string>(), (deferred) => ({
  deferred,
  halt: (reason) => Effect.asVoid(Deferred.succeed(deferred, reason))
}))

/** Fires when `halt.halt(reason)` is called. @since 0.1.0 */
export const manual = (halt: Halt): AbortCondition => ({
  name: "manual halt",
  watch: Effect.map(Deferred.await(halt.deferred), (r) => `halted: ${r}`)
})

/**
 * Fires when `check` yields true; polled every `every`. For custom stop conditions such as
 * an SLO burn rate.
 *
 * @since 0.1.0
 */
export const when = <R>(name: string, check: Effect.Effect<boolean, never, R>, every: Duration.Input = "100 millis"): AbortCondition<R> => ({
  name,
  watch: Effect.gen(function*() {
    while (!(yield* check)) yield* Effect.sleep(every)
    return `${name} became true`
  })
})

/**
 * Fires when the SLO's error budget burns at `factor` times the sustainable rate or faster,
 * measured over the last `window` and read every `every` (default 30 seconds) from the run's
 * `SloSource`. Without a source it fires at once: a run that asked to be stopped on burn
 * rate must not go on blind. A read that fails is noted in the journal and retried.
 *
 * @example
 * ```ts
 * Abort.burnRate({ slo: checkoutAvailability, factor: 14.4, window: "5 minutes" })
 * ```
 * @since 0.2.0
 */
export const burnRate = (options: {
  readonly slo: SloSpec.Slo
  readonly factor: number
  readonly window: Duration.Input
  readonly every?: Duration.Input
}): AbortCondition => {
  const windowMs = Duration.toMillis(Duration.fromInputUnsafe(options.window))
  const every = Duration.fromInputUnsafe(options.every ?? "30 seconds")
  const name = `burnRate(${options.slo.name} >= ${options.factor}x over ${Duration.format(Duration.millis(windowMs))})`
  return {
    name,
    problem: options.factor > 0 ? undefined : `burnRate of ${options.slo.name}: factor must be above 0, got ${options.factor}`,
    watch: Effect.gen(function*() {
      const source = yield* SloSpec.source
      if (Option.isNone(source)) return `${name}: no SLO source is configured, the burn rate cannot be watched`
      const run = yield* Run
      while (true) {
        const read = yield* Effect.result(source.value.burnRate(options.slo, windowMs))
        if (read._tag === "Failure") {
          yield* run.journal.append({ _tag: "Note", message: `${name}: ${read.failure.message}` })
        } else if (read.success.total > 0 && read.success.rate >= options.factor) {
          const r = read.success
          return `${options.slo.name} burns its error budget at ${r.rate.toFixed(2)}x (${
            r.total - r.good
          } bad of ${r.total} events), at or above ${options.factor}x`
        }
        yield* Effect.sleep(every)
      }
    })
  }
}
