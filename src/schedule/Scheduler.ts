/**
 * The scheduler: fires drills when their triggers say, and decides at each firing whether the
 * drill runs or is skipped — in a freeze, outside every allowed window, over the concurrency
 * cap, with a target leased by another run, or with too little error budget left. Every
 * decision is journaled. All time comes from `Clock`, so a whole season of schedules runs
 * under `TestClock`; interrupting the scheduler interrupts its running drills, whose faults
 * are reverted.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Drills from "./Drills.ts"

/**
 * One decision of the scheduler. `planned`: an unannounced drill's instant was drawn;
 * `started`/`ran`: it ran (with the run's id and verdict); `skipped`: not run, `reason` says
 * why (it starts with the kind: freeze, window, concurrency, lease, budget); `interrupted`:
 * the scheduler stopped while it ran; `error`: it could not be started.
 *
 * @since 0.2.0
 */
export interface Decision {
  readonly at: number
  readonly plannedAt: number
  readonly drill: string
  readonly decision: "planned" | "started" | "ran" | "skipped" | "interrupted" | "error"
  readonly reason?: string | undefined
  readonly runId?: string | undefined
  readonly status?: string | undefined
}

/**
 * What the scheduler needs from its host: running a drill (to its verdict), the error-budget
 * gate, who holds a target's lease outside this scheduler, and where decisions go.
 *
 * @since 0.2.0
 */
export interface Host<R> {
  /** `plannedAt`: the firing's instant (epoch ms), the same on every runner sharing the schedule. */
  readonly run: (drill: Drills.Drill, plannedAt: number) => Effect.Effect<{ readonly runId: string; readonly status: string }, string, R>
  /** The refusal of the drill's error-budget gate, or null to go ahead. */
  readonly budget: (drill: Drills.Drill) => Effect.Effect<string | null, never, R>
  /** The run holding the target's lease, or null when it is free. */
  readonly leaseHolder: (target: string) => Effect.Effect<string | null, never, R>
  readonly journal: (d: Decision) => Effect.Effect<void, never, R>
}

interface State {
  /** Targets held by this scheduler's running drills: target -> drill. */
  readonly held: Map<string, string>
  running: number
}

// The reason a drill firing at `at` may not run now, or null.
const refusal = <R>(plan: Drills.Plan, host: Host<R>, state: State, drill: Drills.Drill, at: number) =>
  Effect.gen(function*() {
    const frozen = plan.freeze.find((w) => w.at(at) !== null)
    if (frozen) return `freeze: inside ${frozen.describe}${frozen.reason ? ` (${frozen.reason})` : ""}`
    if (plan.allowed.length > 0 && !plan.allowed.some((w) => w.at(at) !== null)) {
      return `window: outside every allowed window (${plan.allowed.map((w) => w.describe).join("; ")})`
    }
    for (const t of drill.targets ?? []) {
      const mine = state.held.get(t)
      if (mine !== undefined) return `lease: target ${t} is held by drill ${mine} of this scheduler`
      const holder = yield* host.leaseHolder(t)
      if (holder !== null) return `lease: target ${t} is held by run ${holder}`
    }
    if (state.running >= plan.maxConcurrency) return `concurrency: ${state.running} drills running, at most ${plan.maxConcurrency}`
    const budget = yield* host.budget(drill)
    return budget === null ? null : `budget: ${budget}`
  })

// Runs one firing: decide, and if it goes ahead, start the drill on its own fiber.
const fire = <R>(plan: Drills.Plan, host: Host<R>, state: State, fibers: FiberSet.FiberSet<void, never>, drill: Drills.Drill, plannedAt: number) =>
  Effect.gen(function*() {
    const at = yield* Clock.currentTimeMillis
    const base = { at, plannedAt, drill: drill.name }
    const why = yield* refusal(plan, host, state, drill, plannedAt)
    if (why !== null) return yield* host.journal({ ...base, decision: "skipped", reason: why })
    state.running++
    for (const t of drill.targets ?? []) state.held.set(t, drill.name)
    const release = Effect.sync(() => {
      state.running--
      for (const t of drill.targets ?? []) state.held.delete(t)
    })
    // Who approved an unattended drill (a Tier 0 service needs it) is part of the decision.
    yield* host.journal({ ...base, decision: "started", ...(drill.approvedBy ? { reason: `approved by ${drill.approvedBy}` } : {}) })
    const body = host.run(drill, plannedAt).pipe(
      Effect.flatMap((r) =>
        Effect.flatMap(Clock.currentTimeMillis, (end) => host.journal({ ...base, at: end, decision: "ran", runId: r.runId, status: r.status }))
      ),
      Effect.catch((e) => Effect.flatMap(Clock.currentTimeMillis, (end) => host.journal({ ...base, at: end, decision: "error", reason: e }))),
      Effect.onInterrupt(() =>
        Effect.flatMap(
          Clock.currentTimeMillis,
          (end) => host.journal({ ...base, at: end, decision: "interrupted", reason: "the scheduler was stopped; the drill's faults were reverted" })
        )
      ),
      Effect.ensuring(release)
    )
    yield* FiberSet.run(fibers, body)
  })

/**
 * Runs the schedule until interrupted. Each drill's next firing is computed from its trigger;
 * the scheduler sleeps until the earliest, fires every drill due, and repeats. An unannounced
 * drill's drawn instant is journaled (`planned`) when it is drawn.
 *
 * @since 0.2.0
 */
export const run = <R>(plan: Drills.Plan, host: Host<R>): Effect.Effect<never, never, R> =>
  Effect.scoped(Effect.gen(function*() {
    const fibers = yield* FiberSet.make<void, never>()
    const state: State = { held: new Map(), running: 0 }
    const now0 = yield* Clock.currentTimeMillis
    const next = new Map<Drills.Compiled, number | null>()
    const schedule = (c: Drills.Compiled, after: number) =>
      Effect.gen(function*() {
        const at = c.trigger.next(after)
        next.set(c, at)
        if (at !== null && c.trigger.unannounced) {
          yield* host.journal({ at: yield* Clock.currentTimeMillis, plannedAt: at, drill: c.drill.name, decision: "planned", reason: c.trigger.describe })
        }
      })
    for (const c of plan.drills) yield* schedule(c, now0)
    while (true) {
      const due = [...next.values()].filter((x): x is number => x !== null)
      if (due.length === 0) return yield* Effect.never
      const earliest = Math.min(...due)
      const now = yield* Clock.currentTimeMillis
      if (earliest > now) yield* Effect.sleep(earliest - now)
      for (const c of plan.drills) {
        const at = next.get(c)
        if (at === null || at === undefined || at > earliest) continue
        yield* fire(plan, host, state, fibers, c.drill, at)
        yield* schedule(c, at)
      }
    }
  }))

/**
 * One pass, for an external timer (cron, a systemd timer, a Kubernetes CronJob): fires every
 * drill with a firing in `(now - graceMs, now]`, waits for the drills it started, and returns
 * the decisions.
 *
 * @since 0.2.0
 */
export const once = <R>(plan: Drills.Plan, host: Host<R>, graceMs: number): Effect.Effect<ReadonlyArray<Decision>, never, R> =>
  Effect.scoped(Effect.gen(function*() {
    const decisions: Array<Decision> = []
    const recording: Host<R> = { ...host, journal: (d) => Effect.andThen(Effect.sync(() => decisions.push(d)), host.journal(d)) }
    const fibers = yield* FiberSet.make<void, never>()
    const state: State = { held: new Map(), running: 0 }
    const now = yield* Clock.currentTimeMillis
    for (const c of plan.drills) {
      const at = c.trigger.next(now - graceMs)
      if (at !== null && at <= now) yield* fire(plan, recording, state, fibers, c.drill, at)
    }
    yield* FiberSet.awaitEmpty(fibers)
    return decisions
  }))
