/**
 * `faultline report`: rebuilds a run's report from its journal. Loaded only when it runs.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Html from "../../report/Html.ts"
import * as Junit from "../../report/Junit.ts"
import * as Report from "../../report/Report.ts"
import * as FileJournal from "../../run/FileJournal.ts"
import { exitCodeOf } from "../ExitCode.ts"
import { BadInput, state } from "../State.ts"

/**
 * Folds the journal into its report, checks it against the report.json beside it, prints it.
 *
 * @since 0.1.0
 */
export const report = (args: {
  readonly journal: string
  readonly json: boolean
  readonly html?: boolean
  readonly junit?: boolean
  readonly allowIncomplete: boolean
}) =>
  Effect.gen(function*() {
    const file = args.journal
    const formats = [args.json && "--json", args.html && "--html", args.junit && "--junit"].filter(Boolean)
    if (formats.length > 1) return yield* new BadInput({ message: `${formats.join(", ")}: choose one output format` })
    // One line at a time: a game day's journal does not fit in memory.
    const { result: evidence, torn } = yield* FileJournal.foldUpToTornTail(file, Html.fold()).pipe(
      Effect.mapError((e) => new BadInput({ message: e.message }))
    )
    const r = evidence.report
    if (torn !== null && !args.allowIncomplete) {
      return yield* new BadInput({
        message: `${torn.message} — the last line, a write its runner never finished; --allow-incomplete reads the journal up to line ${r.lastLine}`
      })
    }
    // The report written at the end of the run must be the report of this very journal.
    const written = yield* besideLastHash(file)
    if (written !== undefined && written.lastHash !== r.journal.lastHash) {
      return yield* new BadInput({
        message: `${written.file} records journal.lastHash ${written.lastHash ?? "null"}, but ${file} ends with ${r.journal.lastHash ?? "no entry"} ` +
          `(line ${r.lastLine}): the report and the journal disagree`
      })
    }
    if (!r.complete && !args.allowIncomplete) {
      return yield* new BadInput({
        message: `${file}: incomplete evidence: the journal ends at line ${r.lastLine} without RunEnded ` +
          "(truncated, or the runner died with no watchdog); --allow-incomplete prints what it holds"
      })
    }
    if (torn !== null) process.stderr.write(`faultline: ${torn.message} — a torn last line, ignored\n`)
    if (args.json) process.stdout.write(JSON.stringify(r, null, 2) + "\n")
    else if (args.html) process.stdout.write(Html.toHtml(evidence))
    else if (args.junit) process.stdout.write(Junit.toJunit([evidence]))
    else process.stdout.write(Report.toMarkdown(r))
    state.exitCode = !r.complete || r.status === "running" ? 1 : exitCodeOf(r.status)
  })

// The journal's last hash as recorded by the `report.json` beside it, if there is one; a
// report.json that cannot be read is bad input, not a report to skip.
const besideLastHash = (journal: string) =>
  Effect.suspend(() => {
    const file = path.join(path.dirname(journal), "report.json")
    if (!fs.existsSync(file)) return Effect.succeed(undefined)
    return Effect.try({
      try: () => {
        const lastHash = JSON.parse(fs.readFileSync(file, "utf8"))?.journal?.lastHash
        if (lastHash !== null && typeof lastHash !== "string") throw new Error("it has no journal.lastHash")
        return { file, lastHash: lastHash as string | null }
      },
      catch: (e) => new BadInput({ message: `${file}: cannot check it against ${journal}: ${(e as Error).message}` })
    })
  })
