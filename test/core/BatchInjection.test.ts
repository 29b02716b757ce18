import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import { Driver, Fault, Run, Selector } from "../../src/index.ts"
import { breakTargets, MemoryDriver } from "../../src/testing/index.ts"

// A driver with injectBatch (one call for many targets, as EC2 StopInstances) still gets one
// ledger record and one revert per target; a failed batch leaves nothing open behind it.

const targets = [{ name: "a" }, { name: "b" }, { name: "c" }]

// The in-memory driver, given `prepare` and `injectBatch`.
const batching = (options: { readonly failBatch?: boolean; readonly failRevert?: ReadonlyArray<string> } = {}) =>
  Layer.effect(
    MemoryDriver,
    Effect.gen(function*() {
      const d = yield* MemoryDriver
      return MemoryDriver.of({
        ...d,
        prepare: (_fault, target) => Effect.succeed({ name: target.name, prepared: true }),
        injectBatch: (fault, ts) =>
          Effect.suspend(() => {
            d.state.calls.push(`batch:${fault._tag}:${ts.map((t) => t.name).join(",")}`)
            if (options.failBatch) {
              return Effect.fail(new Driver.DriverError({ driver: "memory", operation: "injectBatch", target: "*", reason: "AccessDenied", detail: "quota" }))
            }
            for (const t of ts) d.state.broken.add(t.name)
            return Effect.succeed(ts.map((t) => ({ name: t.name, batch: t.name.toUpperCase() })))
          })
      })
    })
  ).pipe(Layer.provide(MemoryDriver.layer({ targets, failRevert: options.failRevert ?? [] })))

const events = (run: Run.Run["Service"]) => run.journal.snapshot().map((e) => e.event)

describe("Fault.inject with a batching driver", () => {
  it.effect("one call for every target; each gets its own record, revert data and revert, in reverse order", () =>
    Effect.gen(function*() {
      const d = yield* MemoryDriver
      const run = yield* Run.Run
      const scope = yield* Scope.make()
      const injs = yield* Fault.inject(breakTargets(Selector.all)).pipe(Scope.provide(scope))
      assert.deepStrictEqual(d.state.calls, ["batch:memory.break:a,b,c"])
      assert.deepStrictEqual(injs.map((i) => [i.faultId, i.target.name]), [["f1", "a"], ["f2", "b"], ["f3", "c"]])
      // Revert data: what prepare computed, then what the batch returned for that target.
      assert.deepStrictEqual(injs.map((i) => i.revert.data), [
        { name: "a", prepared: true, batch: "A" },
        { name: "b", prepared: true, batch: "B" },
        { name: "c", prepared: true, batch: "C" }
      ])
      const injected = events(run).filter((e) => e._tag === "FaultInjected")
      assert.deepStrictEqual(injected.map((e) => e._tag === "FaultInjected" ? [e.faultId, e.revert.data] : []), injs.map((i) => [i.faultId, i.revert.data]))
      const open = yield* run.ledger.open
      assert.deepStrictEqual(open.map((r) => [r.faultId, r.state, r.revert.data]), injs.map((i) => [i.faultId, "injected", i.revert.data]))

      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(d.state.calls.slice(1), ["revert:memory.break:c", "revert:memory.break:b", "revert:memory.break:a"])
      assert.strictEqual(d.state.broken.size, 0)
      assert.deepStrictEqual(yield* run.ledger.open, [])
    }).pipe(Effect.provide(Layer.mergeAll(batching(), Run.layerTest()))))

  it.effect("a failed batch: every target journaled as failed, reverted from its prepared data, closed", () =>
    Effect.gen(function*() {
      const d = yield* MemoryDriver
      const run = yield* Run.Run
      const e = yield* Effect.flip(Effect.scoped(Fault.inject(breakTargets(Selector.all))))
      assert.strictEqual(e._tag, "InjectionFailed")
      assert.deepInclude(e, { fault: "memory.break", target: "memory a, memory b, memory c" })
      assert.include(e.message, "quota")
      const failed = events(run).filter((x) => x._tag === "FaultInjectFailed")
      assert.deepStrictEqual(failed.map((x) => x._tag === "FaultInjectFailed" ? x.faultId : ""), ["f1", "f2", "f3"])
      assert.isTrue(failed.every((x) => x._tag === "FaultInjectFailed" && x.error.includes("quota")))
      assert.deepStrictEqual(d.state.calls, ["batch:memory.break:a,b,c", "revert:memory.break:a", "revert:memory.break:b", "revert:memory.break:c"])
      assert.deepStrictEqual(yield* run.ledger.open, [])
      assert.isFalse(run.cleanupFailed.value)
    }).pipe(Effect.provide(Layer.mergeAll(batching({ failBatch: true }), Run.layerTest()))))

  it.effect("a failed batch whose prepared revert fails keeps that record open and marks the cleanup failed", () =>
    Effect.gen(function*() {
      const run = yield* Run.Run
      yield* Effect.flip(Effect.scoped(Fault.inject(breakTargets(Selector.all))))
      const revertFailed = events(run).filter((x) => x._tag === "FaultRevertFailed")
      assert.deepStrictEqual(revertFailed.map((x) => x._tag === "FaultRevertFailed" ? [x.faultId, x.attempts] : []), [["f2", 1]])
      assert.deepStrictEqual((yield* run.ledger.open).map((r) => r.faultId), ["f2"])
      assert.isTrue(run.cleanupFailed.value)
      // In-memory leases are shared by the whole process: release b's for the other tests.
      yield* run.ledger.endRun(run.runId)
    }).pipe(Effect.provide(Layer.mergeAll(batching({ failBatch: true, failRevert: ["b"] }), Run.layerTest()))))
})
