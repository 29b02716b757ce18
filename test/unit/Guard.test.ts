import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { Guard, Target } from "../../src/index.ts"

const t = (id: number, name: string, labels: Record<string, string> = {}) => Target.make({ kind: "process", id: String(id), name, labels })

const allowed = t(1, "api-1", { "faultline.allow": "true" })
const alsoAllowed = t(2, "api-2", { "faultline.allow": "true", tier: "web" })
const forbidden = t(3, "db", { "faultline.allow": "false" })
const unlabelled = t(4, "cache")

const rejection = <A>(e: Effect.Effect<A, Guard.GuardRejected>) =>
  Effect.map(Effect.flip(e), (err) => {
    assert.strictEqual(err._tag, "GuardRejected")
    return err
  })

describe("Guard.allowLabel", () => {
  it.effect("passes when every target carries the label", () =>
    Effect.gen(function*() {
      const detail = yield* Guard.check(Guard.allowLabel("faultline.allow"), [allowed, alsoAllowed])
      assert.include(detail, "2 targets")
    }))

  it.effect("refuses when one target lacks it or has another value, naming those targets", () =>
    Effect.gen(function*() {
      const e = yield* rejection(Guard.check(Guard.allowLabel("faultline.allow"), [allowed, forbidden, unlabelled]))
      assert.include(e.reason, "db (3)")
      assert.include(e.reason, "cache (4)")
      assert.notInclude(e.reason, "api-1")
      assert.include(e.guard, "allowLabel(faultline.allow=true)")
    }))

  it.effect("honours a custom value", () =>
    Effect.gen(function*() {
      yield* Guard.check(Guard.allowLabel("tier", "web"), [alsoAllowed])
      yield* rejection(Guard.check(Guard.allowLabel("tier", "web"), [allowed]))
    }))
})

describe("Guard.maxTargets", () => {
  it.effect("allows up to n targets and refuses more", () =>
    Effect.gen(function*() {
      yield* Guard.check(Guard.maxTargets(2), [allowed])
      yield* Guard.check(Guard.maxTargets(2), [allowed, alsoAllowed])
      const e = yield* rejection(Guard.check(Guard.maxTargets(2), [allowed, alsoAllowed, forbidden]))
      assert.include(e.reason, "3 targets")
      assert.include(e.reason, "cap is 2")
    }))
})

describe("Guard.environment", () => {
  const VAR = "FAULTLINE_TEST_GUARD_ENV"
  const withEnv = <A, E, R>(value: string | undefined, effect: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const before = process.env[VAR]
        if (value === undefined) delete process.env[VAR]
        else process.env[VAR] = value
        return before
      }),
      () => effect,
      (before) =>
        Effect.sync(() => {
          if (before === undefined) delete process.env[VAR]
          else process.env[VAR] = before
        })
    )

  it.effect("passes when the variable holds an allowed value", () =>
    withEnv(
      "staging",
      Effect.gen(function*() {
        const detail = yield* Guard.check(Guard.environment(VAR, ["dev", "staging"]), [allowed])
        assert.include(detail, "staging")
      })
    ))

  it.effect("refuses another value", () =>
    withEnv(
      "production",
      Effect.gen(function*() {
        const e = yield* rejection(Guard.check(Guard.environment(VAR, ["dev", "staging"]), [allowed]))
        assert.include(e.reason, "production")
      })
    ))

  it.effect("refuses when the variable is unset", () =>
    withEnv(
      undefined,
      Effect.gen(function*() {
        const e = yield* rejection(Guard.check(Guard.environment(VAR, ["dev", "staging"]), [allowed]))
        assert.include(e.reason, "unset")
      })
    ))

  it.effect("does not accept a prefix or substring of an allowed value", () =>
    withEnv(
      "stag",
      Effect.gen(function*() {
        yield* rejection(Guard.check(Guard.environment(VAR, ["staging"]), [allowed]))
      })
    ))
})

describe("Guard.changeFreeze", () => {
  const freeze = Guard.changeFreeze([
    { from: "2030-12-20T00:00:00Z", to: "2031-01-03T00:00:00Z", reason: "year-end freeze" },
    { from: "2030-06-01T12:00:00Z", to: "2030-06-01T14:00:00Z" }
  ])

  it.effect("refuses inside a window, naming it and its reason", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2030-12-25T10:00:00Z"))
      const e = yield* rejection(Guard.check(freeze, [allowed]))
      assert.include(e.reason, "2030-12-20T00:00:00Z")
      assert.include(e.reason, "year-end freeze")
      yield* TestClock.setTime(Date.parse("2030-06-01T13:59:59Z"))
      yield* rejection(Guard.check(freeze, [allowed]))
    }))

  it.effect("refuses at the very start of a window", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2030-06-01T12:00:00Z"))
      yield* rejection(Guard.check(freeze, [allowed]))
    }))

  it.effect("passes outside every window (the end instant is outside)", () =>
    Effect.gen(function*() {
      for (const at of ["2030-12-19T23:59:59Z", "2031-01-03T00:00:00Z", "2030-06-01T11:59:59Z", "2030-06-01T14:00:00Z"]) {
        yield* TestClock.setTime(Date.parse(at))
        const detail = yield* Guard.check(freeze, [allowed])
        assert.include(detail, "outside", at)
      }
    }))

  it.effect("refuses a malformed window rather than ignoring it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2030-03-01T00:00:00Z"))
      const g = Guard.changeFreeze([{ from: "next tuesday", to: "2030-12-31T00:00:00Z" }])
      const e = yield* rejection(Guard.check(g, [allowed]))
      assert.include(e.reason, "next tuesday")
      assert.include(e.reason, "ISO-8601")
    }))
})
