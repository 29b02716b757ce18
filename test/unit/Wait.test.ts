import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as Wait from "../../src/core/Wait.ts"

// A condition that turns true once the Clock reaches `at` ms; it counts its looks.
const becomesTrueAt = (at: number) => {
  const looks: Array<number> = []
  const check = Effect.map(Clock.currentTimeMillis, (now) => {
    looks.push(now)
    return now >= at
  })
  return { looks, check }
}

describe("Wait", () => {
  it.effect("until: looks at once, then every `every`, and stops at the first true", () =>
    Effect.gen(function*() {
      const c = becomesTrueAt(30)
      const fiber = yield* Effect.forkChild(Wait.until(c.check, { every: "10 millis", timeout: "1 second" }))
      yield* TestClock.adjust("100 millis")
      assert.isTrue(yield* Fiber.join(fiber))
      assert.deepStrictEqual(c.looks, [0, 10, 20, 30])
    }))

  it.effect("until: false after the timeout, with one look past it", () =>
    Effect.gen(function*() {
      const c = becomesTrueAt(10_000)
      const fiber = yield* Effect.forkChild(Wait.until(c.check, { every: "20 millis", timeout: "100 millis" }))
      yield* TestClock.adjust("1 second")
      assert.isFalse(yield* Fiber.join(fiber))
      assert.strictEqual(c.looks[0], 0)
      assert.isAbove(c.looks.at(-1)!, 100)
      assert.isAtMost(c.looks.at(-1)!, 120)
    }))

  it.effect("until with onTimeout fails with its error, and succeeds when the condition holds", () =>
    Effect.gen(function*() {
      const late = becomesTrueAt(10_000)
      const failing = yield* Effect.forkChild(Effect.flip(
        Wait.until(late.check, { every: "5 millis", timeout: "50 millis", onTimeout: () => "not observed" as const })
      ))
      const soon = becomesTrueAt(15)
      const passing = yield* Effect.forkChild(
        Wait.until(soon.check, { every: "5 millis", timeout: "50 millis", onTimeout: () => "not observed" as const })
      )
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(failing), "not observed")
      assert.isUndefined(yield* Fiber.join(passing))
    }))

  it.effect("poll returns the last value, done or not", () =>
    Effect.gen(function*() {
      let n = 0
      const get = Effect.sync(() => ++n)
      const done = yield* Effect.forkChild(Wait.poll(get, { every: "1 second", timeout: "1 minute", done: (x) => x === 3 }))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Fiber.join(done), 3)
      n = 0
      const notDone = yield* Effect.forkChild(Wait.poll(get, { every: "1 second", timeout: "5 seconds", done: () => false }))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Fiber.join(notDone), 7)
    }))

  it.effect("a failing check fails the wait at once", () =>
    Effect.gen(function*() {
      let looks = 0
      const check = Effect.suspend(() => ++looks === 2 ? Effect.fail("gone") : Effect.succeed(false))
      const fiber = yield* Effect.forkChild(Effect.flip(Wait.until(check, { every: "10 millis", timeout: "1 second" })))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "gone")
      assert.strictEqual(looks, 2)
    }))
})
