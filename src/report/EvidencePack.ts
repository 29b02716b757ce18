/**
 * Evidence packs: the journals and reports of a set of runs in one tar file with a manifest
 * (SHA-256 of every file, faultline's version, the host, the time range) signed with Ed25519,
 * verifiable by anyone holding the public key.
 *
 * Why a plain tar (ustar, written and read with `tar-stream`): any auditor can open it with the
 * `tar` of their system, and reading one executes nothing. Verifying a pack reads its entries
 * as bytes, hashes them and compares them with the manifest; it never extracts, imports,
 * spawns or writes anything. Only regular files with plain relative names are accepted.
 *
 * Layout: `manifest.json`, `manifest.sig` (base64 signature of manifest.json's bytes), then
 * `runs/<run-id>/journal.jsonl` and the run's `report.json`, `report.md`, `report.html` (and
 * `postmortem.md` when there is one).
 *
 * @since 0.1.0
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { pipeline } from "node:stream/promises"
import * as tar from "tar-stream"
import * as Environment from "../core/Environment.ts"
import * as PrivateFiles from "../core/PrivateFiles.ts"

/** The format this module writes and reads. @since 0.1.0 */
export const FORMAT = "faultline-evidence/1"

/**
 * The files of a run folder that go into a pack when present (the journal must be there),
 * including the team's postmortem.
 *
 * @since 0.1.0
 */
export const RUN_FILES = ["journal.jsonl", "report.json", "report.md", "report.html", "postmortem.md"] as const

/**
 * The signed manifest of a pack.
 *
 * @since 0.1.0
 */
export interface Manifest {
  readonly format: typeof FORMAT
  readonly faultline: string
  readonly host: string
  readonly createdAt: string
  /** The runs' start times: the earliest and latest (null bounds when none). */
  readonly range: { readonly from: string | null; readonly to: string | null }
  /** The selection asked for (`--from`, `--to`), when given. */
  readonly selection: { readonly from: string | null; readonly to: string | null }
  readonly runs: ReadonlyArray<{ readonly runId: string; readonly startedAt: string }>
  readonly files: ReadonlyArray<{ readonly path: string; readonly sha256: string; readonly size: number }>
  /** The signer's public key (SPKI, PEM) and its SHA-256 fingerprint. */
  readonly publicKey: string
  readonly keyId: string
}

/**
 * A pack or key that cannot be read or used: `file` names it.
 *
 * @since 0.1.0
 */
export class PackError extends Error {
  readonly file: string
  readonly problem: string
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`)
    this.file = file
    this.problem = problem
  }
}

const fingerprint = (pub: KeyObject) => createHash("sha256").update(pub.export({ type: "spki", format: "der" })).digest("hex")

/**
 * Makes an Ed25519 key pair: `<base>.key` (PKCS#8 PEM, 0600, refusing to replace one) and
 * `<base>.pub` (SPKI PEM). Returns the key id (SHA-256 of the public key).
 *
 * @since 0.1.0
 */
export const keygen = (base: string): { readonly privateKey: string; readonly publicKey: string; readonly keyId: string } => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519")
  const priv = `${base}.key`
  const pub = `${base}.pub`
  fs.mkdirSync(path.dirname(priv), { recursive: true, mode: 0o700 })
  const fd = PrivateFiles.createExclusive(priv)
  try {
    fs.writeSync(fd, privateKey.export({ type: "pkcs8", format: "pem" }) as string)
  } finally {
    fs.closeSync(fd)
  }
  fs.writeFileSync(pub, publicKey.export({ type: "spki", format: "pem" }) as string, { mode: 0o644 })
  return { privateKey: priv, publicKey: pub, keyId: fingerprint(publicKey) }
}

const readKey = <K>(file: string, make: (pem: string) => K, what: string): K => {
  let pem: string
  try {
    pem = fs.readFileSync(file, "utf8")
  } catch (e) {
    throw new PackError(file, `cannot read the ${what}: ${(e as Error).message}`)
  }
  try {
    return make(pem)
  } catch {
    throw new PackError(file, `not an Ed25519 ${what} in PEM`)
  }
}
const privateKeyOf = (file: string) => {
  const mode = fs.statSync(file, { throwIfNoEntry: false })?.mode
  if (mode !== undefined && (mode & 0o077) !== 0) {
    throw new PackError(file, `the private key is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`)
  }
  const key = readKey(file, (pem) => createPrivateKey(pem), "private key")
  if (key.asymmetricKeyType !== "ed25519") throw new PackError(file, "not an Ed25519 private key")
  return key
}
const publicKeyOf = (file: string) => {
  const key = readKey(file, (pem) => createPublicKey(pem), "public key")
  if (key.asymmetricKeyType !== "ed25519") throw new PackError(file, "not an Ed25519 public key")
  return key
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * A run folder found under a runs directory: its id, start (the journal's first entry) and
 * the files that go into a pack.
 *
 * @since 0.1.0
 */
export interface RunFolder {
  readonly runId: string
  readonly dir: string
  readonly startedAt: number
  readonly files: ReadonlyArray<string>
}

const firstAt = (journal: string): number | null => {
  const fd = fs.openSync(journal, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0))
  try {
    const buf = Buffer.alloc(64 * 1024)
    const n = fs.readSync(fd, buf, 0, buf.length, 0)
    const line = buf.subarray(0, n).toString("utf8").split("\n")[0] ?? ""
    const at = (JSON.parse(line) as { at?: unknown }).at
    return typeof at === "number" ? at : null
  } catch {
    return null
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * The run folders of `runsDir` (each holding a `journal.jsonl`), started within
 * `[from, to]`, oldest first. Symlinks are never followed; folders without a journal (the
 * ledger) are not runs.
 *
 * @since 0.1.0
 */
export const runFolders = (runsDir: string, range: { readonly from?: number | undefined; readonly to?: number | undefined } = {}): ReadonlyArray<RunFolder> => {
  const st = fs.lstatSync(runsDir, { throwIfNoEntry: false })
  if (st === undefined || !st.isDirectory()) throw new PackError(runsDir, "not a directory of run folders")
  const out: Array<RunFolder> = []
  for (const name of fs.readdirSync(runsDir).sort()) {
    const dir = path.join(runsDir, name)
    if (!SAFE_ID.test(name) || !fs.lstatSync(dir).isDirectory()) continue
    const journal = path.join(dir, "journal.jsonl")
    if (!fs.lstatSync(journal, { throwIfNoEntry: false })?.isFile()) continue
    const startedAt = firstAt(journal)
    if (startedAt === null) throw new PackError(journal, "line 1 is not a journal entry")
    if (range.from !== undefined && startedAt < range.from) continue
    if (range.to !== undefined && startedAt > range.to) continue
    const files = RUN_FILES.filter((f) => fs.lstatSync(path.join(dir, f), { throwIfNoEntry: false })?.isFile() ?? false)
    out.push({ runId: name, dir, startedAt, files })
  }
  return out.sort((a, b) => a.startedAt - b.startedAt || a.runId.localeCompare(b.runId))
}

const hashFile = async (file: string) => {
  const h = createHash("sha256")
  let size = 0
  // Never through a symlink.
  const src = fs.createReadStream(file, { fd: fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0)) })
  for await (const chunk of src as AsyncIterable<Buffer>) {
    h.update(chunk)
    size += chunk.length
  }
  return { sha256: h.digest("hex"), size }
}

/**
 * Writes a signed pack of the runs under `runsDir` started within the range to `out`
 * (created 0600, never replacing a file). Returns its manifest.
 *
 * @since 0.1.0
 */
export const pack = async (options: {
  readonly runsDir: string
  readonly out: string
  readonly keyFile: string
  readonly from?: number | undefined
  readonly to?: number | undefined
  readonly now: number
}): Promise<Manifest> => {
  const key = privateKeyOf(options.keyFile)
  const pub = createPublicKey(key)
  const runs = runFolders(options.runsDir, options)
  const files: Array<{ path: string; sha256: string; size: number; source: string }> = []
  for (const run of runs) {
    for (const f of run.files) files.push({ path: `runs/${run.runId}/${f}`, source: path.join(run.dir, f), ...(await hashFile(path.join(run.dir, f))) })
  }
  const iso = (ms: number | undefined) => ms === undefined ? null : new Date(ms).toISOString()
  const env = Environment.current()
  const manifest: Manifest = {
    format: FORMAT,
    faultline: env.faultline,
    host: env.host,
    createdAt: new Date(options.now).toISOString(),
    range: { from: iso(runs[0]?.startedAt), to: iso(runs.at(-1)?.startedAt) },
    selection: { from: iso(options.from), to: iso(options.to) },
    runs: runs.map((r) => ({ runId: r.runId, startedAt: new Date(r.startedAt).toISOString() })),
    files: files.map(({ source: _, ...f }) => f),
    publicKey: pub.export({ type: "spki", format: "pem" }) as string,
    keyId: fingerprint(pub)
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + "\n")
  const signature = Buffer.from(sign(null, manifestBytes, key).toString("base64") + "\n")
  await writeTar(options.out, manifestBytes, signature, files)
  return manifest
}

const writeTar = async (
  out: string,
  manifest: Buffer,
  signature: Buffer,
  files: ReadonlyArray<{ path: string; sha256: string; size: number; source: string }>
) => {
  const p = tar.pack()
  const fd = PrivateFiles.createExclusive(out)
  const written = pipeline(p, fs.createWriteStream("", { fd }))
  const mtime = new Date(0)
  const add = (name: string, data: Buffer) =>
    new Promise<void>((ok, ko) => p.entry({ name, size: data.length, mode: 0o600, mtime }, data, (e) => e ? ko(e) : ok()))
  await add("manifest.json", manifest)
  await add("manifest.sig", signature)
  for (const f of files) {
    // Hashed again as it is written: a file that changed since the manifest fails the pack.
    const h = createHash("sha256")
    const entry = p.entry({ name: f.path, size: f.size, mode: 0o600, mtime })
    await pipeline(fs.createReadStream(f.source), async function*(src) {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        h.update(chunk)
        yield chunk
      }
    }, entry)
    if (h.digest("hex") !== f.sha256) throw new PackError(f.source, "changed while it was being packed")
  }
  p.finalize()
  await written
}

/**
 * The SHA-256 fingerprint of a public key (its key id).
 *
 * @since 0.1.0
 */
export { fingerprint }

/**
 * Reads an Ed25519 public key (SPKI PEM). Throws `PackError` naming the file.
 *
 * @since 0.1.0
 */
export { publicKeyOf }

/**
 * Removes the run folders of `runsDir` that a verified pack holds and that started before
 * `before` (epoch ms). A folder is removed only if every file of it is in the manifest with
 * the same SHA-256 as on disk now; symlinks are never followed. Returns the removed run ids
 * and, for the others, why they were kept.
 *
 * @since 0.1.0
 */
export const prune = async (
  runsDir: string,
  manifest: Manifest,
  before: number
): Promise<{ readonly removed: ReadonlyArray<string>; readonly kept: ReadonlyArray<string> }> => {
  const inPack = new Map(manifest.files.map((f) => [f.path, f.sha256]))
  const removed: Array<string> = []
  const kept: Array<string> = []
  for (const run of runFolders(runsDir)) {
    if (run.startedAt >= before || !manifest.runs.some((r) => r.runId === run.runId)) continue
    const onDisk = fs.readdirSync(run.dir)
    let same = onDisk.every((f) => inPack.has(`runs/${run.runId}/${f}`))
    for (const f of run.files) if (same) same = inPack.get(`runs/${run.runId}/${f}`) === (await hashFile(path.join(run.dir, f))).sha256
    if (!same) {
      kept.push(`${run.runId}: it changed since it was packed`)
      continue
    }
    fs.rmSync(run.dir, { recursive: true })
    removed.push(run.runId)
  }
  return { removed, kept }
}
