/**
 * The file journal: a run's journal as JSON Lines on disk (`journal.jsonl`), each line
 * hash-chained to the previous one; reading it back (whole, or as a streaming fold that
 * holds one line at a time), and continuing its chain from another process.
 *
 * @since 0.1.0
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as PrivateFiles from "../core/PrivateFiles.ts"
import {
  type Entry,
  Entry as EntrySchema,
  type Event,
  type Fold,
  GENESIS,
  hashText,
  Journal,
  JournalInvalid,
  lineOf,
  make as makeJournal,
  redact,
  type Storage,
  verifyChain
} from "../core/Journal.ts"

/**
 * Opens `file` for a new journal (refusing an existing one: one run per file) and returns
 * its storage; the file is closed with the scope. Opening and writing are synchronous, as
 * `Journal.Storage` explains: each line is in the OS before the append returns.
 *
 * @since 0.1.0
 */
export const open = (file: string): Effect.Effect<Storage, JournalInvalid, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.try({
        try: () => {
          // A private run folder (0700) and a new 0600 file, never through a symlink: one
          // journal per file; a second run must not append a second chain to it.
          PrivateFiles.ensureDir(path.dirname(file))
          return PrivateFiles.createExclusive(file)
        },
        catch: (e) => new JournalInvalid({ file, line: 0, problem: `cannot create journal: ${(e as Error).message} (one run per directory)` })
      }),
      (fd) => Effect.sync(() => nodeFs.closeSync(fd))
    ),
    (fd): Storage => ({ file, write: (line) => void nodeFs.writeSync(fd, line) })
  )

/**
 * Makes a journal written to `file` (see `open`); `retain: false` keeps no entry in memory.
 *
 * @since 0.1.0
 */
export const make = (options: {
  readonly runId: string
  readonly file: string
  readonly retain?: boolean | undefined
  readonly onEntry?: ((entry: Entry) => void) | undefined
}): Effect.Effect<Journal["Service"], JournalInvalid, Scope.Scope> =>
  Effect.flatMap(open(options.file), (storage) => makeJournal({ runId: options.runId, storage, retain: options.retain, onEntry: options.onEntry }))

const lastLine = (text: string): string | undefined => text.trimEnd().split("\n").at(-1)

/**
 * Continues the hash chain of an existing journal file, for a process other than the one
 * that started it (the watchdog journaling the reverts of a dead runner). A trailing
 * partial line, left by a runner killed mid-write, was never part of the chain and is cut.
 *
 * @since 0.1.0
 */
export const appendTo = (file: string, event: Event): Effect.Effect<Entry, JournalInvalid> =>
  Effect.clockWith((clock) =>
    Effect.try({
      try: () => {
        // Never through a symlink, and only a file of ours that nobody else may write.
        const fd = PrivateFiles.openExisting(file)
        try {
          let text = nodeFs.readFileSync(fd, "utf8")
          const cut = text.lastIndexOf("\n", text.endsWith("\n") ? text.length - 2 : text.length - 1)
          const tail = text.slice(cut + 1).trim()
          let last = parseLine(tail)
          if (tail !== "" && last === undefined) {
            // A line the dead runner never finished: it was not part of the chain; drop it.
            text = text.slice(0, cut + 1)
            nodeFs.ftruncateSync(fd, Buffer.byteLength(text))
            const before = lastLine(text)
            last = before ? parseLine(before) : undefined
          }
          const prev = last?.hash ?? GENESIS
          const at = clock.currentTimeMillisUnsafe()
          const mono = Number(clock.monotonicTimeNanosUnsafe()) / 1e6
          const body = { seq: (last?.seq ?? -1) + 1, runId: last?.runId ?? "", at, mono, event: redact(event) }
          const bodyJson = JSON.stringify(body)
          const hash = hashText(prev, bodyJson)
          const sep = text.length > 0 && !text.endsWith("\n") ? "\n" : ""
          nodeFs.writeSync(fd, `${sep}${lineOf(bodyJson, prev, hash)}`)
          return { ...body, prev, hash } as Entry
        } finally {
          nodeFs.closeSync(fd)
        }
      },
      catch: (e) => new JournalInvalid({ file, line: 0, problem: `cannot append: ${(e as Error).message}` })
    })
  )

// A line as written: JSON, or why it is not. Kept outside any Effect so that parsing a
// million lines costs a million JSON.parse calls and nothing more.
const parse = (line: string): { readonly ok: true; readonly value: Entry } | { readonly ok: false; readonly error: string } => {
  try {
    return { ok: true, value: JSON.parse(line) as Entry }
  } catch (e) {
    return { ok: false, error: (e as Error).message }
  }
}

const parseLine = (line: string): Entry | undefined => {
  if (line === "") return undefined
  const r = parse(line)
  return r.ok ? r.value : undefined
}

const decodeEntry = Schema.decodeUnknownExit(EntrySchema)

/**
 * Folds over a JSON Lines journal file one line at a time, decoding every line and
 * verifying the hash chain as it goes: memory stays flat however long the run was. Fails
 * on the first line that is not JSON, not an entry, or breaks the chain.
 *
 * @since 0.1.0
 */
export const fold = <A>(file: string, folder: Fold<A>): Effect.Effect<A, JournalInvalid, FileSystem.FileSystem> =>
  Effect.flatMap(foldLines(file, folder, false), ({ result }) => Effect.succeed(result))

/**
 * Like `fold`, but a last line that is not JSON — a write the runner never finished before it
 * died — ends the journal instead of failing it: the fold stops at the line before and
 * `torn` names the line that was cut. Any other bad line still fails.
 *
 * @since 0.1.0
 */
export const foldUpToTornTail = <A>(
  file: string,
  folder: Fold<A>
): Effect.Effect<{ readonly result: A; readonly torn: JournalInvalid | null }, JournalInvalid, FileSystem.FileSystem> => foldLines(file, folder, true)

const foldLines = <A>(file: string, folder: Fold<A>, tolerateTornTail: boolean) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    let prev = GENESIS
    let n = 0
    // A line that is not JSON is only known to be the torn tail once no line follows it.
    let pending: JournalInvalid | null = null
    yield* fs.stream(file).pipe(
      Stream.mapError((e) => new JournalInvalid({ file, line: 0, problem: `cannot read: ${e.message}` })),
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) =>
        Effect.suspend(() => {
          if (line.trim() === "") return Effect.void
          if (pending !== null) return Effect.fail(pending)
          n++
          const parsed = parse(line)
          if (!parsed.ok) {
            const bad = new JournalInvalid({ file, line: n, problem: `not JSON: ${parsed.error}` })
            if (!tolerateTornTail) return Effect.fail(bad)
            pending = bad
            return Effect.void
          }
          const raw = parsed.value
          // The chain is checked on the line as parsed (key order as written), before decoding.
          if (verifyChain([raw], prev) !== -1) {
            return Effect.fail(new JournalInvalid({ file, line: n, problem: "hash chain broken (edited, reordered or truncated journal)" }))
          }
          prev = raw.hash
          const exit = decodeEntry(raw)
          if (exit._tag === "Failure") {
            return Effect.fail(new JournalInvalid({ file, line: n, problem: `not a journal entry: ${String(exit.cause).slice(0, 300)}` }))
          }
          folder.step(exit.value)
          return Effect.void
        })
      )
    )
    const torn: JournalInvalid | null = pending
    return { result: folder.result(), torn }
  })

/**
 * Reads a whole JSON Lines journal file, decoding every line and verifying the hash chain.
 * For long runs prefer `fold`, which holds one line at a time.
 *
 * @since 0.1.0
 */
export const readFile = (file: string): Effect.Effect<ReadonlyArray<Entry>, JournalInvalid, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((e) => new JournalInvalid({ file, line: 0, problem: `cannot read: ${e.message}` }))
    )
    const lines = text.split("\n").filter((l) => l.trim() !== "")
    const raw: Array<Entry> = []
    for (let i = 0; i < lines.length; i++) {
      const parsed = parse(lines[i]!)
      if (!parsed.ok) return yield* new JournalInvalid({ file, line: i + 1, problem: `not JSON: ${parsed.error}` })
      raw.push(parsed.value)
    }
    const broken = verifyChain(raw)
    if (broken >= 0) {
      return yield* new JournalInvalid({ file, line: broken + 1, problem: "hash chain broken (edited, reordered or truncated journal)" })
    }
    const entries: Array<Entry> = []
    for (let i = 0; i < raw.length; i++) {
      const exit = decodeEntry(raw[i])
      if (exit._tag === "Failure") {
        return yield* new JournalInvalid({ file, line: i + 1, problem: `not a journal entry: ${String(exit.cause).slice(0, 300)}` })
      }
      entries.push(exit.value)
    }
    return entries
  })
