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
import * as Html from "../report/Html.ts"
import * as Junit from "../report/Junit.ts"
import * as FileJournal from "../run/FileJournal.ts"
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
  FileJournal.fold(path.join(dir, "journal.jsonl"), Html.fold()).pipe(
    Effect.flatMap((evidence) =>
      Effect.try({
        try: () => fs.writeFileSync(file, Junit.toJunit([evidence]), { mode: 0o644 }),
        catch: (e) => new BadInput({ message: `--junit ${file}: cannot write it: ${(e as Error).message}` })
      })
    ),
    Effect.catchTag("JournalInvalid", (e) => Effect.fail(new BadInput({ message: e.message })))
  )
