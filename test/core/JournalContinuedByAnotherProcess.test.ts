import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Journal } from "../../src/index.ts"
import * as FileJournal from "../../src/run/FileJournal.ts"

// The watchdog of a dead runner continues the runner's journal file with FileJournal.appendTo;
// the file must still read back as one valid hash chain. And readFile must say exactly which
// line is wrong when it is not.

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "faultline-journal-")), "journal.jsonl")
const note = (message: string): Journal.Event => ({ _tag: "Note", message })

const written = (messages: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const file = tmp()
    yield* Effect.scoped(
      Effect.gen(function*() {
        const j = yield* FileJournal.make({ runId: "run-1", file })
        for (const m of messages) yield* j.append(note(m))
      }).pipe(Effect.provide(NodeFileSystem.layer))
    )
    return file
  })

const messages = (entries: ReadonlyArray<Journal.Entry>) => entries.map((e) => e.event._tag === "Note" ? e.event.message : e.event._tag)

describe("Journal.appendTo", () => {
  it.effect("continues the chain, the sequence and the run id of an existing journal", () =>
    Effect.gen(function*() {
      const file = yield* written(["a", "b"])
      const e = yield* FileJournal.appendTo(file, note("watchdog"))
      assert.strictEqual(e.seq, 2)
      assert.strictEqual(e.runId, "run-1")
      const read = yield* FileJournal.readFile(file)
      assert.deepStrictEqual(messages(read), ["a", "b", "watchdog"])
      assert.strictEqual(read[2]!.prev, read[1]!.hash)
      assert.strictEqual(read[2]!.hash, e.hash)
      assert.strictEqual(fs.readFileSync(file, "utf8").split("\n").length, 4)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("cuts a line the dead runner left unfinished, then continues from the last whole one", () =>
    Effect.gen(function*() {
      const file = yield* written(["a", "b"])
      fs.appendFileSync(file, `{"seq":2,"runId":"run-1","at":1,"mo`)
      const e = yield* FileJournal.appendTo(file, note("watchdog"))
      assert.strictEqual(e.seq, 2)
      const read = yield* FileJournal.readFile(file)
      assert.deepStrictEqual(messages(read), ["a", "b", "watchdog"])
      assert.notInclude(fs.readFileSync(file, "utf8"), `"mo\n`)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("a whole last line without its newline gets one before the appended entry", () =>
    Effect.gen(function*() {
      const file = yield* written(["a"])
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").trimEnd())
      yield* FileJournal.appendTo(file, note("watchdog"))
      const read = yield* FileJournal.readFile(file)
      assert.deepStrictEqual(messages(read), ["a", "watchdog"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("an empty file starts a chain: seq 0 after the genesis hash", () =>
    Effect.gen(function*() {
      const file = tmp()
      fs.writeFileSync(file, "")
      const e = yield* FileJournal.appendTo(file, note("first"))
      assert.strictEqual(e.seq, 0)
      assert.strictEqual(e.prev, Journal.GENESIS)
      assert.strictEqual(e.runId, "")
      assert.deepStrictEqual(messages(yield* FileJournal.readFile(file)), ["first"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("a file with only an unfinished line is cut to empty and starts a chain", () =>
    Effect.gen(function*() {
      const file = tmp()
      fs.writeFileSync(file, `{"seq":0,"ru`)
      const e = yield* FileJournal.appendTo(file, note("first"))
      assert.strictEqual(e.seq, 0)
      assert.strictEqual(e.prev, Journal.GENESIS)
      assert.deepStrictEqual(messages(yield* FileJournal.readFile(file)), ["first"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("masks secrets like append does", () =>
    Effect.gen(function*() {
      const file = yield* written([])
      yield* FileJournal.appendTo(file, note("via postgres://app:hunter2@db:5432/x"))
      assert.notInclude(fs.readFileSync(file, "utf8"), "hunter2")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("a journal that cannot be read is JournalInvalid, not a defect", () =>
    Effect.gen(function*() {
      const file = path.join(path.dirname(tmp()), "missing.jsonl")
      const e = yield* Effect.flip(FileJournal.appendTo(file, note("x")))
      assert.strictEqual(e._tag, "JournalInvalid")
      assert.strictEqual(e.file, file)
      assert.match(e.problem, /^cannot append: /)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

// Lines hashed the way the journal hashes them, to build chains that are intact but wrong in
// one precise way.
const chain = (bodies: ReadonlyArray<Record<string, unknown>>, tamper?: (i: number, prev: string) => string) => {
  let prev = Journal.GENESIS
  return bodies.map((body, i) => {
    const json = JSON.stringify(body)
    const hash = createHash("sha256").update(prev).update(json).digest("hex")
    const line = `${json.slice(0, -1)},"prev":"${tamper?.(i, prev) ?? prev}","hash":"${hash}"}`
    prev = hash
    return line
  })
}
const body = (seq: number, event: unknown) => ({ seq, runId: "r", at: 0, mono: 0, event })

describe("Journal.readFile", () => {
  it.effect("names the line of an entry that is chained correctly but is not a journal entry", () =>
    Effect.gen(function*() {
      const file = tmp()
      fs.writeFileSync(file, chain([body(0, note("ok")), body(1, { _tag: "NoSuchEvent" })]).join("\n") + "\n")
      const e = yield* Effect.flip(FileJournal.readFile(file))
      assert.strictEqual(e.line, 2)
      assert.match(e.problem, /^not a journal entry: /)
      assert.isAtMost(e.problem.length, "not a journal entry: ".length + 300)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("an edited prev link is caught even when the entry's own hash is intact", () =>
    Effect.gen(function*() {
      const file = tmp()
      const lines = chain([body(0, note("a")), body(1, note("b"))], (i, prev) => i === 1 ? "f".repeat(64) : prev)
      fs.writeFileSync(file, lines.join("\n") + "\n")
      const e = yield* Effect.flip(FileJournal.readFile(file))
      assert.strictEqual(e.line, 2)
      assert.include(e.problem, "hash chain broken")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("a broken first entry is reported at line 1", () =>
    Effect.gen(function*() {
      const file = tmp()
      const lines = chain([body(0, note("a"))], () => "0".repeat(63) + "1")
      fs.writeFileSync(file, lines.join("\n") + "\n")
      const e = yield* Effect.flip(FileJournal.readFile(file))
      assert.strictEqual(e.line, 1)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("blank and whitespace-only lines are skipped", () =>
    Effect.gen(function*() {
      const file = tmp()
      const [a, b] = chain([body(0, note("a")), body(1, note("b"))])
      fs.writeFileSync(file, `${a}\n   \n\n${b}\n`)
      assert.deepStrictEqual(messages(yield* FileJournal.readFile(file)), ["a", "b"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
