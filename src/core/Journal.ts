/**
 * The Journal: the append-only, typed, hash-chained event log of a run. Reports,
 * verdicts and live views are derived from it and from nothing else.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { Environment } from "./Environment.ts"
import { Sample } from "./Probe.ts"
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
export const Status = Schema.Literals(["passed", "deviated", "aborted", "failed", "interrupted", "refused", "planned"])
/** @since 0.1.0 */
export type Status = typeof Status.Type

const HypothesisConfig = Schema.Struct({
  name: Schema.String,
  probe: Schema.String,
  spec: Schema.Unknown,
  everyMs: Schema.Number,
  samples: Schema.Number,
  tolerance: Schema.Unknown,
  /** How it is judged during the method: `tolerance`, `observe`, or a relaxed tolerance. */
  during: Schema.optionalKey(Schema.Unknown)
})

/**
 * Who did something in a drill: the name they gave, the OS user (null for a web participant,
 * who holds the join token instead) and where it came from.
 *
 * @since 0.1.0
 */
export const Actor = Schema.Struct({
  name: Schema.NullOr(Schema.String),
  user: Schema.NullOr(Schema.String),
  via: Schema.Literals(["terminal", "web", "answers", "library"])
})
/** @since 0.1.0 */
export type Actor = typeof Actor.Type

/**
 * How a drill step ended: done (a manual or automatic step completed), approved, refused (an
 * approval or a go/no-go said no), failed, skipped (not reached) or aborted (the drill stopped
 * while it was current).
 *
 * @since 0.1.0
 */
export const StepOutcome = Schema.Literals(["done", "approved", "refused", "go", "no-go", "failed", "aborted"])
/** @since 0.1.0 */
export type StepOutcome = typeof StepOutcome.Type

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
    abort: Schema.Array(Schema.String),
    // Optional so that journals written before they existed still decode.
    description: Schema.optionalKey(Schema.String),
    /**
     * Who ran it, with what, where: names only, never an environment value. (Not called
     * `environment`: a field of that name holds environment values, which the journal masks.)
     */
    runtime: Schema.optionalKey(Environment),
    guards: Schema.optionalKey(Schema.Array(Schema.Struct({ name: Schema.String, spec: Schema.Unknown }))),
    /** The catalog service the experiment names, with its tier when known. */
    service: Schema.optionalKey(Schema.Struct({ name: Schema.String, tier: Schema.NullOr(Schema.Number) }))
  }),
  Schema.TaggedStruct("Sample", { hypothesis: Schema.String, phase: Phase, sample: Sample }),
  Schema.TaggedStruct("HypothesisChecked", {
    hypothesis: Schema.String,
    phase: Phase,
    met: Schema.Boolean,
    samples: Schema.Number,
    good: Schema.Number,
    details: Schema.Array(Schema.String),
    /**
     * During the method only: what judges this hypothesis there. `tolerance` (its own or
     * its relaxed `during` tolerance) counts for the verdict; `rto-objective` (an RTO
     * stopwatch times its outage, the objective judges it) and `observe` (opted out) do not.
     */
    judgedBy: Schema.optionalKey(Schema.Literals(["tolerance", "rto-objective", "observe"]))
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
    outcome: Schema.Literals(["completed", "failed", "aborted", "interrupted", "skipped", "refused"]),
    error: Schema.NullOr(Schema.String)
  }),
  Schema.TaggedStruct("RunEnded", { status: Status, cleanup: Schema.Literals(["ok", "failed"]), reason: Schema.String }),
  // Drills (src/drill): the runbook as run, each step's start and end with who and what was
  // recorded, every approval, every note and the RTO clock's checkpoints.
  Schema.TaggedStruct("DrillStarted", {
    runbook: Schema.String,
    service: Schema.String,
    tier: Schema.String,
    objectives: Schema.Struct({ rtoMs: Schema.NullOr(Schema.Number), rpoMs: Schema.NullOr(Schema.Number) }),
    roles: Schema.Array(Schema.String),
    runner: Actor,
    steps: Schema.Array(Schema.Struct({
      stepId: Schema.String,
      title: Schema.String,
      kind: Schema.String,
      plannedMs: Schema.NullOr(Schema.Number),
      branch: Schema.NullOr(Schema.String)
    }))
  }),
  Schema.TaggedStruct("StepStarted", { stepId: Schema.String, kind: Schema.String, title: Schema.String, instructions: Schema.String }),
  Schema.TaggedStruct("StepEnded", {
    stepId: Schema.String,
    outcome: StepOutcome,
    actor: Schema.NullOr(Actor),
    evidence: Schema.Record(Schema.String, Schema.Unknown),
    approvers: Schema.Array(Actor),
    detail: Schema.String,
    /** What a `run` step's experiment measured: its RPO (the drill judges its objective with it). */
    rpo: Schema.optionalKey(Schema.Struct({ windowMs: Schema.Number, lostWrites: Schema.Number }))
  }),
  Schema.TaggedStruct("StepApproval", { stepId: Schema.String, actor: Actor, approved: Schema.Boolean, reason: Schema.String }),
  Schema.TaggedStruct("DrillNote", { stepId: Schema.NullOr(Schema.String), actor: Actor, text: Schema.String }),
  Schema.TaggedStruct("Checkpoint", { stepId: Schema.String, clock: Schema.Literals(["rto"]), action: Schema.Literals(["start", "stop"]) })
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
/**
 * The chain hash of a body serialised as `bodyJson`, following `prev`.
 *
 * @since 0.1.0
 */
export const hashText = (prev: string, bodyJson: string): string =>
  // One-shot hashing (Node >= 21.7) makes no Hash object per entry; the digest is the same.
  oneShot === undefined ? crypto.createHash("sha256").update(prev).update(bodyJson).digest("hex") : oneShot("sha256", prev + bodyJson, "hex")
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash
const hashOf = (prev: string, body: unknown): string => hashText(prev, JSON.stringify(body))

/**
 * Masks secrets in any JSON-like value (see `Redact`): the journal writes nothing else.
 *
 * @since 0.1.0
 */
export const redact = <A>(value: A): A => Redact.redact(value)

// A sample whose value is a number, a boolean or absent and that carries no error has one
// string to mask, the hypothesis name: samples are most of a long run's entries.
const redactEvent = (event: Event, names: Map<string, string>): Event => {
  if (event._tag !== "Sample") return redact(event)
  const s = event.sample
  const v = s.value
  if (s.error !== undefined || (v !== undefined && typeof v !== "number" && typeof v !== "boolean")) return redact(event)
  let name = names.get(event.hypothesis)
  if (name === undefined) {
    name = Redact.redactString(event.hypothesis)
    names.set(event.hypothesis, name)
  }
  return { _tag: "Sample", hypothesis: name, phase: event.phase, sample: s }
}

/**
 * The journal of the current run.
 *
 * @since 0.1.0
 */
export class Journal extends Context.Service<Journal, {
  readonly runId: string
  readonly append: (event: Event) => Effect.Effect<Entry>
  /**
   * The entries this journal keeps in memory: all of them unless it was made with
   * `retain: false` (a long run streams its journal to a file and keeps none; read the file).
   */
  readonly entries: Effect.Effect<ReadonlyArray<Entry>>
  /** The entries kept in memory, read synchronously (see `entries`). */
  readonly snapshot: () => ReadonlyArray<Entry>
}>()("faultline/Journal") {}

/**
 * A streaming fold over journal entries: `step` sees each entry once, in order; `result`
 * reads the answer at any point. Reports and stopwatches are folds, so the same figures
 * come from a live run, an array of entries, or a journal file read one line at a time.
 *
 * @since 0.1.0
 */
export interface Fold<A> {
  readonly step: (entry: Entry) => void
  readonly result: () => A
}

/**
 * Runs a fold over entries held in memory.
 *
 * @since 0.1.0
 */
export const foldAll = <A>(entries: Iterable<Entry>, fold: Fold<A>): A => {
  for (const e of entries) fold.step(e)
  return fold.result()
}

/**
 * Where a journal's lines go besides memory: `write` receives each line (with its newline)
 * in chain order and returns once the line is handed to the OS. It is synchronous on
 * purpose: an append is one indivisible step (no other append can slip between making an
 * entry and writing it), and a run's timing under `TestClock` does not depend on disk
 * latency. The file journal (`run/FileJournal`) is one.
 *
 * @since 0.1.0
 */
export interface Storage {
  readonly file: string
  readonly write: (line: string) => void
}

/**
 * The line of an entry as written to storage: the body exactly as hashed, then the chain.
 *
 * @since 0.1.0
 */
export const lineOf = (bodyJson: string, prev: string, hash: string): string => `${bodyJson.slice(0, -1)},"prev":"${prev}","hash":"${hash}"}\n`

/**
 * Makes a journal. With `storage`, each entry is written as one JSON line and handed to the
 * OS before `append` returns. `retain` (default true) keeps every entry in memory as well;
 * a long run turns it off and keeps only what its sampler windows need.
 *
 * @since 0.1.0
 */
export const make = (options: {
  readonly runId: string
  readonly storage?: Storage | undefined
  readonly retain?: boolean | undefined
  readonly onEntry?: ((entry: Entry) => void) | undefined
}): Effect.Effect<Journal["Service"]> =>
  Effect.sync(() => {
    const entries: Array<Entry> = []
    const retain = options.retain ?? true
    let seq = 0
    let prev = GENESIS
    const names = new Map<string, string>()
    const next = (clock: Clock.Clock, event: Event) => {
      const at = clock.currentTimeMillisUnsafe()
      const mono = Number(clock.monotonicTimeNanosUnsafe()) / 1e6
      const body = { seq: seq++, runId: options.runId, at, mono, event: redactEvent(event, names) }
      const bodyJson = JSON.stringify(body)
      const hash = hashText(prev, bodyJson)
      const entry: Entry = { ...body, prev, hash }
      prev = hash
      return { entry, bodyJson }
    }
    const commit = (entry: Entry) => {
      if (retain) entries.push(entry)
      options.onEntry?.(entry)
      return entry
    }
    const storage = options.storage
    const append = (event: Event) =>
      Effect.clockWith((clock) => {
        const { entry, bodyJson } = next(clock, event)
        storage?.write(lineOf(bodyJson, entry.prev, entry.hash))
        return Effect.succeed(commit(entry))
      })
    return Journal.of({
      runId: options.runId,
      append,
      entries: Effect.sync(() => entries.slice()),
      snapshot: () => entries
    })
  })

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
 * Checks the hash chain of a list of entries (following the hash `after`, by default the
 * genesis); returns the index of the first broken one, or -1.
 *
 * @since 0.1.0
 */
export const verifyChain = (entries: ReadonlyArray<Entry>, after: string = GENESIS): number => {
  let prev = after
  for (let i = 0; i < entries.length; i++) {
    const { hash, prev: p, ...body } = entries[i]! as Entry
    if (p !== prev || hashOf(prev, body) !== hash) return i
    prev = hash
  }
  return -1
}
