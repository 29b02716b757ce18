import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Journal, Probe, Target } from "../../src/index.ts"
import * as FileJournal from "../../src/run/FileJournal.ts"

// A temporary directory, removed when the test's scope closes.
const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "faultline-journal-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const victim = Target.make({ kind: "process", id: "4242", name: "victim", labels: { tier: "web" } })

// Events written with their keys in the order of the Event schema.
const events: ReadonlyArray<Journal.Event> = [
  {
    _tag: "RunStarted",
    experiment: "journal test",
    dryRun: false,
    hypotheses: [],
    objectives: { rtoMs: 2000, rpoMs: null },
    rto: null,
    rpo: null,
    abort: ["maxDuration(1m)"]
  },
  { _tag: "Note", message: "first note" },
  { _tag: "FaultInjecting", faultId: "r/f1", fault: "process.kill", spec: { signal: "SIGKILL" }, target: victim },
  { _tag: "Sample", hypothesis: "h", phase: "during", sample: { at: 1000, mono: 5.5, ok: true, latencyMs: 1.25, value: 200 } },
  { _tag: "Note", message: "second note" },
  { _tag: "RunEnded", status: "passed", cleanup: "ok", reason: "all good" }
]

// Writes `events` to `<dir>/journal.jsonl` through a real journal; returns the file and entries.
const writeJournal = (dir: string, list: ReadonlyArray<Journal.Event> = events) =>
  Effect.gen(function*() {
    const file = path.join(dir, "nested", "journal.jsonl")
    const entries = yield* Effect.scoped(Effect.gen(function*() {
      const j = yield* FileJournal.make({ runId: "run-1", file })
      for (const e of list) yield* j.append(e)
      return yield* j.entries
    }))
    return { file, entries }
  })

const lines = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "")

const expectInvalid = (file: string) =>
  Effect.gen(function*() {
    const e = yield* Effect.flip(FileJournal.readFile(file).pipe(Effect.provide(NodeFileSystem.layer)))
    assert.strictEqual(e._tag, "JournalInvalid")
    assert.strictEqual(e.file, file)
    return e
  })

describe("Journal file", () => {
  it.effect("writes one JSON line per append, before append returns", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "j.jsonl")
      const j = yield* FileJournal.make({ runId: "run-1", file })
      for (let i = 0; i < events.length; i++) {
        const entry = yield* j.append(events[i]!)
        const written = lines(file)
        assert.strictEqual(written.length, i + 1)
        const parsed = JSON.parse(written[i]!)
        assert.strictEqual(parsed.seq, i)
        assert.strictEqual(parsed.runId, "run-1")
        assert.strictEqual(parsed.hash, entry.hash)
        assert.strictEqual(parsed.event._tag, events[i]!._tag)
      }
    })))

  it.effect("masks secrets in samples: the hypothesis name, a string value, an error", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const name = "health of http://admin:canary-pw@db.internal/x"
      const samples: ReadonlyArray<Journal.Event> = [
        { _tag: "Sample", hypothesis: name, phase: "during", sample: { at: 1, mono: 1, ok: true, latencyMs: 1, value: 200 } },
        { _tag: "Sample", hypothesis: name, phase: "during", sample: { at: 2, mono: 2, ok: true, latencyMs: 1, value: true } },
        { _tag: "Sample", hypothesis: "h", phase: "during", sample: { at: 3, mono: 3, ok: true, latencyMs: 1, value: "token=canary-pw" } },
        { _tag: "Sample", hypothesis: "h", phase: "after", sample: { at: 4, mono: 4, ok: false, latencyMs: 1, error: "GET https://u:canary-pw@x/ failed" } }
      ]
      const { file } = yield* writeJournal(dir, samples)
      const text = fs.readFileSync(file, "utf8")
      assert.notInclude(text, "canary-pw")
      const read = lines(file).map((l) => JSON.parse(l))
      assert.strictEqual(read.length, 4)
      // Numbers and booleans are kept as they are; only strings are masked.
      assert.strictEqual(read[0].event.sample.value, 200)
      assert.strictEqual(read[1].event.sample.value, true)
      assert.include(read[0].event.hypothesis, "db.internal")
      assert.strictEqual(read[0].event.hypothesis, read[1].event.hypothesis)
      assert.strictEqual(Journal.verifyChain(read), -1)
    })))

  it.effect("reads back equal to the appended entries, with a sound chain", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const { entries, file } = yield* writeJournal(dir)
      assert.strictEqual(entries.length, events.length)
      const read = yield* FileJournal.readFile(file).pipe(Effect.provide(NodeFileSystem.layer))
      // Equal as data (a decoded target is a Target instance, an appended one a plain object).
      const plain = (x: unknown) => JSON.parse(JSON.stringify(x))
      assert.deepStrictEqual(plain(read), plain(entries))
      assert.deepStrictEqual(plain(read.map((e) => e.event)), plain(events))
      assert.strictEqual(Journal.verifyChain(read), -1)
      // The chain starts at the genesis hash and links each entry to the one before.
      assert.strictEqual(read[0]!.prev, Journal.GENESIS)
      for (let i = 1; i < read.length; i++) assert.strictEqual(read[i]!.prev, read[i - 1]!.hash)
      // Each hash is sha256(prev + JSON of the body), computed here independently.
      for (const e of read) {
        const { hash, prev, ...body } = e
        assert.strictEqual(hash, createHash("sha256").update(prev).update(JSON.stringify(body)).digest("hex"))
      }
    })))

  it.effect("never destroys what an existing file holds", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "j.jsonl")
      fs.writeFileSync(file, "earlier line\n")
      // Refusing the file and appending to it are both acceptable; truncating it is not.
      yield* Effect.exit(Effect.scoped(Effect.flatMap(FileJournal.make({ runId: "a", file }), (j) => j.append({ _tag: "Note", message: "x" }))))
      assert.strictEqual(lines(file)[0], "earlier line")
    })))

  // The engine journals samples made by Probe.sample, whose keys are not in the order of the
  // Sample schema (latencyMs before ok): the chain must not depend on decoded key order.
  it.effect("reads back a journal holding a sample made by Probe.sample", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const sample = yield* Probe.sample(Probe.make("answers", Effect.succeed(200)))
      const { entries, file } = yield* writeJournal(dir, [
        { _tag: "Note", message: "before" },
        { _tag: "Sample", hypothesis: "h", phase: "before", sample }
      ])
      const read = yield* FileJournal.readFile(file).pipe(Effect.provide(NodeFileSystem.layer))
      assert.strictEqual(read.length, entries.length)
      assert.deepStrictEqual(read[1]!.event, { _tag: "Sample", hypothesis: "h", phase: "before", sample: { ...sample } })
      assert.strictEqual(read[1]!.hash, entries[1]!.hash)
    })))
})

describe("Journal.verifyChain", () => {
  it.effect("is -1 for an intact chain and for no entries", () =>
    Effect.scoped(Effect.gen(function*() {
      const { entries } = yield* writeJournal(yield* tempDir)
      assert.strictEqual(Journal.verifyChain(entries), -1)
      assert.strictEqual(Journal.verifyChain([]), -1)
    })))

  it.effect("finds an edited event", () =>
    Effect.scoped(Effect.gen(function*() {
      const { entries } = yield* writeJournal(yield* tempDir)
      const edited = entries.map((e, i) => i === 4 ? { ...e, event: { _tag: "Note" as const, message: "rewritten" } } : e)
      assert.strictEqual(Journal.verifyChain(edited), 4)
      // Editing a number (the wall-clock time) is caught too.
      assert.strictEqual(Journal.verifyChain(entries.map((e, i) => i === 2 ? { ...e, at: e.at + 1 } : e)), 2)
      // So is editing the first entry.
      assert.strictEqual(Journal.verifyChain(entries.map((e, i) => i === 0 ? { ...e, runId: "other" } : e)), 0)
    })))

  it.effect("an edit whose own hash is recomputed breaks the next link", () =>
    Effect.scoped(Effect.gen(function*() {
      const { entries } = yield* writeJournal(yield* tempDir)
      const forged = entries.map((e) => ({ ...e }))
      const { hash: _h, prev, ...body } = { ...forged[1]!, event: { _tag: "Note" as const, message: "forged" } }
      forged[1] = { ...body, prev, hash: createHash("sha256").update(prev).update(JSON.stringify(body)).digest("hex") }
      assert.strictEqual(Journal.verifyChain(forged), 2)
    })))

  it.effect("finds a removed entry", () =>
    Effect.scoped(Effect.gen(function*() {
      const { entries } = yield* writeJournal(yield* tempDir)
      assert.strictEqual(Journal.verifyChain(entries.filter((_, i) => i !== 2)), 2)
      assert.strictEqual(Journal.verifyChain(entries.slice(1)), 0)
    })))

  it.effect("finds reordered entries", () =>
    Effect.scoped(Effect.gen(function*() {
      const { entries } = yield* writeJournal(yield* tempDir)
      const swapped = [...entries]
      ;[swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!]
      assert.strictEqual(Journal.verifyChain(swapped), 1)
      const lastTwo = [...entries]
      ;[lastTwo[4], lastTwo[5]] = [lastTwo[5]!, lastTwo[4]!]
      assert.strictEqual(Journal.verifyChain(lastTwo), 4)
    })))
})

describe("Journal.readFile", () => {
  it.effect("refuses an edited line, naming it", () =>
    Effect.scoped(Effect.gen(function*() {
      const { file } = yield* writeJournal(yield* tempDir)
      const ls = lines(file)
      ls[4] = ls[4]!.replace("second note", "second n0te")
      fs.writeFileSync(file, ls.join("\n") + "\n")
      const e = yield* expectInvalid(file)
      assert.strictEqual(e.line, 5)
      assert.include(e.message, `${file}:5:`)
      assert.include(e.problem, "hash chain")
    })))

  it.effect("refuses a file with a line removed", () =>
    Effect.scoped(Effect.gen(function*() {
      const { file } = yield* writeJournal(yield* tempDir)
      fs.writeFileSync(file, lines(file).filter((_, i) => i !== 1).join("\n") + "\n")
      const e = yield* expectInvalid(file)
      assert.strictEqual(e.line, 2)
    })))

  it.effect("refuses reordered lines", () =>
    Effect.scoped(Effect.gen(function*() {
      const { file } = yield* writeJournal(yield* tempDir)
      const ls = lines(file)
      fs.writeFileSync(file, [ls[0], ls[1], ls[3], ls[2], ls[4], ls[5]].join("\n") + "\n")
      const e = yield* expectInvalid(file)
      assert.strictEqual(e.line, 3)
    })))

  it.effect("refuses a line that is not JSON, naming it", () =>
    Effect.scoped(Effect.gen(function*() {
      const { file } = yield* writeJournal(yield* tempDir)
      const ls = lines(file)
      ls.splice(3, 0, "this is not json {")
      fs.writeFileSync(file, ls.join("\n") + "\n")
      const e = yield* expectInvalid(file)
      assert.strictEqual(e.line, 4)
      assert.match(e.problem, /JSON|journal entry/)
    })))

  it.effect("refuses JSON that is not an entry (unknown event)", () =>
    Effect.scoped(Effect.gen(function*() {
      const { file } = yield* writeJournal(yield* tempDir)
      const ls = lines(file)
      const parsed = JSON.parse(ls[1]!)
      parsed.event = { _tag: "Teleported", where: "mars" }
      ls[1] = JSON.stringify(parsed)
      fs.writeFileSync(file, ls.join("\n") + "\n")
      const e = yield* expectInvalid(file)
      assert.strictEqual(e.line, 2)
    })))

  it.effect("a missing file is JournalInvalid, not a defect", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const e = yield* expectInvalid(path.join(dir, "nope.jsonl"))
      assert.include(e.problem, "cannot read")
    })))
})

describe("Journal redaction", () => {
  it.effect("URL credentials and secret-looking keys never reach the file", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* tempDir
      const { entries, file } = yield* writeJournal(dir, [
        { _tag: "Note", message: "connecting to http://user:s3cret@host/ and postgres://admin:s3cret@db:5432/app" },
        {
          _tag: "FaultInjecting",
          faultId: "r/f1",
          fault: "process.kill",
          spec: { password: "s3cret", token: "t0k", nested: { apiKey: "s3cret", list: [{ Authorization: "t0k" }] }, signal: "SIGKILL" },
          target: victim
        }
      ])
      const raw = fs.readFileSync(file, "utf8")
      assert.notInclude(raw, "s3cret")
      assert.notInclude(raw, "t0k")
      // What is not secret is kept; a URL's user-info goes with its password.
      assert.include(raw, "http://<redacted>@host/")
      assert.notInclude(raw, "user:")
      assert.include(raw, "SIGKILL")
      // The in-memory entries are redacted too, and the redacted file still reads back.
      assert.notInclude(JSON.stringify(entries), "s3cret")
      const read = yield* FileJournal.readFile(file).pipe(Effect.provide(NodeFileSystem.layer))
      assert.strictEqual(read.length, 2)
      const spec = (read[1]!.event as any).spec
      assert.notStrictEqual(spec.password, "s3cret")
      assert.strictEqual(spec.signal, "SIGKILL")
    })))

  it("redact leaves ordinary data alone and masks URL passwords in nested values", () => {
    assert.deepStrictEqual(
      Journal.redact({ url: "http://host:8080/path", count: 3, names: ["a", "b"], ok: true, none: null }),
      { url: "http://host:8080/path", count: 3, names: ["a", "b"], ok: true, none: null }
    )
    const r = Journal.redact({ list: ["https://bob:hunter2@example.com/x"], deep: { dsn: "amqp://app:hunter2@mq:5672/vhost" } })
    assert.notInclude(JSON.stringify(r), "hunter2")
    assert.include(JSON.stringify(r), "example.com/x")
    assert.include(JSON.stringify(r), "mq:5672/vhost")
  })

  // `redis://:password@host` (empty user name, the usual Redis form) is a URL with a
  // password like any other (the URL pattern once required a non-empty user).
  it("masks the password of a URL with an empty user name", () => {
    const r = Journal.redact({ message: "connecting to redis://:hunter2@cache:6379/0" })
    assert.notInclude(JSON.stringify(r), "hunter2")
    assert.include(JSON.stringify(r), "cache:6379/0")
  })
})
