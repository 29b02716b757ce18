/**
 * The Journal: the append-only, typed, hash-chained event log of a run. Reports,
 * verdicts and live views are derived from it and from nothing else.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer, Schema } from "effect"
import { Sample } from "./Probe.ts"
import * as PrivateFiles from "./PrivateFiles.ts"
import * as Redact from "./Redact.ts"
import { Target } from "./Target.ts"

/**
 * Revert data: everything a driver needs to undo a fault, possibly in another process.
 *
 * @since 0.1.0
 */
export const Revert = Schema.Struct({
  driver: Schema.String,
  fault: Schema.String,
  target: Target,
  data: Schema.Record(Schema.String, Schema.Unknown)
})
/** @since 0.1.0 */
export type Revert = typeof Revert.Type

/** @since 0.1.0 */
export const Phase = Schema.Literals(["before", "during", "after"])
/** @since 0.1.0 */
export type Phase = typeof Phase.Type

/** @since 0.1.0 */
export const Status = Schema.Literals(["passed", "deviated", "aborted", "failed", "interrupted"])
/** @since 0.1.0 */
export type Status = typeof Status.Type

const HypothesisConfig = Schema.Struct({
  name: Schema.String,
  probe: Schema.String,
  spec: Schema.Unknown,
  everyMs: Schema.Number,
  samples: Schema.Number,
  tolerance: Schema.Unknown
})

/**
 * Every event a run can journal.
 *
 * @since 0.1.0
 */
export const Event = Schema.Union([
  Schema.TaggedStruct("RunStarted", {
    experiment: Schema.String,
    dryRun: Schema.Boolean,
    hypotheses: Schema.Array(HypothesisConfig),
    objectives: Schema.Struct({ rtoMs: Schema.NullOr(Schema.Number), rpoMs: Schema.NullOr(Schema.Number) }),
    rto: Schema.NullOr(Schema.Struct({ hypothesis: Schema.String, stableFor: Schema.Number, from: Schema.NullOr(Schema.String) })),
    rpo: Schema.NullOr(Schema.Struct({ everyMs: Schema.Number })),
    abort: Schema.Array(Schema.String)
  }),
  Schema.TaggedStruct("Sample", { hypothesis: Schema.String, phase: Phase, sample: Sample }),
  Schema.TaggedStruct("HypothesisChecked", {
    hypothesis: Schema.String,
    phase: Phase,
    met: Schema.Boolean,
    samples: Schema.Number,
    good: Schema.Number,
    details: Schema.Array(Schema.String)
  }),
  Schema.TaggedStruct("TargetsResolved", {
    fault: Schema.String,
    selector: Schema.String,
    targets: Schema.Array(Target)
  }),
  Schema.TaggedStruct("GuardChecked", { guard: Schema.String, ok: Schema.Boolean, detail: Schema.String }),
  Schema.TaggedStruct("FaultPlanned", { faultId: Schema.String, fault: Schema.String, spec: Schema.Unknown, target: Target }),
  Schema.TaggedStruct("CallsPlanned", {
    fault: Schema.String,
    faultIds: Schema.Array(Schema.String),
    calls: Schema.Array(Schema.Struct({
      phase: Schema.Literals(["prepare", "inject", "revert"]),
      service: Schema.String,
      operation: Schema.String,
      mutating: Schema.Boolean,
      params: Schema.Unknown
    }))
  }),
  Schema.TaggedStruct("FaultInjecting", { faultId: Schema.String, fault: Schema.String, spec: Schema.Unknown, target: Target }),
  Schema.TaggedStruct("FaultInjected", { faultId: Schema.String, fault: Schema.String, startedMono: Schema.Number, revert: Revert }),
  Schema.TaggedStruct("FaultInjectFailed", { faultId: Schema.String, fault: Schema.String, error: Schema.String }),
  Schema.TaggedStruct("FaultReverting", { faultId: Schema.String }),
  Schema.TaggedStruct("FaultReverted", { faultId: Schema.String, attempts: Schema.Number }),
  Schema.TaggedStruct("FaultRevertFailed", { faultId: Schema.String, attempts: Schema.Number, error: Schema.String }),
  Schema.TaggedStruct("AbortFired", { condition: Schema.String, reason: Schema.String }),
  Schema.TaggedStruct("HeartbeatAck", { seq: Schema.Number, mono: Schema.Number }),
  Schema.TaggedStruct("HeartbeatReadBack", { checked: Schema.Number, surviving: Schema.Array(Schema.Number) }),
  Schema.TaggedStruct("Note", { message: Schema.String }),
  Schema.TaggedStruct("MethodEnded", {
    outcome: Schema.Literals(["completed", "failed", "aborted", "interrupted", "skipped"]),
    error: Schema.NullOr(Schema.String)
  }),
  Schema.TaggedStruct("RunEnded", { status: Status, cleanup: Schema.Literals(["ok", "failed"]), reason: Schema.String })
])
/** @since 0.1.0 */
export type Event = typeof Event.Type

/**
 * One journal line: the event, when it was written (wall and monotonic ms), its place in
 * the chain and the chain's hash.
 *
 * @since 0.1.0
 */
export const Entry = Schema.Struct({
  seq: Schema.Int,
  runId: Schema.String,
  at: Schema.Number,
  mono: Schema.Number,
  event: Event,
  prev: Schema.String,
  hash: Schema.String
})
/** @since 0.1.0 */
export type Entry = typeof Entry.Type

/** The hash that precedes the first entry. @since 0.1.0 */
export const GENESIS = "0".repeat(64)

// The hash covers the body exactly as serialised into the file, so a reader must verify the
// raw parsed lines (key order as written), before any decoding reorders keys.
const hashText = (prev: string, bodyJson: string): string =>
  createHash("sha256").update(prev).update(bodyJson).digest("hex")
const hashOf = (prev: string, body: unknown): string => hashText(prev, JSON.stringify(body))

/**
 * Masks secrets in any JSON-like value (see `Redact`): the journal writes nothing else.
 *
 * @since 0.1.0
 */
export const redact = <A>(value: A): A => Redact.redact(value)

/**
 * The journal of the current run.
 *
 * @since 0.1.0
 */
export class Journal extends Context.Service<Journal, {
  readonly runId: string
  readonly append: (event: Event) => Effect.Effect<Entry>
  readonly entries: Effect.Effect<ReadonlyArray<Entry>>
  /** Entries appended so far, read synchronously (for live views). */
  readonly snapshot: () => ReadonlyArray<Entry>
}>()("faultline/Journal") {}

/**
 * Makes a journal. With `file`, each entry is written as one JSON line and handed to the
 * OS before `append` returns; the file is opened in the scope and closed with it.
 *
 * @since 0.1.0
 */
export const make = (options: {
  readonly runId: string
  readonly file?: string | undefined
  readonly onEntry?: ((entry: Entry) => void) | undefined
}) =>
  Effect.gen(function*() {
    const entries: Array<Entry> = []
    let prev = GENESIS
    const fd = options.file === undefined ? undefined : yield* Effect.acquireRelease(
      Effect.sync(() => {
        // A private run folder (0700) and a new 0600 file, never through a symlink: one
        // journal per file; a second run must not append a second chain to it.
        try {
          PrivateFiles.ensureDir(path.dirname(options.file!))
          return PrivateFiles.createExclusive(options.file!)
        } catch (e) {
          throw new Error(`cannot create journal ${options.file}: ${(e as Error).message} (one run per directory)`)
        }
      }),
      (fd) => Effect.sync(() => fs.closeSync(fd))
    )
    const append = (event: Event) =>
      Effect.clockWith((clock) => {
        const at = clock.currentTimeMillisUnsafe()
        const mono = Number(clock.monotonicTimeNanosUnsafe()) / 1e6
        const body = { seq: entries.length, runId: options.runId, at, mono, event: redact(event) }
        const bodyJson = JSON.stringify(body)
        const hash = hashText(prev, bodyJson)
        const entry: Entry = { ...body, prev, hash }
        prev = hash
        entries.push(entry)
        if (fd !== undefined) fs.writeSync(fd, `${bodyJson.slice(0, -1)},"prev":"${entry.prev}","hash":"${hash}"}\n`)
        options.onEntry?.(entry)
        return Effect.succeed(entry)
      })
    return Journal.of({
      runId: options.runId,
      append,
      entries: Effect.sync(() => entries.slice()),
      snapshot: () => entries
    })
  })

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
          let text = fs.readFileSync(fd, "utf8")
          const cut = text.lastIndexOf("\n", text.endsWith("\n") ? text.length - 2 : text.length - 1)
          const tail = text.slice(cut + 1).trim()
          let last: Entry | undefined
          try {
            last = tail === "" ? undefined : JSON.parse(tail) as Entry
          } catch {
            // A line the dead runner never finished: it was not part of the chain; drop it.
            text = text.slice(0, cut + 1)
            fs.ftruncateSync(fd, Buffer.byteLength(text))
            const before = text.trimEnd().split("\n").at(-1)
            last = before ? JSON.parse(before) as Entry : undefined
          }
          const prev = last?.hash ?? GENESIS
          const body = {
            seq: (last?.seq ?? -1) + 1,
            runId: last?.runId ?? "",
            at: clock.currentTimeMillisUnsafe(),
            mono: Number(clock.monotonicTimeNanosUnsafe()) / 1e6,
            event: redact(event)
          }
          const bodyJson = JSON.stringify(body)
          const hash = hashText(prev, bodyJson)
          const sep = text.length > 0 && !text.endsWith("\n") ? "\n" : ""
          fs.writeSync(fd, `${sep}${bodyJson.slice(0, -1)},"prev":"${prev}","hash":"${hash}"}\n`)
          return { ...body, prev, hash } as Entry
        } finally {
          fs.closeSync(fd)
        }
      },
      catch: (e) => new JournalInvalid({ file, line: 0, problem: `cannot append: ${(e as Error).message}` })
    })
  )

/**
 * A journal layer kept in memory.
 *
 * @since 0.1.0
 */
export const layerMemory = (runId = "test-run"): Layer.Layer<Journal> => Layer.effect(Journal, make({ runId }))

/**
 * The journal file is not valid: a line that does not decode, or a broken hash chain.
 *
 * @since 0.1.0
 */
export class JournalInvalid extends Schema.TaggedError<JournalInvalid>()("JournalInvalid", {
  file: Schema.String,
  line: Schema.Int,
  problem: Schema.String
}) {
  override get message() {
    return `${this.file}:${this.line}: ${this.problem}`
  }
}

/**
 * Checks the hash chain of a list of entries; returns the index of the first broken one, or -1.
 *
 * @since 0.1.0
 */
export const verifyChain = (entries: ReadonlyArray<Entry>): number => {
  let prev = GENESIS
  for (let i = 0; i < entries.length; i++) {
    const { hash, prev: p, ...body } = entries[i]! as Entry
    if (p !== prev || hashOf(prev, body) !== hash) return i
    prev = hash
  }
  return -1
}

const decodeEntry = Schema.decodeUnknownExit(Entry)

/**
 * Reads a JSON Lines journal file, decoding every line and verifying the hash chain.
 *
 * @since 0.1.0
 */
export const readFile = (file: string): Effect.Effect<ReadonlyArray<Entry>, JournalInvalid> =>
  Effect.gen(function*() {
    const text = yield* Effect.try({
      try: () => fs.readFileSync(file, "utf8"),
      catch: (e) => new JournalInvalid({ file, line: 0, problem: `cannot read: ${(e as Error).message}` })
    })
    const lines = text.split("\n").filter((l) => l.trim() !== "")
    const raw: Array<unknown> = []
    for (let i = 0; i < lines.length; i++) {
      try {
        raw.push(JSON.parse(lines[i]!))
      } catch (e) {
        return yield* new JournalInvalid({ file, line: i + 1, problem: `not JSON: ${(e as Error).message}` })
      }
    }
    const broken = verifyChain(raw as ReadonlyArray<Entry>)
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
