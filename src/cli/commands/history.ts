/**
 * `faultline history`: what the run history says (pass rate, RTO/RPO p50/p95 and trend, MTTR,
 * MTBF, availability per window), or `--reindex` to rebuild it from the run folders.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as History from "../../schedule/History.ts"
import * as HistoryIndex from "../../schedule/HistoryIndex.ts"
import * as Stats from "../../schedule/Stats.ts"
import * as HistoryConfig from "../HistoryConfig.ts"
import { BadInput, state } from "../State.ts"

export interface HistoryArgs {
  readonly history: Option.Option<string>
  readonly out: string
  readonly service: Option.Option<string>
  readonly experiment: Option.Option<string>
  readonly since: Option.Option<string>
  readonly window: string
  readonly json: boolean
  readonly reindex: boolean
}

const durationMs = (flag: string, text: string) =>
  Effect.try({
    try: () => {
      if (!/^\d+(\.\d+)? (minutes?|hours?|days?|weeks?)$/.test(text)) throw new Error("bad")
      return Duration.toMillis(Duration.fromInputUnsafe(text as Duration.Input))
    },
    catch: () => new BadInput({ message: `${flag} ${text}: expected a duration such as "30 days", or (for --since) an ISO date` })
  })

// `--since` is an ISO date or a duration back from now.
const sinceMs = (text: string, now: number) => {
  const iso = Date.parse(text)
  return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(iso) ? Effect.succeed(iso) : Effect.map(durationMs("--since", text), (d) => now - d)
}

const ms = (v: number | null) => v === null ? "—" : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`
const pct = (v: number | null, digits = 1) => v === null ? "—" : `${(v * 100).toFixed(digits)}%`
const line = (name: string, p: Stats.Percentiles) =>
  `${name}: p50 ${ms(p.p50)}, p95 ${ms(p.p95)} (${p.n} measured); trend ${p.trend.direction}` +
  (p.trend.direction === "unknown" ? "" : ` (median ${ms(p.trend.earlierP50)} -> ${ms(p.trend.laterP50)})`)

const text = (r: ReturnType<typeof Stats.report>, filter: History.Filter, spec: string) => {
  const o = r.overall
  const lines = [
    `history ${HistoryConfig.label(spec)}${filter.service ? ` service ${filter.service}` : ""}${filter.experiment ? ` experiment ${filter.experiment}` : ""}`,
    `from ${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()}`,
    `runs: ${o.runs} indexed, ${o.ran} ran a drill, ${o.passed} passed — pass rate ${pct(o.passRate)}`,
    line("RTO", o.rto),
    line("RPO", o.rpo),
    `MTTR ${ms(o.mttrMs)}; MTBF ${o.mtbfMs === null ? "— (no failing drill)" : ms(o.mtbfMs)}; availability ${pct(o.availability, 3)}`,
    "",
    "window start               runs  pass rate  RTO p50   availability"
  ]
  for (const w of r.windows) {
    lines.push(
      `${new Date(w.from).toISOString()}  ${String(w.ran).padStart(4)}  ${pct(w.passRate).padStart(9)}  ${ms(w.rto.p50).padStart(8)}  ${
        pct(w.availability, 3).padStart(12)
      }`
    )
  }
  return lines.join("\n") + "\n"
}

/**
 * `faultline history`.
 *
 * @since 0.2.0
 */
export const history = (args: HistoryArgs) =>
  Effect.gen(function*() {
    const spec = HistoryConfig.orDefault(args.history, args.out)
    const now = yield* Clock.currentTimeMillis
    const windowMs = yield* durationMs("--window", args.window)
    const since = args.since._tag === "Some" ? yield* sinceMs(args.since.value, now) : undefined
    yield* History.use(HistoryConfig.open(spec), (store) =>
      Effect.gen(function*() {
        if (args.reindex) {
          const r = yield* HistoryIndex.reindex(store, args.out).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
          for (const s of r.skipped) process.stderr.write(`faultline: ${s.message}\n`)
          process.stdout.write(`indexed ${r.indexed} runs from ${args.out} into ${HistoryConfig.label(spec)}\n`)
          return
        }
        const filter: History.Filter = {
          service: args.service._tag === "Some" ? args.service.value : undefined,
          experiment: args.experiment._tag === "Some" ? args.experiment.value : undefined,
          since
        }
        const facts = yield* store.facts(filter).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
        const from = since ?? (facts.length > 0 ? facts[0]![0] : now)
        const r = Stats.report(facts, from, Math.max(now, from + 1), windowMs)
        process.stdout.write(args.json ? JSON.stringify({ history: HistoryConfig.label(spec), filter, ...r }, null, 2) + "\n" : text(r, filter, spec))
      }))
    state.exitCode = 0
  })
