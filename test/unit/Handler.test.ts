import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { boundary, DriverError } from "../../src/core/Driver.ts"
import * as Handler from "../../src/core/Handler.ts"
import * as Target from "../../src/core/Target.ts"

// A tiny family of faults over an in-memory "system": the context records every call.
type Flip = { readonly _tag: "t.flip"; readonly to: boolean }
type Burst = { readonly _tag: "t.burst"; readonly size: number }
type Faults = Flip | Burst

interface Ctx {
  readonly calls: Array<string>
  readonly on: Set<string>
  /** The flip "lands" but does not show (to exercise verify). */
  readonly ineffective: boolean
}
class TestError {
  readonly _tag = "TestError"
  readonly reason: "Unknown" | "Ineffective"
  readonly detail: string
  constructor(reason: "Unknown" | "Ineffective", detail: string) {
    this.reason = reason
    this.detail = detail
  }
}

const handlers: Handler.Handlers<Ctx, Faults, TestError> = {
  "t.flip": {
    prepare: (_ctx, _fault, target) => Effect.succeed({ name: target.name, prepared: true }),
    inject: (ctx, fault, target) =>
      Effect.sync(() => {
        ctx.calls.push(`flip ${target.name} ${fault.to}`)
        if (!ctx.ineffective) ctx.on.add(target.name)
        return { name: target.name }
      }),
    verify: (ctx, _fault, target) => ctx.on.has(target.name) ? Effect.void : Effect.fail(new TestError("Ineffective", `${target.name} did not flip`)),
    revert: (ctx, data) =>
      Effect.sync(() => {
        ctx.calls.push(`unflip ${String(data.name)}`)
        ctx.on.delete(String(data.name))
      })
  },
  // Batch only, no revert: over by itself.
  "t.burst": {
    injectBatch: (ctx, fault, targets) =>
      Effect.sync(() => {
        ctx.calls.push(`burst ${fault.size} ${targets.map((t) => t.name).join(",")}`)
        return targets.map((t) => ({ name: t.name }))
      })
  }
}

const d = Handler.dispatch(handlers, {
  discover: (ctx) => Effect.sync(() => [...ctx.on].map((n) => Target.make({ kind: "t", id: n, name: n }))),
  unknown: (tag, operation) => new TestError("Unknown", `${operation}: unknown fault ${tag}`)
})
const ctx = (ineffective = false): Ctx => ({ calls: [], on: new Set(), ineffective })
const a = Target.make({ kind: "t", id: "a", name: "a" })
const b = Target.make({ kind: "t", id: "b", name: "b" })

describe("Handler.dispatch", () => {
  it.effect("routes each operation to the fault's own handler", () =>
    Effect.gen(function*() {
      const c = ctx()
      assert.deepStrictEqual(yield* d.prepare(c, { _tag: "t.flip", to: true }, a), { name: "a", prepared: true })
      // No prepare: nothing known ahead.
      assert.deepStrictEqual(yield* d.prepare(c, { _tag: "t.burst", size: 3 }, a), {})
      yield* d.inject(c, { _tag: "t.flip", to: true }, a)
      assert.isTrue(c.on.has("a"))
      yield* d.revert(c, "t.flip", { name: "a" })
      assert.isFalse(c.on.has("a"))
      assert.deepStrictEqual(c.calls, ["flip a true", "unflip a"])
    }))

  it.effect("a failed verify reverts what landed, then fails with the verify's error", () =>
    Effect.gen(function*() {
      const c = ctx(true)
      const e = yield* Effect.flip(d.inject(c, { _tag: "t.flip", to: true }, a))
      assert.strictEqual(e.reason, "Ineffective")
      assert.deepStrictEqual(c.calls, ["flip a true", "unflip a"])
    }))

  it.effect("inject of a batch-only handler is a batch of one; injectBatch of a single-target handler is one inject per target", () =>
    Effect.gen(function*() {
      const c = ctx()
      assert.deepStrictEqual(yield* d.inject(c, { _tag: "t.burst", size: 2 }, a), { name: "a" })
      const datas = yield* d.injectBatch(c, { _tag: "t.burst", size: 2 }, [a, b])
      assert.deepStrictEqual(datas, [{ name: "a" }, { name: "b" }])
      yield* d.injectBatch(c, { _tag: "t.flip", to: true }, [a, b])
      assert.deepStrictEqual(c.calls, ["burst 2 a", "burst 2 a,b", "flip a true", "flip b true"])
      assert.isTrue(d.batches)
    }))

  it.effect("a handler without revert reverts as a no-op; an unknown tag fails with the table's error", () =>
    Effect.gen(function*() {
      const c = ctx()
      yield* d.revert(c, "t.burst", { name: "a" })
      const e = yield* Effect.flip(d.revert(c, "t.nope", {}))
      assert.strictEqual(e.detail, "revert: unknown fault t.nope")
      // Not fooled by the prototype's keys.
      const p = yield* Effect.flip(d.inject(c, { _tag: "constructor" } as unknown as Faults, a))
      assert.strictEqual(p.reason, "Unknown")
      assert.deepStrictEqual(c.calls, [])
    }))

  it.effect("discover uses the default when the handler has none, even without a fault", () =>
    Effect.gen(function*() {
      const c = ctx()
      c.on.add("x")
      const ts = yield* d.discover(c, null as unknown as Faults)
      assert.deepStrictEqual(ts.map((t) => t.name), ["x"])
    }))

  it.effect("bind maps errors at the boundary and offers injectBatch and plan only when a handler has them", () =>
    Effect.gen(function*() {
      const seen: Array<Handler.At> = []
      const bound = Handler.bind(d, ctx(true), (e, at) => {
        seen.push(at)
        return new DriverError({ driver: "t", operation: at.operation, target: at.target?.name ?? "-", reason: "InjectionIneffective", detail: e.detail })
      })
      const exit = yield* Effect.exit(bound.inject({ _tag: "t.flip", to: true }, a))
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(seen.map((s) => [s.operation, s.fault, s.target?.name]), [["inject", "t.flip", "a"]])
      assert.isDefined(bound.injectBatch)
      assert.isUndefined(bound.plan)
      const single = Handler.dispatch({ "t.flip": handlers["t.flip"] } as Handler.Handlers<Ctx, Flip, TestError>, {
        discover: () => Effect.succeed([]),
        unknown: (tag) => new TestError("Unknown", tag)
      })
      const boundSingle = Handler.bind(single, ctx(), () => new DriverError({ driver: "t", operation: "x", target: "-", reason: "Unknown", detail: "" }))
      assert.isUndefined(boundSingle.injectBatch)
    }))
})

describe("DriverError.boundary", () => {
  it("maps each target reason to a driver reason, keeping a finer one at the head of the detail", () => {
    const map = boundary<"NotFound" | "HelperFailed">("t", { NotFound: "NotFound", HelperFailed: "CommandFailed" })
    const same = map({ reason: "NotFound", detail: "no such thing" }, { operation: "inject", target: "a" })
    assert.strictEqual(same.reason, "NotFound")
    assert.strictEqual(same.detail, "no such thing")
    const finer = map({ reason: "HelperFailed", detail: "exit 2" }, { operation: "revert", target: "b", detail: "tc: exit 2" })
    assert.strictEqual(finer.reason, "CommandFailed")
    assert.strictEqual(finer.detail, "HelperFailed: tc: exit 2")
    assert.strictEqual(finer.message, "t.revert on b: CommandFailed (HelperFailed: tc: exit 2)")
  })
})
