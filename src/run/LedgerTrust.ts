/**
 * A ledger is data, not code. Recovery (the watchdog, `faultline recover`) acts on a ledger
 * record only when this user's own faultline wrote it, and journals only into the run's own
 * journal:
 *
 * - every `intent`/`injected` line carries a seal: an HMAC-SHA256, keyed by a secret kept in
 *   the user's `~/.faultline/ledger.key` (0600), over the run id, fault id and revert data
 *   exactly as written. A ledger planted in a directory (a cloned repository, a shared
 *   `--out` under /tmp) cannot carry a valid seal, so nothing it names is restarted,
 *   signalled or reverted. A secret kept in the run folder would not do: whoever plants the
 *   folder plants the secret with it;
 * - the ledger folder and its files must be this user's and writable by nobody else;
 * - a record's journal is appended to only if it is `<ledger's parent>/<folder>/journal.jsonl`
 *   (real path, no symlink, private), verifies as a hash-chained journal of that run.
 *
 * @since 0.1.0
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { DriverError } from "../core/Driver.ts"
import * as Journal from "../core/Journal.ts"
import type { LedgerRecord } from "../core/Ledger.ts"
import * as PrivateFiles from "../core/PrivateFiles.ts"

/**
 * Where the sealing key lives: `$FAULTLINE_LEDGER_KEY` (a file path) or
 * `~/.faultline/ledger.key`.
 *
 * @since 0.1.0
 */
export const keyFile = (): string => process.env.FAULTLINE_LEDGER_KEY ?? path.join(os.homedir(), ".faultline", "ledger.key")

let cached: { file: string; key: Buffer } | null = null

// The user's sealing key, made on first use (0600 in a 0700 folder). Null when it cannot be
// made or is not private: records are then written unsealed and recovery refuses them.
const key = (create: boolean): Buffer | null => {
  const file = keyFile()
  if (cached?.file === file) return cached.key
  try {
    if (create && !fs.existsSync(file)) {
      PrivateFiles.ensureDir(path.dirname(file))
      const fd = PrivateFiles.createExclusive(file)
      try {
        fs.writeSync(fd, randomBytes(32).toString("hex"))
      } finally {
        fs.closeSync(fd)
      }
    }
    if (PrivateFiles.problem(file, "file") !== null) return null
    const text = fs.readFileSync(file, "utf8").trim()
    if (!/^[0-9a-f]{64}$/.test(text)) return null
    cached = { file, key: Buffer.from(text, "hex") }
    return cached.key
  } catch (e) {
    // Two runs creating the key at once: the other won; read its key.
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return key(false)
    return null
  }
}

const mac = (k: Buffer, runId: string, faultId: string, revertJson: string) =>
  createHmac("sha256", k).update(`faultline-ledger-v1\0${runId}\0${faultId}\0${revertJson}`).digest("hex")

/**
 * The seal of a record's revert data as written (`JSON.stringify(revert)`), or null when
 * this user has no usable key.
 *
 * @since 0.1.0
 */
export const seal = (runId: string, faultId: string, revert: unknown): string | null => {
  const k = key(true)
  return k === null ? null : mac(k, runId, faultId, JSON.stringify(revert))
}

/**
 * Why a record may not be acted on (null: it carries this user's valid seal).
 *
 * @since 0.1.0
 */
export const sealProblem = (record: LedgerRecord & { readonly seal?: string | null | undefined }): string | null => {
  if (typeof record.seal !== "string") return "the record carries no seal (not written by faultline as this user)"
  const k = key(false)
  if (k === null) return `no ledger key at ${keyFile()}: cannot check the record's seal`
  const want = Buffer.from(mac(k, record.runId, record.faultId, JSON.stringify(record.revert)), "hex")
  const got = Buffer.from(record.seal, "hex")
  return got.length === want.length && timingSafeEqual(got, want)
    ? null
    : "the record's seal does not match (written by someone else, or edited)"
}

/**
 * Fails unless the record is sealed by this user: a reverter is only ever handed records
 * this user's own runs wrote.
 *
 * @since 0.1.0
 */
export const admit = (record: LedgerRecord): Effect.Effect<LedgerRecord, DriverError> =>
  Effect.suspend(() => {
    const bad = sealProblem(record)
    return bad === null
      ? Effect.succeed(record)
      : Effect.fail(
        new DriverError({
          driver: String(record.driver),
          operation: "recover",
          target: `${record.target?.kind} ${record.target?.name}`,
          reason: "InvalidRecord",
          detail: `refused: ${bad}; nothing was run or signalled`
        })
      )
  })

/**
 * Why a ledger folder is not one to act on (null: it is this user's and private): the
 * folder, `runs/`, `leases/` and every run file.
 *
 * @since 0.1.0
 */
export const ledgerProblem = (dir: string): string | null => {
  const top = PrivateFiles.problem(dir, "folder")
  if (top !== null) return `${dir} ${top}`
  for (const sub of ["runs", "leases"]) {
    const p = path.join(dir, sub)
    const bad = PrivateFiles.problem(p, "folder")
    if (bad !== null) return `${p} ${bad}`
    if (!fs.existsSync(p)) continue
    for (const f of fs.readdirSync(p)) {
      const fbad = PrivateFiles.problem(path.join(p, f), "file")
      if (fbad !== null) return `${path.join(p, f)} ${fbad}`
    }
  }
  return null
}

const realOr = (p: string): string | null => {
  try {
    return fs.realpathSync(p)
  } catch {
    return null
  }
}

/**
 * The journal recovery may append to for a run, or why not: it must be
 * `<parent of the ledger folder>/<one folder>/journal.jsonl` by its real path, a private
 * regular file (no symlink) in a private folder, and verify as a hash-chained journal of
 * this run (a trailing line the dead runner never finished is allowed).
 *
 * @since 0.1.0
 */
export const journalOf = (dir: string, runId: string, journal: string | null): { readonly file: string | null; readonly problem: string | null } => {
  if (journal === null) return { file: null, problem: null }
  const refuse = (problem: string) => ({ file: null, problem: `journal ${JSON.stringify(journal)} refused: ${problem}` })
  if (typeof journal !== "string" || !path.isAbsolute(journal) || path.basename(journal) !== "journal.jsonl") {
    return refuse("not an absolute path to a journal.jsonl")
  }
  const home = realOr(path.dirname(path.resolve(dir)))
  const folder = realOr(path.dirname(journal))
  if (home === null || folder === null || path.dirname(folder) !== home) {
    return refuse(`not in a run folder next to the ledger (${path.dirname(path.resolve(dir))})`)
  }
  const file = path.join(folder, "journal.jsonl")
  const bad = PrivateFiles.problem(folder, "folder") ?? PrivateFiles.problem(file, "file")
  if (bad !== null) return refuse(bad)
  let text: string
  try {
    const fd = PrivateFiles.openExisting(file)
    try {
      text = fs.readFileSync(fd, "utf8")
    } finally {
      fs.closeSync(fd)
    }
  } catch (e) {
    return refuse((e as Error).message)
  }
  const lines = text.split("\n")
  // A last line without its newline was never finished: not part of the chain.
  if (!text.endsWith("\n")) lines.pop()
  const raw: Array<unknown> = []
  for (const l of lines) {
    if (l.trim() === "") continue
    try {
      raw.push(JSON.parse(l))
    } catch {
      return refuse("a line is not JSON")
    }
  }
  if (raw.length === 0) return refuse("empty")
  if (Journal.verifyChain(raw as ReadonlyArray<Journal.Entry>) >= 0) return refuse("its hash chain does not verify")
  if (!raw.every((e) => (e as { runId?: unknown }).runId === runId)) return refuse(`not the journal of run ${runId}`)
  return { file, problem: null }
}
