/**
 * `faultline monitor FILE`: synthetic monitoring from an experiment file's hypotheses (its
 * method is never run, its processes never started: it watches a running system), recording
 * good/total events per bucket into the history for `monitor` SLIs.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as ExperimentFile from "../../ExperimentFile.ts"
import * as Integrations from "../../integrations.ts"
import * as History from "../../schedule/History.ts"
import * as Monitor from "../../slo/Monitor.ts"
import * as HistoryConfig from "../HistoryConfig.ts"
import { BadInput, state } from "../State.ts"

const duration = (flag: string, text: string) =>
  Effect.try({
    try: () => {
      if (!/^\d+(\.\d+)? (millis?|seconds?|minutes?|hours?|days?)$/.test(text)) throw new Error()
      return Duration.fromInputUnsafe(text as Duration.Input)
    },
    catch: () => new BadInput({ message: `${flag} ${text}: expected a duration such as "10 seconds"` })
  })

/**
 * `faultline monitor`.
 *
 * @since 0.2.0
 */
export const monitor = (args: {
  readonly experiment: string
  readonly history: Option.Option<string>
  readonly out: string
  readonly bucket: string
  readonly duration: Option.Option<string>
}) =>
  Effect.gen(function*() {
    const file = args.experiment
    if (!/\.(json|ya?ml)$/.test(file)) return yield* new BadInput({ message: `${file}: monitor takes a .yaml or .json experiment file` })
    const decoded = yield* ExperimentFile.load(file).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
    const bucket = yield* duration("--bucket", args.bucket)
    const until = args.duration._tag === "Some" ? yield* duration("--duration", args.duration.value) : null
    const drivers = yield* Integrations.layerFor(["process", ...ExperimentFile.integrationsOf(decoded)]).pipe(
      Effect.mapError((e) => new BadInput({ message: `${file}: ${e.message}` }))
    )
    const hypotheses = ExperimentFile.toExperiment(decoded).hypotheses
    const spec = HistoryConfig.orDefault(args.history, args.out)
    process.stdout.write(
      `monitoring ${hypotheses.map((h) => h.name).join(", ")} into ${HistoryConfig.label(spec)} (buckets of ${Duration.format(bucket)}); Ctrl-C stops\n`
    )
    yield* History.use(HistoryConfig.open(spec), (store) => {
      const watch = Monitor.run(hypotheses, {
        bucket,
        record: (b) =>
          store.record(b.name, b.at, b.good, b.total, b.degraded).pipe(
            Effect.tap(() =>
              Effect.sync(() =>
                process.stdout.write(`${new Date(b.at).toISOString()} ${b.name}: ${b.good}/${b.total} good${b.degraded ? `, ${b.degraded} degraded` : ""}\n`)
              )
            ),
            Effect.mapError((e) => new BadInput({ message: e.message }))
          )
      })
      return until === null ? watch : Effect.asVoid(Effect.timeoutOption(watch, until))
    }).pipe(
      Effect.provide(drivers),
      Effect.mapError((e: unknown) =>
        e instanceof BadInput ? e : new BadInput({ message: `${file}: a driver is unavailable: ${e instanceof Error ? e.message : String(e)}` })
      )
    )
    state.exitCode = 0
  })
