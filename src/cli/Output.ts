/**
 * What a run prints: live lines on stderr while it runs, then the summary (or the JSON
 * report) and the exit code of its verdict.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import type * as Journal from "../core/Journal.ts"
import type * as Runner from "../run/Runner.ts"
import { exitCodeOf } from "./ExitCode.ts"
import { BadInput, state } from "./State.ts"
import { liveLine, summary } from "./Summary.ts"

/**
 * The journal listener that prints a live line per important event (none with `--json`).
 *
 * @since 0.1.0
 */
export const live = (asJson: boolean) => {
  let t0: number | null = null
  return (e: Journal.Entry) => {
    if (asJson) return
    t0 ??= e.mono
    const line = liveLine(e, t0)
    if (line) process.stderr.write(`${line}\n`)
  }
}

/**
 * Prints a finished run and sets the exit code of its verdict.
 *
 * @since 0.1.0
 */
export const finish = (o: Runner.Outcome, asJson: boolean) =>
  Effect.sync(() => {
    if (asJson) process.stdout.write(JSON.stringify(o.report, null, 2) + "\n")
    else process.stdout.write(`\n${summary(o.report, o.dir)}\n`)
    state.exitCode = exitCodeOf(o.result.verdict.status)
  })

/**
 * Checks, before a run, that `--junit FILE` can be written: its folder exists and it is not
 * a folder or a symlink.
 *
 * @since 0.1.0
 */
export const junitWritable = (file: string) =>
  Effect.suspend(() => {
    const dir = path.dirname(path.resolve(file))
    const problem = !fs.existsSync(dir)
      ? `its folder ${dir} does not exist`
      : fs.existsSync(file) && !fs.lstatSync(file).isFile()
      ? "it exists and is not a regular file"
      : null
    return problem === null ? Effect.void : Effect.fail(new BadInput({ message: `--junit ${file}: ${problem}` }))
  })

/**
 * Writes the JUnit XML of the run in `dir`, folded from its journal (like every report).
 *
 * @since 0.1.0
 */
export const writeJunit = (file: string, dir: string) =>
  // Loaded only when --junit asks for it: a run's start-up does not pay for the renderers.
  Effect.promise(() => Promise.all([import("../report/Html.ts"), import("../report/Junit.ts"), import("../run/FileJournal.ts")])).pipe(
    Effect.flatMap(([Html, Junit, FileJournal]) =>
      FileJournal.fold(path.join(dir, "journal.jsonl"), Html.fold()).pipe(Effect.map((evidence) => ({ evidence, Junit })))
    ),
    Effect.flatMap(({ evidence, Junit }) =>
      Effect.try({
        try: () => fs.writeFileSync(file, Junit.toJunit([evidence]), { mode: 0o644 }),
        catch: (e) => new BadInput({ message: `--junit ${file}: cannot write it: ${(e as Error).message}` })
      })
    ),
    Effect.catchTag("JournalInvalid", (e) => Effect.fail(new BadInput({ message: e.message })))
  )

/**
 * Two journal listeners as one.
 *
 * @since 0.1.0
 */
export const both = (a: (e: Journal.Entry) => void, b: ((e: Journal.Entry) => void) | undefined) =>
  b === undefined ? a : (e: Journal.Entry) => {
    a(e)
    b(e)
  }

// The standard OpenTelemetry variables that ask for OTLP export (checked without loading it).
const otlpConfigured = () =>
  process.env.OTEL_SDK_DISABLED !== "true" && Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)

/**
 * Runs `f` with a journal listener that turns the run into spans and metrics exported over
 * OTLP — when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set; otherwise with
 * none, and OpenTelemetry is never loaded. The exporters flush when the run ends.
 *
 * @since 0.1.0
 */
export const traced = <A, E, R>(f: (onEntry: ((e: Journal.Entry) => void) | undefined) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    if (!otlpConfigured()) return f(undefined)
    return Effect.flatMap(
      Effect.tryPromise({
        try: () => Promise.all([import("../report/Otlp.ts"), import("../report/Telemetry.ts")]),
        catch: (e) =>
          new BadInput({
            message: `OTEL_EXPORTER_OTLP_ENDPOINT is set, but OpenTelemetry could not be loaded (${(e as Error).message}): ` +
              "install @effect/opentelemetry and the @opentelemetry packages docs/tracing.md lists, or unset it"
          })
      }),
      ([otlp, Telemetry]) => Effect.flatMap(Telemetry.listener(), (listen) => f(listen)).pipe(Effect.provide(otlp.layerOtlp()))
    )
  })
