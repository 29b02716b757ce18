/**
 * The file ledger: JSON Lines per run under `<dir>/runs/`, leases under `<dir>/leases/`,
 * every record written and fsync'ed before the step it guards. Starting a run spawns its
 * watchdog, a detached process that reverts the run's open faults if the runner dies.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Revert } from "../core/Journal.ts"
import { LeaseHeld, Ledger, LedgerError, type LedgerRecord, OrphanedFaults, type SetUpProcess } from "../core/Ledger.ts"
import * as Target from "../core/Target.ts"
import { pidAlive } from "../core/Os.ts"
import * as PrivateFiles from "../core/PrivateFiles.ts"
import * as Redact from "../core/Redact.ts"
import * as LedgerTrust from "./LedgerTrust.ts"

/** The default ledger directory. @since 0.1.0 */
export const DEFAULT_DIR = path.join("faultline-runs", "ledger")

/** One line of a run's ledger file. @since 0.1.0 */
export type Line =
  | {
    readonly type: "run"
    readonly runId: string
    readonly pid: number
    readonly journal: string | null
    readonly at: number
    readonly watchdogPid: number | null
  }
  | ({ readonly type: "intent"; readonly seal?: string | null } & Omit<LedgerRecord, "state">)
  | { readonly type: "injected"; readonly faultId: string; readonly revert: Revert; readonly seal?: string | null }
  | { readonly type: "closed"; readonly faultId: string; readonly by: string }
  | { readonly type: "run-closed"; readonly by: string }
  | ({ readonly type: "setup" } & SetUpProcess)

/** What the ledger knows of one run. @since 0.1.0 */
export interface RunState {
  readonly runId: string
  readonly pid: number
  readonly journal: string | null
  readonly watchdogPid: number | null
  readonly closed: boolean
  /** Every fault of the run, latest state, in intent order (with its seal, see LedgerTrust). */
  readonly faults: ReadonlyArray<LedgerRecord & { readonly seal?: string | null | undefined }>
  /** The processes the run's set-up started. */
  readonly setUp: ReadonlyArray<SetUpProcess>
}

const runFile = (dir: string, runId: string) => path.join(dir, "runs", `${runId.replace(/[^\w.-]/g, "_")}.jsonl`)
const leaseFile = (dir: string, key: string) => path.join(dir, "leases", `${createHash("sha1").update(key).digest("hex")}.lease`)

/** Whether a pid is alive (a zombie counts as dead). @since 0.1.0 */
export { pidAlive }

/**
 * Appends one record to a run's ledger file and flushes it to disk.
 *
 * @since 0.1.0
 */
export const appendLine = (dir: string, runId: string, line: Line): void => {
  const file = runFile(dir, runId)
  // Private folders (0700) and files (0600), never opened through a symlink.
  PrivateFiles.ensureDir(dir)
  PrivateFiles.ensureDir(path.dirname(file))
  const fd = PrivateFiles.openAppend(file)
  try {
    fs.writeSync(fd, JSON.stringify(sealed(runId, line)) + "\n")
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

// What reaches the file: secrets masked (environment values by name only), and each
// record that recovery may act on sealed with this user's key (see LedgerTrust).
const sealed = (runId: string, line: Line): Line => {
  const clean = Redact.redact(line)
  switch (clean.type) {
    case "intent":
      return { ...clean, seal: LedgerTrust.seal(runId, clean.faultId, clean.revert) }
    case "injected":
      return { ...clean, seal: LedgerTrust.seal(runId, clean.faultId, clean.revert) }
    default:
      return clean
  }
}

const parseRun = (file: string): RunState | null => {
  let head: Extract<Line, { type: "run" }> | null = null
  let closed = false
  const faults = new Map<string, LedgerRecord & { readonly seal?: string | null | undefined }>()
  const setUp: Array<SetUpProcess> = []
  for (const text of fs.readFileSync(file, "utf8").split("\n")) {
    if (text.trim() === "") continue
    let line: Line
    try {
      line = JSON.parse(text) as Line
    } catch {
      continue // a record the runner never finished writing: it guarded nothing yet
    }
    switch (line.type) {
      case "run":
        head = line
        break
      case "intent": {
        const { type: _t, ...rest } = line
        faults.set(line.faultId, { ...rest, state: "intent" })
        break
      }
      case "injected": {
        const r = faults.get(line.faultId)
        if (r) faults.set(line.faultId, { ...r, state: "injected", revert: line.revert, seal: line.seal })
        break
      }
      case "closed": {
        const r = faults.get(line.faultId)
        if (r) faults.set(line.faultId, { ...r, state: "closed" })
        break
      }
      case "run-closed":
        closed = true
        break
      case "setup":
        if (Number.isInteger(line.pid)) setUp.push({ name: String(line.name), pid: line.pid, startTime: line.startTime ?? null, label: line.label ?? null })
        break
    }
  }
  if (head === null) return null
  return { runId: head.runId, pid: head.pid, journal: head.journal, watchdogPid: head.watchdogPid, closed, faults: [...faults.values()], setUp }
}

/**
 * Reads every run the ledger knows.
 *
 * @since 0.1.0
 */
export const readRuns = (dir: string): ReadonlyArray<RunState> => {
  const runs = path.join(dir, "runs")
  if (!fs.existsSync(runs)) return []
  return fs.readdirSync(runs).filter((f) => f.endsWith(".jsonl")).flatMap((f) => {
    const r = parseRun(path.join(runs, f))
    return r ? [r] : []
  })
}

/** Reads one run. @since 0.1.0 */
export const readRun = (dir: string, runId: string): RunState | null => {
  const file = runFile(dir, runId)
  return fs.existsSync(file) ? parseRun(file) : null
}

/**
 * The run holding the lease on target `key` (`kind:id`), or null when none does: no lease,
 * or a stale one (its runner is gone or its run closed). A scheduler asks before it starts a
 * drill on that target.
 *
 * @since 0.2.0
 */
export const leaseHolder = (dir: string, key: string): string | null => {
  let holder: { runId?: unknown; pid?: unknown } | null = null
  try {
    holder = JSON.parse(fs.readFileSync(leaseFile(dir, key), "utf8"))
  } catch {
    return null
  }
  if (typeof holder?.runId !== "string" || typeof holder.pid !== "number") return null
  const run = readRun(dir, holder.runId)
  return pidAlive(holder.pid) && !(run?.closed ?? false) ? holder.runId : null
}

/** A run is live while its runner lives and it has not closed. @since 0.1.0 */
export const isLive = (run: RunState): boolean => !run.closed && pidAlive(run.pid)

/** Open (not closed) faults of a run. @since 0.1.0 */
export const openFaults = (run: RunState): ReadonlyArray<LedgerRecord> => run.faults.filter((f) => f.state !== "closed")

/**
 * Removes every lease a run holds.
 *
 * @since 0.1.0
 */
export const releaseLeases = (dir: string, runId: string): void => {
  const leases = path.join(dir, "leases")
  if (!fs.existsSync(leases)) return
  for (const f of fs.readdirSync(leases)) {
    const p = path.join(leases, f)
    try {
      if ((JSON.parse(fs.readFileSync(p, "utf8")) as { runId: string }).runId === runId) fs.rmSync(p, { force: true })
    } catch {
      // unreadable or already gone
    }
  }
}

const watchdogEntry = (): string => {
  const self = fileURLToPath(import.meta.url)
  return path.join(path.dirname(self), self.endsWith(".ts") ? "watchdog.ts" : "watchdog.js")
}

// What one file ledger keeps in memory between calls.
interface LedgerState {
  readonly dir: string
  readonly watchdog: boolean
  readonly runOf: Map<string, string>
  readonly watchdogs: Map<string, { end: () => void }>
  // A run's set-up may begin it before the experiment does: one watchdog per run.
  readonly watchdogPids: Map<string, number | null>
  // Settles once the run's watchdog has loaded what reverts (see `intent`).
  readonly loaded: Map<string, Promise<void>>
}

const tryWrite = (operation: string, f: () => void) => Effect.try({ try: f, catch: (e) => new LedgerError({ operation, detail: (e as Error).message }) })

// The watchdog's stdin is a pipe whose other end only this process holds: when the runner
// dies, for whatever reason, the watchdog reads EOF. It says `ready` on its stdout once it
// listens (before loading the rest), and `loaded` once it has loaded what reverts: `armed`
// and `loaded` settle then, or reject if it exits first.
const spawnWatchdog = (s: LedgerState, runId: string): { readonly pid: number | null; readonly armed: Promise<void> } => {
  const child = spawn(process.execPath, [watchdogEntry(), s.dir, runId, String(process.pid)], {
    detached: true,
    stdio: ["pipe", "pipe", "ignore"]
  })
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void }).unref?.()
  child.stdin!.on("error", () => {})
  const pid = child.pid ?? null
  s.watchdogs.set(runId, { end: () => child.stdin!.end() })
  const out = child.stdout!
  let said = ""
  const waiting: Array<{ readonly word: string; readonly resolve: () => void }> = []
  out.on("data", (c: Buffer) => {
    said += c.toString()
    for (const w of waiting) if (said.includes(w.word)) w.resolve()
    if (said.includes("loaded")) out.destroy()
  })
  const heard = (word: string) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ word, resolve })
      child.once("error", reject)
      child.once("exit", (code) => reject(new Error(`the watchdog exited (code ${code}) before it was ${word}`)))
    })
  const armed = heard("ready")
  const loaded = heard("loaded")
  // Awaited by the run's first intent; a watchdog that exits before is that intent's error.
  loaded.catch(() => {})
  s.loaded.set(runId, loaded) // `out` is the runner's own end: it must not keep the runner alive.
  ;(out as unknown as { unref?: () => void }).unref?.()
  return { pid, armed }
}

// No fault is injected before the run's watchdog has loaded what reverts, so that a runner
// killed right after an injection is reverted at once; probes need not wait for it.
const awaitLoaded = (s: LedgerState, runId: string) =>
  Effect.suspend(() => {
    const loaded = s.loaded.get(runId)
    if (loaded === undefined) return Effect.void
    return Effect.tryPromise({ try: () => loaded, catch: (e) => new LedgerError({ operation: "intent", detail: (e as Error).message }) }).pipe(
      Effect.timeoutOrElse({
        duration: "20 seconds",
        orElse: () => Effect.fail(new LedgerError({ operation: "intent", detail: "the watchdog did not load within 20 s" }))
      }),
      Effect.tap(() => Effect.sync(() => s.loaded.delete(runId)))
    )
  })

const awaitArmed = (armed: Promise<void>) =>
  Effect.tryPromise({ try: () => armed, catch: (e) => new LedgerError({ operation: "beginRun", detail: (e as Error).message }) }).pipe(
    Effect.timeoutOrElse({
      duration: "20 seconds",
      orElse: () => Effect.fail(new LedgerError({ operation: "beginRun", detail: "the watchdog did not get ready within 20 s" }))
    })
  )

const beginRun = (s: LedgerState, runId: string, journal: string | null) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    let armed: Promise<void> | null = null
    yield* tryWrite("beginRun", () => {
      // A ledger folder another user owns or may write is refused before anything starts.
      PrivateFiles.ensureDir(s.dir)
      const bad = LedgerTrust.ledgerProblem(s.dir)
      if (bad !== null) throw new Error(`not a private ledger: ${bad}`)
      let watchdogPid: number | null = s.watchdogPids.get(runId) ?? null
      if (s.watchdog && !s.watchdogPids.has(runId)) {
        const spawned = spawnWatchdog(s, runId)
        watchdogPid = spawned.pid
        armed = spawned.armed
      }
      s.watchdogPids.set(runId, watchdogPid)
      appendLine(s.dir, runId, { type: "run", runId, pid: process.pid, journal: journal === null ? null : path.resolve(journal), at: now, watchdogPid })
    })
    // Nothing is touched before the run's watchdog is armed: it listens on the runner's
    // pipe (its entry says so before loading the rest), so a runner killed a moment later
    // is seen. Faults also wait until it has loaded (`intent`); probes do not.
    if (armed !== null) yield* awaitArmed(armed as Promise<void>)
  })

const endRun = (s: LedgerState, runId: string) =>
  Effect.sync(() => {
    appendLine(s.dir, runId, { type: "run-closed", by: "runner" })
    releaseLeases(s.dir, runId)
    s.watchdogs.get(runId)?.end()
    s.watchdogs.delete(runId)
  })

// Open faults on this target left by a run that is no longer live.
const orphansOn = (dir: string, runId: string, key: string): OrphanedFaults | null => {
  for (const run of readRuns(dir)) {
    if (run.runId === runId || isLive(run)) continue
    const left = openFaults(run).filter((f) => Target.key(f.target) === key)
    if (left.length > 0) {
      return new OrphanedFaults({ target: key, run: run.runId, faults: left.map((f) => `${f.fault} ${f.faultId}`) })
    }
  }
  return null
}

// One attempt at the lease: done when it is taken or already this run's, failed when it is
// held or cannot be written, null when a stale lease was removed and another attempt may take it.
const takeLease = (dir: string, runId: string, key: string, file: string): Effect.Effect<void, LeaseHeld | LedgerError> | null => {
  try {
    PrivateFiles.ensureDir(dir)
    PrivateFiles.ensureDir(path.dirname(file))
    const fd = PrivateFiles.createExclusive(file)
    try {
      fs.writeSync(fd, JSON.stringify({ runId, pid: process.pid, key }))
    } finally {
      fs.closeSync(fd)
    }
    return Effect.void
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      return Effect.fail(new LedgerError({ operation: "acquire", detail: (e as Error).message }))
    }
  }
  let holder: { runId: string; pid: number } | null = null
  try {
    holder = JSON.parse(fs.readFileSync(file, "utf8"))
  } catch {
    holder = null
  }
  if (holder?.runId === runId) return Effect.void
  const holderRun = holder ? readRun(dir, holder.runId) : null
  if (holder && pidAlive(holder.pid) && !(holderRun?.closed ?? false)) {
    return Effect.fail(new LeaseHeld({ target: key, holder: holder.runId, pid: holder.pid }))
  }
  // The holder is gone and left nothing open here (checked before): a stale lease.
  fs.rmSync(file, { force: true })
  return null
}

const acquire = (dir: string, runId: string, target: Target.Target) =>
  Effect.suspend((): Effect.Effect<void, LeaseHeld | OrphanedFaults | LedgerError> => {
    const key = Target.key(target)
    // Orphans first.
    const orphaned = orphansOn(dir, runId, key)
    if (orphaned !== null) return Effect.fail(orphaned)
    const file = leaseFile(dir, key)
    for (let attempt = 0; attempt < 3; attempt++) {
      const taken = takeLease(dir, runId, key, file)
      if (taken !== null) return taken
    }
    return Effect.fail(new LedgerError({ operation: "acquire", detail: `could not take the lease on ${key}` }))
  })

const closeFault = (s: LedgerState, faultId: string) => {
  const runId = s.runOf.get(faultId)
  if (!runId) return
  appendLine(s.dir, runId, { type: "closed", faultId, by: "runner" })
  // The lease lasts while the run has faults open on the target.
  const run = readRun(s.dir, runId)
  const record = run?.faults.find((f) => f.faultId === faultId)
  if (run && record) {
    const key = Target.key(record.target)
    if (!openFaults(run).some((f) => Target.key(f.target) === key)) {
      const file = leaseFile(s.dir, key)
      try {
        if ((JSON.parse(fs.readFileSync(file, "utf8")) as { runId: string }).runId === runId) fs.rmSync(file, { force: true })
      } catch {
        // no lease file
      }
    }
  }
}

/**
 * Makes a file ledger. With `watchdog` (the default), `beginRun` spawns the run's watchdog.
 *
 * @since 0.1.0
 */
export const make = (options: { readonly dir?: string; readonly watchdog?: boolean } = {}) =>
  Effect.gen(function*() {
    const s: LedgerState = {
      dir: path.resolve(options.dir ?? DEFAULT_DIR),
      watchdog: options.watchdog !== false,
      runOf: new Map(),
      watchdogs: new Map(),
      watchdogPids: new Map(),
      loaded: new Map()
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const w of s.watchdogs.values()) w.end()
      })
    )
    return Ledger.of({
      beginRun: (runId, journal) => beginRun(s, runId, journal),
      endRun: (runId) => endRun(s, runId),
      acquire: (runId, target) => acquire(s.dir, runId, target),
      setUp: (runId, p) =>
        Effect.andThen(
          s.watchdogPids.has(runId) ? Effect.void : beginRun(s, runId, null),
          tryWrite("setUp", () => appendLine(s.dir, runId, { type: "setup", ...p }))
        ),
      intent: (r) =>
        Effect.andThen(
          awaitLoaded(s, r.runId),
          tryWrite("intent", () => {
            s.runOf.set(r.faultId, r.runId)
            appendLine(s.dir, r.runId, { type: "intent", ...r })
          })
        ),
      injected: (faultId, revert) =>
        Effect.sync(() => {
          const runId = s.runOf.get(faultId)
          if (runId) appendLine(s.dir, runId, { type: "injected", faultId, revert })
        }),
      closed: (faultId) => Effect.sync(() => closeFault(s, faultId)),
      open: Effect.sync(() => readRuns(s.dir).flatMap(openFaults))
    })
  })

/**
 * The file ledger as the `Ledger` service.
 *
 * @since 0.1.0
 */
export const layer = (options: { readonly dir?: string; readonly watchdog?: boolean } = {}): Layer.Layer<Ledger> => Layer.effect(Ledger, make(options))
