/**
 * Faults: data describing one disturbance, and `inject`, which hands a fault to its driver
 * inside a Scope so that closing the scope reverts it.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type { Driver, DriverError } from "./Driver.ts"
import * as Guard from "./Guard.ts"
import type { Revert } from "./Journal.ts"
import type { LeaseHeld, LedgerError, OrphanedFaults } from "./Ledger.ts"
import { monoMillis } from "./Probe.ts"
import { CurrentFault, Run } from "./Run.ts"
import * as Selector from "./Selector.ts"
import type { Target } from "./Target.ts"

/**
 * A fault: a Schema tagged class whose `_tag` is its name (`process.kill`), with a target
 * selector and a (non-serialised) reference to the driver service that interprets it. The
 * driver's service type is carried in the fault's type, so an experiment that injects it
 * requires that driver's layer.
 *
 * @since 0.1.0
 */
export interface Fault<D = unknown> {
  readonly _tag: string
  readonly target: Selector.Selector
  readonly driver: Context.Key<D, Driver>
  /**
   * Guards the fault's driver asks for by default (e.g. Docker's allow-label and target
   * cap). A guard of the same kind among the run's own guards replaces the default one.
   */
  readonly defaultGuards?: ReadonlyArray<Guard.Guard> | undefined
  /** The fault cannot be undone (e.g. `docker.remove`): refused unless the experiment says `irreversible: true`. */
  readonly irreversible?: boolean | undefined
}

/**
 * What every fault class shares, beyond its own fields: the driver service that interprets
 * it, the guards that driver asks for by default, and whether it can be undone.
 *
 * @since 0.1.0
 */
export interface FaultMembers<D> {
  readonly driver: Context.Key<D, Driver>
  readonly defaultGuards: ReadonlyArray<Guard.Guard>
  readonly irreversible: boolean
}

/**
 * The base of every fault class of one driver: a Schema tagged class whose instances carry
 * the driver service, the driver's default guards and the irreversibility flag, so that
 * no fault class repeats them.
 *
 * @example
 * ```ts
 * const DockerFault = Fault.Class(DockerDriver, { defaultGuards })
 * export class DockerPause extends DockerFault<DockerPause>()("docker.pause", { target: Selector.Selector }) {}
 * ```
 * @since 0.1.0
 */
export const Class = <D>(
  driver: Context.Key<D, Driver>,
  options: { readonly defaultGuards?: ReadonlyArray<Guard.Guard> } = {}
) =>
<Self>(classOptions: { readonly irreversible?: boolean } = {}) =>
<Tag extends string, const Fields extends Schema.Struct.Fields>(
  tag: Tag,
  fields: Fields
): Schema.Class<Self, Schema.TaggedStruct<Tag, Fields>, FaultMembers<D>> => {
  // The members live on the prototype, so they are neither fields nor serialised.
  // Erased to a plain constructor: a class cannot extend a base whose instance type is the type parameter `Self`.
  const Base = Schema.TaggedClass<Self>()(tag, fields) as unknown as new(props: unknown) => object
  const defaultGuards = options.defaultGuards ?? []
  const irreversible = classOptions.irreversible === true
  const key = driver
  class FaultClass extends Base {
    get driver() {
      return key
    }
    get defaultGuards() {
      return defaultGuards
    }
    get irreversible() {
      return irreversible
    }
  }
  return FaultClass as unknown as Schema.Class<Self, Schema.TaggedStruct<Tag, Fields>, FaultMembers<D>>
}

/**
 * A fault class, as the integration list and the file format see it: a Schema whose
 * instances are faults, with its tag and fields.
 *
 * @since 0.1.0
 */
export interface FaultClass {
  // `never` parameters: every fault class's constructor fits, whatever its fields.
  new(...args: ReadonlyArray<never>): Fault<unknown>
  readonly fields: Schema.Struct.Fields
  readonly identifier: string
}

/** The tag (`docker.pause`) of a fault class. @since 0.1.0 */
export const tagOf = (cls: FaultClass): string => (cls.fields._tag as unknown as { readonly schema: { readonly literal: string } }).schema.literal

/** The driver service a fault requires. @since 0.1.0 */
export type DriverOf<F> = F extends Fault<infer D> ? D : never

/**
 * A fault as JSON data (without its driver reference), for journals and plans.
 *
 * @since 0.1.0
 */
export const toJSON = (fault: Fault<unknown>): Record<string, unknown> => {
  const { driver: _d, ...rest }: Record<string, unknown> = { ...fault }
  return { ...rest, _tag: fault._tag }
}

/**
 * An injected fault: its id, target and revert data.
 *
 * @since 0.1.0
 */
export interface Injection {
  readonly faultId: string
  readonly fault: string
  readonly target: Target
  readonly revert: Revert
}

/**
 * Injecting a fault failed; the fault names what and where.
 *
 * @since 0.1.0
 */
export class InjectionFailed extends Schema.TaggedError<InjectionFailed>()("InjectionFailed", {
  fault: Schema.String,
  target: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.fault} on ${this.target} failed: ${this.reason}`
  }
}

const errorText = (e: unknown): string => e instanceof Error ? e.message : typeof e === "string" ? e : JSON.stringify(e)

/** How often a failing revert is retried before cleanup is declared failed. @since 0.1.0 */
export const REVERT_ATTEMPTS = 3

const reverted = new WeakMap<Injection, boolean>()

/**
 * Reverts an injection now (before its scope closes). Idempotent: the second call, and the
 * scope's own release afterwards, do nothing. `undefined` (what a dry run's `inject`, which
 * injects nothing, leaves in `const [x] = yield* Fault.inject(...)`) is a no-op too.
 *
 * @since 0.1.0
 */
export const revert = (injection: Injection | undefined): Effect.Effect<void, never, Run> =>
  Effect.gen(function*() {
    if (injection === undefined || reverted.get(injection)) return
    reverted.set(injection, true)
    const run = yield* Run
    const driver = drivers.get(injection)
    if (driver === undefined) return
    yield* run.journal.append({ _tag: "FaultReverting", faultId: injection.faultId })
    let attempts = 0
    const result = yield* Effect.suspend(() => {
      attempts++
      return driver.revert(injection.revert)
    }).pipe(
      Effect.retry({ schedule: Schedule.exponential("20 millis"), times: REVERT_ATTEMPTS - 1 }),
      Effect.exit
    )
    if (result._tag === "Success") {
      yield* run.ledger.closed(injection.faultId)
      yield* run.journal.append({ _tag: "FaultReverted", faultId: injection.faultId, attempts })
    } else {
      run.cleanupFailed.value = true
      yield* run.journal.append({
        _tag: "FaultRevertFailed",
        faultId: injection.faultId,
        attempts,
        error: errorText(Cause.squash(result.cause))
      })
    }
  }).pipe(Effect.uninterruptible)

const drivers = new WeakMap<Injection, Driver>()

/**
 * The guards that apply to a fault: the run's own plus every default guard of the fault
 * (declaring a guard of the same kind does not drop a default: both apply). Only an explicit
 * `replaceDefaultGuards` leaves the defaults out.
 *
 * @since 0.1.0
 */
export const guardsFor = (
  runGuards: ReadonlyArray<Guard.Guard>,
  fault: Pick<Fault, "defaultGuards">,
  replaceDefaultGuards = false
): ReadonlyArray<Guard.Guard> => {
  if (replaceDefaultGuards) return runGuards
  const seen = new Set(runGuards.map(Guard.describe))
  return [...runGuards, ...(fault.defaultGuards ?? []).filter((d) => !seen.has(Guard.describe(d)))]
}

/**
 * Resolves the targets of a fault and checks the run's guards, touching nothing.
 *
 * @since 0.1.0
 */
export const plan = <D>(fault: Fault<D>) =>
  Effect.gen(function*() {
    const run = yield* Run
    if (fault.irreversible === true && run.irreversible !== true) {
      const reason = `${fault._tag} cannot be reverted; the experiment must say irreversible: true`
      yield* run.journal.append({ _tag: "GuardChecked", guard: "irreversible", ok: false, detail: reason })
      return yield* new Guard.GuardRejected({ guard: "irreversible", reason })
    }
    const driver = yield* fault.driver
    const candidates = yield* driver.discover(fault)
    const targets = yield* Selector.select(fault.target, candidates).pipe(
      // A dry run runs no set-up: a target the set-up would create does not exist yet. The
      // plan says so and lists no target for the fault, rather than failing.
      Effect.catchTag("NoTargets", (e) =>
        run.dryRun
          ? Effect.as(
            run.journal.append({ _tag: "Note", message: `${fault._tag}: ${e.message} now; a dry run runs no set-up, which may create it` }),
            [] as ReadonlyArray<Target>
          )
          : Effect.fail(e))
    )
    yield* run.journal.append({
      _tag: "TargetsResolved",
      fault: fault._tag,
      selector: Selector.describe(fault.target),
      targets: [...targets]
    })
    // Dropping a fault's default guards is said where it happens: in the plan and the journal.
    if (run.replaceDefaultGuards === true && (fault.defaultGuards ?? []).length > 0) {
      yield* run.journal.append({
        _tag: "GuardChecked",
        guard: "replaceDefaultGuards",
        ok: true,
        detail: `the experiment replaced the default guards of ${fault._tag}: ${(fault.defaultGuards ?? []).map(Guard.describe).join(", ")} not checked`
      })
    }
    for (const g of guardsFor(run.guards, fault, run.replaceDefaultGuards === true)) {
      const detail = yield* Guard.check(g, targets).pipe(
        Effect.tapError((e) => run.journal.append({ _tag: "GuardChecked", guard: e.guard, ok: false, detail: e.reason }))
      )
      yield* run.journal.append({ _tag: "GuardChecked", guard: Guard.describe(g), ok: true, detail })
    }
    return { driver, targets }
  })

/** What the steps of `inject` share: the run, the fault, its driver and the fault as journaled. */
interface InjectContext<D> {
  readonly run: Context.Service.Shape<typeof Run>
  readonly fault: Fault<D>
  readonly driver: Driver
  readonly spec: Record<string, unknown>
}

/** One target of a batch whose lease and intent are on disk, waiting for the batch call. */
interface Pending {
  readonly faultId: string
  readonly target: Target
  readonly prepared: Record<string, unknown>
  readonly planned: Revert
}

// A dry run journals the plan and, when the driver can say them, the calls it would make;
// it makes none that mutate.
const planDry = <D>(ctx: InjectContext<D>, targets: ReadonlyArray<Target>) =>
  Effect.gen(function*() {
    const { driver, fault, run, spec } = ctx
    const faultIds: Array<string> = []
    for (const target of targets) {
      const faultId = run.nextFaultId()
      faultIds.push(faultId)
      yield* run.journal.append({ _tag: "FaultPlanned", faultId, fault: fault._tag, spec, target })
    }
    if (driver.plan && targets.length > 0) {
      const calls = yield* driver.plan(fault, targets)
      yield* run.journal.append({ _tag: "CallsPlanned", fault: fault._tag, faultIds, calls: [...calls] })
    }
    return [] as Array<Injection>
  })

// Write-ahead: the lease and an intent carrying revert data that is safe whether or not
// the injection lands are on disk before the driver touches the target.
const writeAhead = <D>(ctx: InjectContext<D>, faultId: string, target: Target) =>
  Effect.gen(function*() {
    const { driver, fault, run, spec } = ctx
    const prepared = driver.prepare ? yield* Effect.provideService(driver.prepare(fault, target), CurrentFault, { faultId }) : {}
    const planned: Revert = { driver: driver.name, fault: fault._tag, target, data: prepared }
    yield* run.ledger.acquire(run.runId, target)
    yield* run.ledger.intent({
      runId: run.runId,
      faultId,
      driver: driver.name,
      connection: driver.connection ?? {},
      fault: fault._tag,
      target,
      revert: planned
    })
    yield* run.journal.append({ _tag: "FaultInjecting", faultId, fault: fault._tag, spec, target })
    return { prepared, planned }
  })

// The injection of one target landed: its revert data goes to the ledger and the journal.
const recordInjected = <D>(ctx: InjectContext<D>, faultId: string, target: Target, data: Record<string, unknown>, startedMono: number) =>
  Effect.gen(function*() {
    const { driver, fault, run } = ctx
    const revertData: Revert = { driver: driver.name, fault: fault._tag, target, data }
    yield* run.ledger.injected(faultId, revertData)
    yield* run.journal.append({ _tag: "FaultInjected", faultId, fault: fault._tag, startedMono, revert: revertData })
    const inj: Injection = { faultId, fault: fault._tag, target, revert: revertData }
    drivers.set(inj, driver)
    return inj
  })

// A failed batch call: every target's intent is closed, after its prepared revert data is
// applied when the driver prepared some (a batch may have half-landed).
const batchFailed = <D>(ctx: InjectContext<D>, pending: ReadonlyArray<Pending>, cause: Cause.Cause<unknown>) =>
  Effect.forEach(pending, (p) =>
    Effect.gen(function*() {
      const { driver, fault, run } = ctx
      yield* run.journal.append({ _tag: "FaultInjectFailed", faultId: p.faultId, fault: fault._tag, error: errorText(Cause.squash(cause)) })
      if (driver.prepare) {
        const undone = yield* Effect.exit(driver.revert(p.planned))
        if (undone._tag === "Failure") {
          run.cleanupFailed.value = true
          yield* run.journal.append({ _tag: "FaultRevertFailed", faultId: p.faultId, attempts: 1, error: errorText(Cause.squash(undone.cause)) })
          return
        }
      }
      yield* run.ledger.closed(p.faultId)
    }), { discard: true })

// Write-ahead for every target first, then one call for the whole batch; reverts stay per
// target, in reverse order.
const injectAll = <D>(
  ctx: InjectContext<D>,
  batch: NonNullable<Driver["injectBatch"]>,
  targets: ReadonlyArray<Target>
) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const { fault, run } = ctx
      const pending: Array<Pending> = []
      for (const target of targets) {
        const faultId = run.nextFaultId()
        pending.push({ faultId, target, ...(yield* writeAhead(ctx, faultId, target)) })
      }
      const startedMono = yield* monoMillis
      const datas = yield* batch(fault, targets).pipe(
        Effect.tapCause((cause) => batchFailed(ctx, pending, cause)),
        Effect.mapError((e) => new InjectionFailed({ fault: fault._tag, target: targets.map((t) => `${t.kind} ${t.name}`).join(", "), reason: errorText(e) }))
      )
      const injs: Array<Injection> = []
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!
        injs.push(yield* recordInjected(ctx, p.faultId, p.target, { ...p.prepared, ...datas[i] }, startedMono))
      }
      return injs
    }),
    (injs) => Effect.provideService(Effect.forEach([...injs].reverse(), revert, { discard: true }), Run, ctx.run)
  )

// One target on its own: write-ahead, the driver's call, and a revert when the scope closes.
const injectOne = <D>(ctx: InjectContext<D>, target: Target) =>
  Effect.gen(function*() {
    const { driver, fault, run } = ctx
    const faultId = run.nextFaultId()
    const injection = yield* Effect.acquireRelease(
      Effect.gen(function*() {
        const { prepared } = yield* writeAhead(ctx, faultId, target)
        const startedMono = yield* monoMillis
        const data = yield* driver.inject(fault, target).pipe(
          Effect.provideService(CurrentFault, { faultId }),
          Effect.tapCause((cause) =>
            Effect.gen(function*() {
              yield* run.journal.append({
                _tag: "FaultInjectFailed",
                faultId,
                fault: fault._tag,
                error: errorText(Cause.squash(cause))
              })
              // A driver whose injection fails undoes its own partial effect before failing
              // (it knows what it did). Reverting the prepared data here would be wrong when
              // the failure is a refusal of a state someone else caused (pausing a container
              // that was already paused must not unpause it).
              yield* run.ledger.closed(faultId)
            })
          ),
          Effect.mapError((e) => new InjectionFailed({ fault: fault._tag, target: `${target.kind} ${target.name}`, reason: errorText(e) }))
        )
        return yield* recordInjected(ctx, faultId, target, { ...prepared, ...data }, startedMono)
      }),
      (inj) => Effect.provideService(revert(inj), Run, run)
    )
    return [injection]
  })

/**
 * Injects a fault into every target its selector chooses, after the guards pass. Each
 * injection is an `acquireRelease` in the current Scope: the scope's closing reverts it,
 * whatever ends the run, in reverse order of injection. In a dry run the fault is only
 * planned and journaled.
 *
 * @example
 * ```ts
 * yield* Fault.inject(Process.kill({ target: Selector.name("kv-primary"), signal: "SIGKILL" }))
 * ```
 * @since 0.1.0
 */
export const inject = <D>(
  fault: Fault<D>,
  options?: {
    /** How many targets are injected at once (default 1: one after the other). */
    readonly concurrency?: number | undefined
  }
): Effect.Effect<
  ReadonlyArray<Injection>,
  | InjectionFailed
  | Selector.NoTargets
  | Selector.CapExceeded
  | Guard.GuardRejected
  | DriverError
  | LeaseHeld
  | OrphanedFaults
  | LedgerError,
  D | Run | Scope.Scope
> =>
  Effect.gen(function*() {
    const run = yield* Run
    const { driver, targets } = yield* plan(fault)
    const ctx: InjectContext<D> = { run, fault, driver, spec: toJSON(fault) }
    if (run.dryRun) return yield* planDry(ctx, targets)
    if (driver.injectBatch) return yield* injectAll(ctx, driver.injectBatch, targets)
    const out = yield* Effect.forEach(targets, (target) => injectOne(ctx, target), { concurrency: Math.max(1, options?.concurrency ?? 1) })
    return out.flat()
  })
