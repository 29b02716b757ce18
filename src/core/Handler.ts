/**
 * Handlers: a driver as a table of per-fault handlers keyed by the fault's tag, each typed
 * by its own fault class, instead of one switch over every fault. `dispatch` turns the
 * table into the operations a `Driver` is made of; `bind` gives them a context (a client,
 * a process table) and the target's error boundary. The out-of-process reverter uses the
 * same table with a context of its own, so there is one revert per fault.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Driver, DriverError, PlannedCall } from "./Driver.ts"
import type { Target } from "./Target.ts"

/**
 * What a fault leaves for its revert (the ledger and the journal carry it as JSON).
 *
 * @since 0.1.0
 */
export type RevertData = Record<string, unknown>

interface HandlerBase<Ctx, F, E> {
  /** The candidate targets of the fault, when they differ from the table's default. */
  readonly discover?: (ctx: Ctx, fault: F) => Effect.Effect<ReadonlyArray<Target>, E>
  /** Revert data known before anything is touched and safe whether or not the fault lands. */
  readonly prepare?: (ctx: Ctx, fault: F, target: Target) => Effect.Effect<RevertData, E>
  /**
   * Confirms the injected fault took effect. When it fails, the fault is reverted from the
   * data `inject` returned, then the injection fails with the verify error.
   */
  readonly verify?: (ctx: Ctx, fault: F, target: Target, data: RevertData) => Effect.Effect<void, E>
  /**
   * Undoes the fault from its revert data; idempotent. Absent: there is nothing to undo (a
   * reboot ends by itself; a removal cannot be undone).
   */
  readonly revert?: (ctx: Ctx, data: RevertData, target: Target | undefined) => Effect.Effect<void, E>
  /** The calls injecting and reverting would make, for dry runs. */
  readonly plan?: (ctx: Ctx, fault: F, targets: ReadonlyArray<Target>) => Effect.Effect<ReadonlyArray<PlannedCall>, E>
}

/**
 * The handler of one fault class `F`: it injects one target at a time, many at once, or both.
 *
 * @since 0.1.0
 */
export type Handler<Ctx, F, E> =
  & HandlerBase<Ctx, F, E>
  & (
    | {
      /** Applies the fault to one target; returns its revert data. */
      readonly inject: (ctx: Ctx, fault: F, target: Target) => Effect.Effect<RevertData, E>
      readonly injectBatch?: undefined
    }
    | {
      readonly inject?: (ctx: Ctx, fault: F, target: Target) => Effect.Effect<RevertData, E>
      /** Applies the fault to many targets in one go; one revert record per target, in order. */
      readonly injectBatch: (ctx: Ctx, fault: F, targets: ReadonlyArray<Target>) => Effect.Effect<ReadonlyArray<RevertData>, E>
    }
  )

/**
 * A table of handlers: one per fault of the union `F`, under its tag, each typed by its own
 * fault class (a missing or misspelt tag fails to compile).
 *
 * @example
 * ```ts
 * const handlers: Handler.Handlers<Ctx, ProcessFault, ProcessError> = {
 *   "process.kill": { inject: (ctx, fault, target) => ... },
 *   "process.pause": { inject: ..., verify: ..., revert: ... }
 * }
 * ```
 * @since 0.1.0
 */
export type Handlers<Ctx, F extends { readonly _tag: string }, E> = {
  readonly [K in F["_tag"]]: Handler<Ctx, Extract<F, { readonly _tag: K }>, E>
}

/**
 * The operations a table of handlers gives, each taking its context first.
 *
 * @since 0.1.0
 */
export interface Dispatch<Ctx, F, E> {
  /** The fault's handler's `discover`, else the table's default. */
  readonly discover: (ctx: Ctx, fault: F) => Effect.Effect<ReadonlyArray<Target>, E>
  readonly prepare: (ctx: Ctx, fault: F, target: Target) => Effect.Effect<RevertData, E>
  /** Injects, then verifies (reverting what landed when the verify fails). */
  readonly inject: (ctx: Ctx, fault: F, target: Target) => Effect.Effect<RevertData, E>
  /** One batch per handler that has one, otherwise one `inject` per target. */
  readonly injectBatch: (ctx: Ctx, fault: F, targets: ReadonlyArray<Target>) => Effect.Effect<ReadonlyArray<RevertData>, E>
  /** Reverts by the fault's tag alone, as the ledger records it; an unknown tag fails. */
  readonly revert: (ctx: Ctx, fault: string, data: RevertData, target?: Target) => Effect.Effect<void, E>
  /** Present when a handler, or the table's default, can plan. */
  readonly plan: ((ctx: Ctx, fault: F, targets: ReadonlyArray<Target>) => Effect.Effect<ReadonlyArray<PlannedCall>, E>) | undefined
  /** Whether some handler injects in batches (the driver then offers `injectBatch`). */
  readonly batches: boolean
}

/**
 * What a table of handlers leaves to its driver.
 *
 * @since 0.1.0
 */
export interface DispatchOptions<Ctx, F, E> {
  /** The candidate targets of faults whose handler has no `discover`. */
  readonly discover: (ctx: Ctx, fault: F) => Effect.Effect<ReadonlyArray<Target>, E>
  /** Plans faults whose handler has no `plan` (e.g. by running the handlers over a recorder). */
  readonly plan?: (ctx: Ctx, fault: F, targets: ReadonlyArray<Target>) => Effect.Effect<ReadonlyArray<PlannedCall>, E>
  /** The error for a tag the table does not have. */
  readonly unknown: (tag: string, operation: string) => E
}

/**
 * Builds the operations of a driver from its table of handlers.
 *
 * @since 0.1.0
 */
export const dispatch = <Ctx, F extends { readonly _tag: string }, E>(
  table: Handlers<Ctx, F, E>,
  options: DispatchOptions<Ctx, F, E>
): Dispatch<Ctx, F, E> => {
  // The table is keyed by the fault's own tag, so the handler found for a fault is the
  // handler of that fault's class.
  const byTag = table as unknown as Record<string, Handler<Ctx, F, E>>
  const handlers = Object.values(byTag)
  const lookup = (tag: string, operation: string): Effect.Effect<Handler<Ctx, F, E>, E> =>
    Object.hasOwn(byTag, tag) ? Effect.succeed(byTag[tag]!) : Effect.fail(options.unknown(tag, operation))

  const injectOne = (ctx: Ctx, h: Handler<Ctx, F, E>, fault: F, target: Target): Effect.Effect<RevertData, E> =>
    h.inject !== undefined
      ? h.inject(ctx, fault, target)
      : Effect.map(h.injectBatch!(ctx, fault, [target]), (ds) => ds[0] ?? {})

  const revert = (ctx: Ctx, fault: string, data: RevertData, target?: Target) =>
    Effect.flatMap(lookup(fault, "revert"), (h) => (h.revert === undefined ? Effect.void : h.revert(ctx, data, target)))

  const verified = (ctx: Ctx, h: Handler<Ctx, F, E>, fault: F, target: Target, data: RevertData) =>
    h.verify === undefined
      ? Effect.succeed(data)
      : h.verify(ctx, fault, target, data).pipe(
        // The fault landed without its effect: take back what landed before failing.
        Effect.tapError(() => Effect.ignore(revert(ctx, fault._tag, data, target))),
        Effect.as(data)
      )

  const plan = handlers.some((h) => h.plan !== undefined) || options.plan !== undefined
    ? (ctx: Ctx, fault: F, targets: ReadonlyArray<Target>) =>
      Effect.flatMap(lookup(fault._tag, "plan"), (h): Effect.Effect<ReadonlyArray<PlannedCall>, E> =>
        h.plan !== undefined
          ? h.plan(ctx, fault, targets)
          : options.plan !== undefined
          ? options.plan(ctx, fault, targets)
          : Effect.succeed([]))
    : undefined

  return {
    // Discovery falls back to the default even without a fault: listing candidates is
    // read-only, and callers list a driver's targets with no fault in hand.
    discover: (ctx, fault) => {
      const tag: unknown = (fault as { readonly _tag?: unknown } | null | undefined)?._tag
      const h = typeof tag === "string" && Object.hasOwn(byTag, tag) ? byTag[tag] : undefined
      return (h?.discover ?? options.discover)(ctx, fault)
    },
    prepare: (ctx, fault, target) =>
      Effect.flatMap(lookup(fault._tag, "prepare"), (h) => (h.prepare === undefined ? Effect.succeed({}) : h.prepare(ctx, fault, target))),
    inject: (ctx, fault, target) =>
      Effect.flatMap(lookup(fault._tag, "inject"), (h) => Effect.flatMap(injectOne(ctx, h, fault, target), (data) => verified(ctx, h, fault, target, data))),
    injectBatch: (ctx, fault, targets) =>
      Effect.flatMap(lookup(fault._tag, "inject"), (h) =>
        h.injectBatch !== undefined
          ? Effect.flatMap(h.injectBatch(ctx, fault, targets), (datas) => Effect.forEach(targets, (t, i) => verified(ctx, h, fault, t, datas[i] ?? {})))
          : Effect.forEach(targets, (t) => Effect.flatMap(injectOne(ctx, h, fault, t), (data) => verified(ctx, h, fault, t, data)))),
    revert,
    plan,
    batches: handlers.some((h) => h.injectBatch !== undefined)
  }
}

/**
 * Where a driver operation failed, for the target's error boundary.
 *
 * @since 0.1.0
 */
export interface At {
  readonly operation: "discover" | "prepare" | "inject" | "revert" | "plan"
  /** The fault's tag. */
  readonly fault: string
  /** The target, when the operation has one. */
  readonly target: Target | undefined
}

/**
 * The driver operations of a dispatch in one context, with the target's errors mapped to
 * `DriverError` at its boundary. `injectBatch` and `plan` are there only when a handler
 * offers them (a driver that has them changes how `Fault.inject` proceeds).
 *
 * @since 0.1.0
 */
export const bind = <Ctx, F extends { readonly _tag: string }, E>(
  d: Dispatch<Ctx, F, E>,
  ctx: Ctx,
  toError: (e: E, at: At) => DriverError
): Pick<Driver<F>, "discover" | "prepare" | "inject" | "injectBatch" | "plan" | "revert"> => {
  const at = (operation: At["operation"], fault: string, target?: Target) => (e: E) => toError(e, { operation, fault, target })
  const plan = d.plan
  return {
    discover: (fault) => Effect.mapError(d.discover(ctx, fault), at("discover", String((fault as { readonly _tag?: unknown } | null)?._tag ?? "-"))),
    prepare: (fault, target) => Effect.mapError(d.prepare(ctx, fault, target), at("prepare", fault._tag, target)),
    inject: (fault, target) => Effect.mapError(d.inject(ctx, fault, target), at("inject", fault._tag, target)),
    ...(d.batches
      ? { injectBatch: (fault: F, targets: ReadonlyArray<Target>) => Effect.mapError(d.injectBatch(ctx, fault, targets), at("inject", fault._tag)) }
      : {}),
    ...(plan !== undefined
      ? { plan: (fault: F, targets: ReadonlyArray<Target>) => Effect.mapError(plan(ctx, fault, targets), at("plan", fault._tag)) }
      : {}),
    revert: (r) => Effect.mapError(d.revert(ctx, r.fault, r.data, r.target), at("revert", r.fault, r.target))
  }
}
