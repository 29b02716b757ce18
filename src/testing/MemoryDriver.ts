/**
 * An in-memory driver for tests: its targets are names, its faults mark them broken, and
 * every call is counted so tests can prove what was (and was not) touched.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import * as Ctx from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { Driver } from "../core/Driver.ts"
import { DriverError } from "../core/Driver.ts"
import * as Probe from "../core/Probe.ts"
import * as Selector from "../core/Selector.ts"
import * as Target from "../core/Target.ts"

/** @since 0.1.0 */
export interface MemoryState {
  /** Names currently broken. */
  readonly broken: Set<string>
  /** Every driver call, in order: `inject:<fault>:<name>` / `revert:<fault>:<name>`. */
  readonly calls: Array<string>
  /** Names whose revert fails (every attempt). */
  readonly failRevert: Set<string>
  /** Names whose injection fails. */
  readonly failInject: Set<string>
}

/**
 * The in-memory driver service; its shape is the generic Driver plus its state.
 *
 * @since 0.1.0
 */
export class MemoryDriver extends Ctx.Service<MemoryDriver, Driver & { readonly state: MemoryState }>()(
  "faultline/testing/MemoryDriver"
) {
  /**
   * A layer with the given targets (names and labels).
   *
   * @since 0.1.0
   */
  static readonly layer = (options: {
    readonly targets: ReadonlyArray<{ readonly name: string; readonly labels?: Record<string, string> }>
    readonly failRevert?: ReadonlyArray<string>
    readonly failInject?: ReadonlyArray<string>
  }): Layer.Layer<MemoryDriver> =>
    Layer.sync(MemoryDriver, () => {
      const state: MemoryState = {
        broken: new Set(),
        calls: [],
        failRevert: new Set(options.failRevert ?? []),
        failInject: new Set(options.failInject ?? [])
      }
      const targets = options.targets.map((t, i) => Target.make({ kind: "memory", id: String(i + 1), name: t.name, labels: t.labels ?? {} }))
      return MemoryDriver.of({
        name: "memory",
        state,
        discover: () => Effect.succeed(targets),
        inject: (fault, target) =>
          Effect.suspend(() => {
            state.calls.push(`inject:${fault._tag}:${target.name}`)
            if (state.failInject.has(target.name)) {
              return Effect.fail(
                new DriverError({ driver: "memory", operation: "inject", target: target.name, reason: "Unknown", detail: "Refused: configured to fail" })
              )
            }
            state.broken.add(target.name)
            return Effect.succeed({ name: target.name })
          }),
        revert: (r) =>
          Effect.suspend(() => {
            const name = String(r.data.name)
            state.calls.push(`revert:${r.fault}:${name}`)
            if (state.failRevert.has(name)) {
              return Effect.fail(
                new DriverError({ driver: "memory", operation: "revert", target: name, reason: "Unknown", detail: "Refused: configured to fail" })
              )
            }
            state.broken.delete(name)
            return Effect.void
          })
      })
    })
}

const driver = MemoryDriver as unknown as Context.Key<MemoryDriver, Driver>

/**
 * `memory.break`: marks the selected targets broken until reverted.
 *
 * @since 0.1.0
 */
export class MemoryBreak extends Schema.TaggedClass<MemoryBreak>()("memory.break", {
  target: Selector.Selector
}) {
  get driver() {
    return driver
  }
}

/** `memory.break` on the selected targets. @since 0.1.0 */
export const breakTargets = (target: Selector.Selector): MemoryBreak => new MemoryBreak({ target })

/**
 * A probe that is good while none of `names` (default: any) is broken.
 *
 * @since 0.1.0
 */
export const healthy = (names?: ReadonlyArray<string>): Probe.Probe<MemoryDriver> =>
  Probe.make(
    `memory healthy ${names?.join(",") ?? "*"}`,
    Effect.gen(function*() {
      const d = yield* MemoryDriver
      const bad = [...d.state.broken].filter((n) => names === undefined || names.includes(n))
      if (bad.length > 0) return yield* Effect.fail(new Error(`broken: ${bad.join(",")}`))
      return "ok"
    }),
    { spec: { kind: "memory", params: {} }, timeout: "1 second" }
  )
