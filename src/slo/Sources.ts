/**
 * Where SLIs are read from: faultline's own synthetic monitoring (`faultline monitor` writes
 * event counts into the history database), Prometheus (a PromQL ratio over its HTTP API) and
 * the run history (a passed run is a good event). `layer` provides the `SloSource` that
 * `Guard.errorBudget` and `Abort.burnRate` read.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SloSpec from "../core/SloSpec.ts"
import * as Slo from "./Slo.ts"

/**
 * What the sources need of the history database (`src/schedule/History.ts` provides it):
 * the monitor's event counts and the runs as events, each in `[from, to)`.
 *
 * @since 0.2.0
 */
export interface EventStore {
  readonly monitorEvents: (name: string, from: number, to: number) => Effect.Effect<Slo.Series, SloSpec.SloUnavailable>
  readonly runEvents: (
    filter: { readonly experiment?: string | undefined; readonly service?: string | undefined },
    from: number,
    to: number
  ) => Effect.Effect<Slo.Series, SloSpec.SloUnavailable>
}

const unavailable = (slo: SloSpec.Slo, detail: string) => new SloSpec.SloUnavailable({ slo: slo.name, detail })

const promSeconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`

// One instant query; the sum of the vector it returns (an empty vector is 0 events).
const promQuery = (slo: SloSpec.Slo, url: string, query: string, at: number) =>
  Effect.tryPromise({
    try: async (signal) => {
      const u = new URL("/api/v1/query", url)
      u.searchParams.set("query", query)
      u.searchParams.set("time", String(at / 1000))
      const res = await fetch(u, { signal, headers: { accept: "application/json" } })
      const body = await res.json() as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } }
      if (body.status !== "success") throw new Error(`${res.status} ${body.error ?? "not a Prometheus answer"}`)
      const result = body.data?.result
      if (body.data?.resultType === "scalar" && Array.isArray(result)) return Number(result[1])
      if (!Array.isArray(result)) throw new Error("the answer has no result vector")
      return result.reduce((sum: number, r: { value?: [number, string] }) => sum + Number(r.value?.[1] ?? Number.NaN), 0)
    },
    catch: (e) => unavailable(slo, `Prometheus ${url}: ${(e as Error).message} (query ${query})`)
  }).pipe(
    Effect.timeout("10 seconds"),
    Effect.catchTag("TimeoutError", () => Effect.fail(unavailable(slo, `Prometheus ${url} did not answer within 10 seconds`))),
    Effect.flatMap((v) => Number.isFinite(v) ? Effect.succeed(v) : Effect.fail(unavailable(slo, `Prometheus answered a non-number for ${query}`)))
  )

/**
 * Good and total events of a Prometheus SLI over `[at - rangeMs, at)`: each expression with
 * `$window` replaced by the range (in seconds).
 *
 * @since 0.2.0
 */
export const prometheusCount = (
  slo: SloSpec.Slo,
  p: { readonly url: string; readonly good: string; readonly total: string },
  at: number,
  rangeMs: number
) =>
  Effect.all([
    promQuery(slo, p.url, p.good.replaceAll("$window", promSeconds(rangeMs)), at),
    promQuery(slo, p.url, p.total.replaceAll("$window", promSeconds(rangeMs)), at)
  ]).pipe(Effect.map(([good, total]) => ({ good, total })))

const series = (slo: SloSpec.Slo, store: EventStore | undefined, from: number, to: number) => {
  const sli = slo.sli
  if (store === undefined) return Effect.fail(unavailable(slo, "no history database is configured (it holds the monitor's events and the runs)"))
  return "monitor" in sli ? store.monitorEvents(sli.monitor, from, to) : store.runEvents("history" in sli ? sli.history : {}, from, to)
}

/**
 * An `SloSource` over the given stores: Prometheus SLIs are queried over HTTP, the others
 * read from `store`. "Now" is the `Clock`'s.
 *
 * @since 0.2.0
 */
export const make = (store?: EventStore): SloSpec.SloSource["Service"] => ({
  budget: (slo) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { from, to } = Slo.windowAt(slo, now)
      if ("prometheus" in slo.sli) {
        const c = yield* prometheusCount(slo, slo.sli.prometheus, now, to - from)
        return { ...c, remaining: Slo.remaining(slo.objective, c.good, c.total), from, to }
      }
      const s = yield* series(slo, store, from, to)
      return Slo.budget(slo, Slo.prepare(slo, s), now)
    }),
  burnRate: (slo, windowMs) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      if ("prometheus" in slo.sli) {
        const c = yield* prometheusCount(slo, slo.sli.prometheus, now, windowMs)
        return { ...c, rate: Slo.rate(slo.objective, c.good, c.total) }
      }
      const s = yield* series(slo, store, now - windowMs, now)
      return Slo.burnRate(slo, Slo.prepare(slo, s), now, windowMs)
    })
})

/**
 * An `SloSource` over in-memory series, by SLO name (tests, and programs that count their
 * own events).
 *
 * @since 0.2.0
 */
export const fromSeries = (byName: (name: string) => Slo.Series | undefined): SloSpec.SloSource["Service"] => ({
  budget: (slo) =>
    Effect.gen(function*() {
      const s = byName(slo.name)
      if (s === undefined) return yield* Effect.fail(unavailable(slo, "no series"))
      return Slo.budget(slo, Slo.prepare(slo, s), yield* Clock.currentTimeMillis)
    }),
  burnRate: (slo, windowMs) =>
    Effect.gen(function*() {
      const s = byName(slo.name)
      if (s === undefined) return yield* Effect.fail(unavailable(slo, "no series"))
      return Slo.burnRate(slo, Slo.prepare(slo, s), yield* Clock.currentTimeMillis, windowMs)
    })
})

/**
 * The `SloSource` layer.
 *
 * @since 0.2.0
 */
export const layer = (store?: EventStore): Layer.Layer<SloSpec.SloSource> => Layer.succeed(SloSpec.SloSource, make(store))
