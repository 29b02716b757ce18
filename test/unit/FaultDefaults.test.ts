import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import * as Fault from "../../src/core/Fault.ts"
import * as Guard from "../../src/core/Guard.ts"
import * as Run from "../../src/core/Run.ts"
import * as Selector from "../../src/core/Selector.ts"
import { MemoryDriver } from "../../src/testing/index.ts"

const targets = [{ name: "a", labels: { allow: "yes" } }, { name: "b", labels: { allow: "yes" } }, { name: "c" }]

// A fault with driver-contributed defaults, shaped like the Docker faults.
const fault = (options: { target: Selector.Selector; irreversible?: boolean }) =>
  ({
    _tag: "memory.break",
    target: options.target,
    driver: MemoryDriver as any,
    defaultGuards: [Guard.allowLabel("allow", "yes"), Guard.maxTargets(1)],
    irreversible: options.irreversible
  }) as Fault.Fault<MemoryDriver>

describe("Fault: default guards, irreversible faults, concurrency", () => {
  it("guardsFor: the run's guards add to the fault's defaults; only replaceDefaultGuards drops them", () => {
    const f = fault({ target: Selector.all })
    assert.deepStrictEqual(Fault.guardsFor([], f), [Guard.allowLabel("allow", "yes"), Guard.maxTargets(1)])
    // A guard of the same kind does not replace the default: both are checked.
    assert.deepStrictEqual(Fault.guardsFor([Guard.allowLabel("team", "a")], f), [
      Guard.allowLabel("team", "a"),
      Guard.allowLabel("allow", "yes"),
      Guard.maxTargets(1)
    ])
    assert.deepStrictEqual(Fault.guardsFor([Guard.maxTargets(5)], f), [Guard.maxTargets(5), Guard.allowLabel("allow", "yes"), Guard.maxTargets(1)])
    assert.deepStrictEqual(Fault.guardsFor([Guard.maxTargets(5)], f, true), [Guard.maxTargets(5)])
  })

  it.effect("an experiment's own allow-label guard does not drop the default one: a target lacking the default label is refused", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Fault.inject(fault({ target: Selector.name("c") }))))
      assert.isTrue(Exit.isFailure(exit))
      const e = Cause.squash((exit as any).cause) as any
      assert.strictEqual(e._tag, "GuardRejected")
      assert.include(e.guard, "allow=yes")
      assert.deepStrictEqual((yield* MemoryDriver).state.calls, [])
    }).pipe(
      Effect.provide(Run.layerTest({ guards: [Guard.allowLabel("team", "a")] })),
      Effect.provide(MemoryDriver.layer({ targets: [...targets.slice(0, 2), { name: "c", labels: { team: "a" } }] }))
    ))

  it.effect("replaceDefaultGuards drops the defaults, and the journal says which", () =>
    Effect.gen(function*() {
      yield* Effect.scoped(Fault.inject(fault({ target: Selector.name("c") })))
      assert.deepStrictEqual((yield* MemoryDriver).state.calls, ["inject:memory.break:c", "revert:memory.break:c"])
      const entries = yield* (yield* Run.Run).journal.entries
      const named = entries.find((x) => x.event._tag === "GuardChecked" && x.event.guard === "replaceDefaultGuards")
      assert.isDefined(named)
      assert.include((named!.event as any).detail, "allowLabel(allow=yes)")
    }).pipe(
      Effect.provide(Run.layerTest({ guards: [Guard.allowLabel("team", "a")], replaceDefaultGuards: true })),
      Effect.provide(MemoryDriver.layer({ targets: [...targets.slice(0, 2), { name: "c", labels: { team: "a" } }] }))
    ))

  it.effect("default guards apply: a target without the allow label is refused, nothing touched", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Fault.inject(fault({ target: Selector.name("c") }))))
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual((Cause.squash((exit as any).cause) as any)._tag, "GuardRejected")
      assert.deepStrictEqual((yield* MemoryDriver).state.calls, [])
    }).pipe(Effect.provide(Run.layerTest()), Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("an experiment-level maxTargets does not lift the default cap; with replaceDefaultGuards it does", () =>
    Effect.gen(function*() {
      const capped = yield* Effect.exit(Effect.scoped(Fault.inject(fault({ target: Selector.name("a", "b") }), { concurrency: 2 })))
      assert.isTrue(Exit.isFailure(capped))
      assert.deepStrictEqual((yield* MemoryDriver).state.calls, [])
      const injections = yield* Effect.scoped(
        Fault.inject(fault({ target: Selector.name("a", "b") }), { concurrency: 2 }).pipe(
          Effect.provide(Run.layerTest({ guards: [Guard.maxTargets(2), Guard.allowLabel("allow", "yes")], replaceDefaultGuards: true }))
        )
      )
      assert.strictEqual(injections.length, 2)
      const d = yield* MemoryDriver
      assert.deepStrictEqual([...d.state.calls].sort(), ["inject:memory.break:a", "inject:memory.break:b", "revert:memory.break:a", "revert:memory.break:b"])
      assert.strictEqual(d.state.broken.size, 0)
    }).pipe(Effect.provide(Run.layerTest({ guards: [Guard.maxTargets(2)] })), Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("an irreversible fault is refused unless the run allows irreversible faults", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Fault.inject(fault({ target: Selector.name("a"), irreversible: true }))))
      assert.isTrue(Exit.isFailure(exit))
      const e = Cause.squash((exit as any).cause) as any
      assert.strictEqual(e._tag, "GuardRejected")
      assert.strictEqual(e.guard, "irreversible")
      assert.deepStrictEqual((yield* MemoryDriver).state.calls, [])
    }).pipe(Effect.provide(Run.layerTest()), Effect.provide(MemoryDriver.layer({ targets }))))

  it.effect("with irreversible: true it proceeds", () =>
    Effect.gen(function*() {
      yield* Effect.scoped(Fault.inject(fault({ target: Selector.name("a"), irreversible: true })))
      assert.deepStrictEqual((yield* MemoryDriver).state.calls, ["inject:memory.break:a", "revert:memory.break:a"])
    }).pipe(Effect.provide(Run.layerTest({ irreversible: true })), Effect.provide(MemoryDriver.layer({ targets }))))
})
