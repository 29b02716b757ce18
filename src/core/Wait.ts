/**
 * Waits: polling a condition on the Effect Clock until it holds or a time limit passes. A
 * fault's effect (a container stopped, a process gone, an instance out of `stopping`) shows
 * asynchronously; every driver waits for it the same way, and a `TestClock` drives it.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/**
 * How often to look, and for how long.
 *
 * @since 0.1.0
 */
export interface Options {
  /** The pause between two looks. */
  readonly every: Duration.Input
  /** The time after which the last look is taken; the first look is immediate. */
  readonly timeout: Duration.Input
}

/**
 * Runs `get` now and again every `every` until `done` holds of its value or `timeout` has
 * passed, and returns the last value (which may not satisfy `done`).
 *
 * @example
 * ```ts
 * const state = yield* Wait.poll(instanceState(id), { every: "1 second", timeout: "10 minutes", done: (s) => s !== "stopping" })
 * ```
 * @since 0.1.0
 */
export const poll = <A, E, R>(
  get: Effect.Effect<A, E, R>,
  options: Options & { readonly done: (a: A) => boolean }
): Effect.Effect<A, E, R> =>
  get.pipe(
    Effect.repeat({
      // The schedule ends after the first look past the timeout: one look always comes late.
      schedule: Schedule.spaced(options.every).pipe(Schedule.upTo({ duration: options.timeout })),
      until: options.done
    })
  )

/**
 * Waits until `check` is true. Without `onTimeout`, says whether it became true in time;
 * with it, fails with its error when it did not.
 *
 * @example
 * ```ts
 * yield* Wait.until(isStopped(pid), { every: "2 millis", timeout: "1 second", onTimeout: () => new Ineffective() })
 * ```
 * @since 0.1.0
 */
export const until: {
  <E, R, E2>(
    check: Effect.Effect<boolean, E, R>,
    options: Options & { readonly onTimeout: () => E2 }
  ): Effect.Effect<void, E | E2, R>
  <E, R>(check: Effect.Effect<boolean, E, R>, options: Options): Effect.Effect<boolean, E, R>
} = <E, R, E2>(
  check: Effect.Effect<boolean, E, R>,
  options: Options & { readonly onTimeout?: () => E2 }
): Effect.Effect<any, E | E2, R> =>
  Effect.flatMap(poll(check, { ...options, done: (ok) => ok }), (ok) => {
    if (options.onTimeout === undefined) return Effect.succeed(ok)
    return ok ? Effect.void : Effect.fail(options.onTimeout())
  })
