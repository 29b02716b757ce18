/**
 * The scheduler under TestClock: a freeze skips a cron drill and the next firing after it
 * runs; an unannounced drill fires at a seeded instant inside its window; budget, lease and
 * concurrency skips say why; interrupting the scheduler interrupts the running drill, whose
 * fault is reverted. Every decision is journaled.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Experiment, Fault, Hypothesis, Selector, Tolerance } from "../../src/index.ts"
import * as Drills from "../../src/schedule/Drills.ts"
import * as Scheduler from "../../src/schedule/Scheduler.ts"
import * as TimeWindows from "../../src/schedule/TimeWindows.ts"
import { breakTargets, healthy, MemoryDriver } from "../../src/testing/index.ts"

const plan = (f: Drills.DrillsFile) => Effect.orDie(Drills.compile(f, "drills.yaml"))

const host = <R = never>(decisions: Array<Scheduler.Decision>, over: Partial<Scheduler.Host<R>> = {}): Scheduler.Host<R> => ({
  run: () => Effect.as(Effect.sleep("5 minutes"), { runId: "r", status: "passed" }),
  budget: () => Effect.succeed(null),
  leaseHolder: () => Effect.succeed(null),
  journal: (d) => Effect.sync(() => decisions.push(d)),
  ...over
})

const iso = (t: number) => new Date(t).toISOString()

describe("Scheduler", () => {
  it.effect("skips a cron drill inside a freeze (reason journaled) and runs it at the first firing after", () =>
    Effect.gen(function*() {
      // 10:00 in Berlin (CET, +01:00) is 09:00Z; the freeze is 20 and 21 December, local.
      yield* TestClock.setTime(Date.parse("2026-12-19T12:00:00Z"))
      const p = yield* plan({
        timeZone: "Europe/Berlin",
        freeze: [{ from: "2026-12-20", to: "2026-12-22", reason: "holidays" }],
        drills: [{ name: "kv failover", experiment: "kv.yaml", cron: "0 10 * * *" }]
      })
      const decisions: Array<Scheduler.Decision> = []
      const fiber = yield* Effect.forkChild(Scheduler.run(p, host(decisions)))
      yield* TestClock.adjust("4 days")
      yield* Fiber.interrupt(fiber)
      const seen = decisions.map((d) => `${iso(d.plannedAt)} ${d.decision}${d.reason ? ` ${d.reason.split(":")[0]}` : ""}`)
      assert.deepStrictEqual(seen, [
        "2026-12-20T09:00:00.000Z skipped freeze",
        "2026-12-21T09:00:00.000Z skipped freeze",
        "2026-12-22T09:00:00.000Z started",
        "2026-12-22T09:00:00.000Z ran",
        "2026-12-23T09:00:00.000Z started",
        "2026-12-23T09:00:00.000Z ran"
      ])
      assert.include(decisions[0]!.reason!, "(holidays)")
      // It started at the planned instant, to the millisecond (TestClock).
      assert.strictEqual(decisions[2]!.at, decisions[2]!.plannedAt)
    }))

  it.effect("an unannounced drill fires at a seeded instant inside each weekday window, journaled before it fires", () =>
    Effect.gen(function*() {
      const monday = Date.parse("2026-03-02T00:00:00Z")
      yield* TestClock.setTime(monday)
      const file = (seed: number): Drills.DrillsFile => ({
        timeZone: "Europe/Berlin",
        drills: [{ name: "surprise", experiment: "kv.yaml", unannounced: { within: { cron: "0 9 * * 1-5", for: "8 hours" }, seed } }]
      })
      const decisions: Array<Scheduler.Decision> = []
      const fiber = yield* Effect.forkChild(Scheduler.run(yield* plan(file(42)), host(decisions)))
      yield* TestClock.adjust("7 days")
      yield* Fiber.interrupt(fiber)
      const ran = decisions.filter((d) => d.decision === "started")
      assert.strictEqual(ran.length, 5, "one per weekday")
      const window = TimeWindows.compile({ cron: "0 9 * * 1-5", for: "8 hours" }, "Europe/Berlin")
      assert(typeof window !== "string")
      for (const d of ran) {
        const w = window.at(d.plannedAt)
        assert.isNotNull(w, `${iso(d.plannedAt)} is inside 09:00-17:00 Berlin`)
        assert.strictEqual(d.at, d.plannedAt)
        // It was drawn (and journaled) before it fired.
        assert.isTrue(decisions.some((x) => x.decision === "planned" && x.plannedAt === d.plannedAt && x.at < d.at))
      }
      // Seeded: the same seed draws the same instants; another seed, others.
      const again = yield* plan(file(42))
      const other = yield* plan(file(7))
      assert.strictEqual(again.drills[0]!.trigger.next(monday), ran[0]!.plannedAt)
      assert.notStrictEqual(other.drills[0]!.trigger.next(monday), ran[0]!.plannedAt)
      // Not all at the same time of day.
      assert.isAbove(new Set(ran.map((d) => (d.plannedAt - Date.parse("2026-03-02T08:00:00Z")) % 86_400_000)).size, 1)
    }))

  it.effect("outside every allowed window, with a target leased, over the cap or out of budget: skipped with that reason", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-03-02T07:59:00Z"))
      const p = yield* plan({
        timeZone: "UTC",
        maxConcurrency: 1,
        allowed: [{ cron: "0 8 * * *", for: "2 hours" }],
        drills: [
          { name: "a", experiment: "a.yaml", cron: "*/30 * * * *", targets: ["process:kv-primary"] },
          { name: "b", experiment: "b.yaml", cron: "*/30 * * * *" },
          { name: "c", experiment: "c.yaml", cron: "*/30 * * * *", targets: ["process:leased"] },
          { name: "d", experiment: "d.yaml", cron: "15 8 * * *" }
        ]
      })
      const decisions: Array<Scheduler.Decision> = []
      const fiber = yield* Effect.forkChild(Scheduler.run(
        p,
        host(decisions, {
          leaseHolder: (t) => Effect.succeed(t === "process:leased" ? "run-other" : null),
          budget: (d) => Effect.succeed(d.name === "d" ? "kv availability: 10.0% left, needs 25.0%" : null)
        })
      ))
      yield* TestClock.adjust("150 minutes")
      yield* Fiber.interrupt(fiber)
      const at8 = decisions.filter((d) => d.plannedAt === Date.parse("2026-03-02T08:00:00Z") && d.decision !== "ran")
      assert.deepStrictEqual(at8.map((d) => [d.drill, d.decision, d.reason?.split(":")[0]]), [
        ["a", "started", undefined],
        ["b", "skipped", "concurrency"],
        ["c", "skipped", "lease"]
      ])
      const at10 = decisions.filter((d) => d.plannedAt === Date.parse("2026-03-02T10:00:00Z"))
      assert.isTrue(at10.every((d) => d.decision === "skipped" && d.reason!.startsWith("window")))
      // At 08:15 nothing runs (a took 5 minutes): the budget gate refuses d.
      const d = decisions.find((d) => d.drill === "d")!
      assert.strictEqual(d.plannedAt, Date.parse("2026-03-02T08:15:00Z"))
      assert.strictEqual(d.reason, "budget: kv availability: 10.0% left, needs 25.0%")
    }))

  it.effect("interrupting the scheduler interrupts the running drill: its fault is reverted and the interruption journaled", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-03-02T07:59:00Z"))
      const driver = yield* MemoryDriver
      const exp = Experiment.make({
        name: "long drill",
        hypothesis: Hypothesis.make("serves", { probe: healthy(["a"]), every: "1 second", tolerance: Tolerance.successRatio({ atLeast: 0.5 }) }),
        method: Effect.andThen(Fault.inject(breakTargets(Selector.name("b"))), Effect.sleep("1 hour"))
      })
      const p = yield* plan({ drills: [{ name: "long", experiment: "x.yaml", cron: "0 8 * * *" }] })
      const decisions: Array<Scheduler.Decision> = []
      const fiber = yield* Effect.forkChild(Scheduler.run(
        p,
        host<MemoryDriver>(decisions, {
          run: () => Effect.map(Experiment.run(exp), (r) => ({ runId: r.runId, status: r.verdict.status }))
        })
      ))
      yield* TestClock.adjust("10 minutes")
      assert.isTrue(driver.state.broken.has("b"), "the drill's fault is in place")
      yield* Fiber.interrupt(fiber)
      assert.isFalse(driver.state.broken.has("b"), "reverted")
      assert.include(driver.state.calls, "revert:memory.break:b")
      assert.deepStrictEqual(decisions.map((d) => d.decision), ["started", "interrupted"])
    }).pipe(Effect.provide(Layer.fresh(MemoryDriver.layer({ targets: [{ name: "a" }, { name: "b" }] })))))

  it.effect("--once fires what is due in the grace period and waits for it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-03-02T08:00:20Z"))
      const p = yield* plan({
        drills: [
          { name: "due", experiment: "a.yaml", cron: "0 8 * * *", approvedBy: "alice" },
          { name: "later", experiment: "b.yaml", cron: "0 9 * * *" }
        ]
      })
      const fiber = yield* Effect.forkChild(Scheduler.once(p, host([]), 60_000))
      yield* TestClock.adjust("10 minutes")
      const decisions = yield* Fiber.join(fiber)
      assert.deepStrictEqual(decisions.map((d) => [d.drill, d.decision]), [["due", "started"], ["due", "ran"]])
      assert.strictEqual(decisions[0]!.reason, "approved by alice")
    }))

  it.effect("a malformed drills file is one line naming the path", () =>
    Effect.gen(function*() {
      const e1 = yield* Effect.flip(Drills.compile({ drills: [{ name: "x", experiment: "x.yaml", cron: "61 * * * *" }] }, "d.yaml"))
      assert.match(e1.message, /^d\.yaml: cron: not a cron expression: "61 \* \* \* \*".* at drills\[0\]$/)
      const e2 = yield* Effect.flip(Drills.compile({ drills: [{ name: "x", experiment: "x.yaml" }] }, "d.yaml"))
      assert.strictEqual(e2.message, "d.yaml: give exactly one of cron and unannounced at drills[0]")
      const e3 = yield* Effect.flip(Drills.compile({ timeZone: "Mars/Olympus", drills: [{ name: "x", experiment: "x.yaml", cron: "0 8 * * *" }] }, "d.yaml"))
      assert.include(e3.message, "not a time zone")
      const e4 = yield* Effect.flip(
        Drills.compile({ freeze: [{ from: "2026-12-24", to: "2026-12-20" }], drills: [{ name: "x", experiment: "x.yaml", cron: "0 8 * * *" }] }, "d.yaml")
      )
      assert.strictEqual(e4.message, "d.yaml: to 2026-12-20 is not after from 2026-12-24 at freeze[0]")
    }))
})
