/**
 * Opening a history store by its name: a `postgres://` (or `postgresql://`) URL opens the
 * PostgreSQL store, anything else is a SQLite file. Each store's module (and driver) is
 * loaded only when one is opened. Also: the store as the event source of SLIs.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as SloSpec from "../core/SloSpec.ts"
import type * as Sources from "../slo/Sources.ts"
import type * as History from "./History.ts"
import * as Stats from "./Stats.ts"

/**
 * Whether a history name is a PostgreSQL connection string.
 *
 * @since 0.2.0
 */
export const isPostgres = (spec: string): boolean => /^postgres(ql)?:\/\//.test(spec)

/**
 * Opens (and migrates) the history store `spec` names.
 *
 * @since 0.2.0
 */
export const open = (spec: string): Effect.Effect<History.Store, History.HistoryError> =>
  isPostgres(spec)
    ? Effect.flatMap(Effect.promise(() => import("./HistoryPg.ts")), (m) => m.open(spec))
    : Effect.flatMap(Effect.promise(() => import("./HistorySqlite.ts")), (m) => m.open(spec))

/**
 * The store as the source of the monitor's events and of runs as events (a run that ran a
 * drill is an event; a passed one is good).
 *
 * @since 0.2.0
 */
export const eventStore = (store: History.Store): Sources.EventStore => {
  const unavailable = (name: string) => (e: History.HistoryError) => new SloSpec.SloUnavailable({ slo: name, detail: e.message })
  return {
    monitorEvents: (name, from, to) => Effect.mapError(store.events(name, from, to), unavailable(name)),
    runEvents: (filter, from, to) =>
      Effect.map(
        Effect.mapError(store.facts({ ...filter, since: from, until: to }), unavailable(filter.service ?? filter.experiment ?? "history")),
        (facts) => {
          const ran = facts.filter((f) => !Stats.notRun.has(f[1]))
          return { at: ran.map((f) => f[0]), good: ran.map((f) => f[1] === "passed" ? 1 : 0), total: ran.map(() => 1) }
        }
      )
  }
}

/**
 * An event store that opens the history for each read and closes it after (a gate reads
 * once; a burn-rate condition every half minute): no connection is held across a run.
 *
 * @since 0.2.0
 */
export const lazyEventStore = (spec: string): Sources.EventStore => {
  const unavailable = (name: string) => (e: History.HistoryError) => new SloSpec.SloUnavailable({ slo: name, detail: e.message })
  const withStore = <A>(name: string, f: (s: Sources.EventStore) => Effect.Effect<A, SloSpec.SloUnavailable>) =>
    Effect.acquireUseRelease(Effect.mapError(open(spec), unavailable(name)), (s) => f(eventStore(s)), (s) => s.close)
  return {
    monitorEvents: (name, from, to) => withStore(name, (s) => s.monitorEvents(name, from, to)),
    runEvents: (filter, from, to) => withStore(filter.service ?? filter.experiment ?? "history", (s) => s.runEvents(filter, from, to))
  }
}
