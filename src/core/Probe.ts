/**
 * Probes observe the system and yield Samples.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * One observation. `at` is wall-clock milliseconds (for people), `mono` is monotonic
 * milliseconds (for durations); `latencyMs` is measured on the monotonic clock.
 *
 * @since 0.1.0
 */
export const Sample = Schema.Struct({
  at: Schema.Number,
  mono: Schema.Number,
  ok: Schema.Boolean,
  latencyMs: Schema.Number,
  value: Schema.optionalKey(Schema.Unknown),
  error: Schema.optionalKey(Schema.String)
})
/** @since 0.1.0 */
export type Sample = typeof Sample.Type

/**
 * What a probe is, as data: its kind and parameters (for journals, plans and files).
 *
 * @since 0.1.0
 */
export const ProbeSpec = Schema.Struct({
  kind: Schema.String,
  params: Schema.Record(Schema.String, Schema.Unknown)
})
/** @since 0.1.0 */
export type ProbeSpec = typeof ProbeSpec.Type

/**
 * A probe: a named observation Effect. A failure of `observe` is a bad sample, not a
 * failure of the run.
 *
 * @since 0.1.0
 */
export interface Probe<R = never> {
  readonly name: string
  readonly spec: ProbeSpec
  readonly observe: Effect.Effect<unknown, unknown, R>
  readonly timeout: Duration.Duration
}

/**
 * A probe parameter resolved at every sample rather than fixed when the probe is made — the
 * address of a process that may be restarted on another port, say. `text` names it in
 * journals and reports (e.g. the template `http://127.0.0.1:${backend.port}/health`); a
 * failure of `resolve` is a bad sample, like any failure of the probe.
 *
 * @since 0.1.0
 */
export interface Dynamic<A, R = never> {
  readonly text: string
  readonly resolve: Effect.Effect<A, unknown, R>
}

/**
 * Makes a `Dynamic` parameter.
 *
 * @since 0.1.0
 */
export const dynamic = <A, R>(text: string, resolve: Effect.Effect<A, unknown, R>): Dynamic<A, R> => ({ text, resolve })

/** A fixed value or a `Dynamic` one, as the text that names it. @since 0.1.0 */
export const textOf = <A>(p: A | Dynamic<A, any>): string => isDynamic(p) ? p.text : String(p)

/** Whether a parameter is `Dynamic`. @since 0.1.0 */
export const isDynamic = (u: unknown): u is Dynamic<unknown, unknown> =>
  typeof u === "object" && u !== null && typeof (u as any).text === "string" && Effect.isEffect((u as any).resolve)

/** The value of a fixed or `Dynamic` parameter, now. @since 0.1.0 */
export const resolve = <A, R>(p: A | Dynamic<A, R>): Effect.Effect<A, unknown, R> => isDynamic(p) ? (p as Dynamic<A, R>).resolve : Effect.succeed(p as A)

/** The current monotonic time in milliseconds (fractional), from Clock. @since 0.1.0 */
export const monoMillis: Effect.Effect<number> = Effect.map(Clock.monotonicTimeNanos, (n) => Number(n) / 1e6)

/** The current instant on both clocks, from Clock. @since 0.1.0 */
export const now: Effect.Effect<{ readonly at: number; readonly mono: number }> = Effect.zipWith(
  Clock.currentTimeMillis,
  monoMillis,
  (at, mono) => ({ at, mono })
)

const errorText = (e: unknown): string => e instanceof Error ? (e.message || e.name) : typeof e === "string" ? e : JSON.stringify(e)

/**
 * Builds a probe from an Effect. Its value lands in the sample; its failure, defect or
 * timeout make a bad sample.
 *
 * @example
 * ```ts
 * const p = Probe.make("always", Effect.succeed(1))
 * ```
 * @since 0.1.0
 */
export const make = <R>(
  name: string,
  observe: Effect.Effect<unknown, unknown, R>,
  options?: { readonly timeout?: Duration.Input; readonly spec?: ProbeSpec }
): Probe<R> => ({
  name,
  observe,
  timeout: Duration.fromInputUnsafe(options?.timeout ?? "5 seconds"),
  spec: options?.spec ?? { kind: "effect", params: {} }
})

/**
 * Runs a probe once and returns its sample; never fails.
 *
 * @since 0.1.0
 */
export const sample = <R>(probe: Probe<R>): Effect.Effect<Sample, never, R> =>
  // The hot path of continuous sampling (a thousand times a second in a busy run): one
  // pipeline, clock read synchronously from the current Clock, no generator.
  Effect.clockWith((clock) => {
    const at = clock.currentTimeMillisUnsafe()
    const mono = Number(clock.monotonicTimeNanosUnsafe()) / 1e6
    const done = (fields: { ok: true; value?: unknown } | { ok: false; error: string }): Sample => {
      const latencyMs = Number(clock.monotonicTimeNanosUnsafe()) / 1e6 - mono
      return fields.ok
        ? (fields.value === undefined ? { at, mono, ok: true, latencyMs } : { at, mono, ok: true, latencyMs, value: fields.value })
        : { at, mono, ok: false, latencyMs, error: fields.error }
    }
    return probe.observe.pipe(
      Effect.timeoutOption(probe.timeout),
      Effect.matchCause({
        onSuccess: (o) =>
          o._tag === "Some"
            ? done({ ok: true, value: o.value })
            : done({ ok: false, error: `timed out after ${Duration.format(probe.timeout)}` }),
        onFailure: (cause) => done({ ok: false, error: errorText(Cause.squash(cause)) })
      })
    )
  })
