/**
 * `faultline postmortem RUN`: a Markdown postmortem draft of a run (experiment or drill),
 * from its journal. Loaded only when it runs.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as PrivateFiles from "../../core/PrivateFiles.ts"
import * as Postmortem from "../../report/Postmortem.ts"
import * as FileJournal from "../../run/FileJournal.ts"
import { BadInput } from "../State.ts"

/**
 * Writes `postmortem.md` into the run folder (never over an existing draft: the team may
 * have edited it), or prints it with `--stdout`.
 *
 * @since 0.1.0
 */
export const postmortem = (args: { readonly run: string; readonly stdout: boolean }) =>
  Effect.gen(function*() {
    const isDir = fs.lstatSync(args.run, { throwIfNoEntry: false })?.isDirectory() ?? false
    const journal = isDir ? path.join(args.run, "journal.jsonl") : args.run
    if (!fs.existsSync(journal)) return yield* new BadInput({ message: `${journal}: no such journal (give a run folder or its journal.jsonl)` })
    const draft = yield* FileJournal.fold(journal, Postmortem.fold()).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
    const text = Postmortem.toMarkdown(draft)
    if (args.stdout) return void process.stdout.write(text)
    const out = path.join(path.dirname(journal), "postmortem.md")
    yield* Effect.try({
      try: () => {
        const fd = PrivateFiles.createExclusive(out)
        try {
          fs.writeSync(fd, text)
        } finally {
          fs.closeSync(fd)
        }
      },
      catch: (e) =>
        new BadInput({
          message: (e as NodeJS.ErrnoException).code === "EEXIST"
            ? `${out}: a draft is already there (edit it, or move it away for a new one)`
            : `${out}: cannot write it: ${(e as Error).message}`
        })
    })
    process.stdout.write(`postmortem draft: ${out}\n`)
  })
