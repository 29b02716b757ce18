/**
 * Verifying an evidence pack: its entries are read as bytes (never extracted, imported or
 * run; nothing is written anywhere), hashed and compared with the signed manifest. Every
 * changed, missing or added file is named, and a signature that does not verify.
 *
 * @since 0.1.0
 */
import { createHash, createPublicKey, type KeyObject, verify as verifySig } from "node:crypto"
import * as fs from "node:fs"
import * as tar from "tar-stream"
import { fingerprint, FORMAT, type Manifest, PackError, publicKeyOf } from "./EvidencePack.ts"

/**
 * One thing wrong with a pack, and the file it concerns.
 *
 * @since 0.1.0
 */
export interface Problem {
  readonly path: string
  readonly problem: "changed" | "missing" | "added" | "bad signature" | "not a regular file" | "unsafe name" | "duplicate" | "unreadable"
  readonly detail: string
}

/**
 * What verifying a pack found: `ok` only with no problem at all.
 *
 * @since 0.1.0
 */
export interface Verified {
  readonly ok: boolean
  readonly manifest: Manifest | null
  readonly problems: ReadonlyArray<Problem>
  /** The key the signature was checked with, and where it came from. */
  readonly keyId: string | null
  readonly keyFrom: "given" | "embedded"
  readonly files: number
}

const NAME = /^(manifest\.json|manifest\.sig|runs\/[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*)$/
const MAX_MANIFEST = 64 * 1024 * 1024
const MANIFEST_KEYS = ["format", "faultline", "host", "createdAt", "range", "selection", "runs", "files", "publicKey", "keyId"]

interface Read {
  manifest: Buffer | null
  signature: Buffer | null
  readonly files: Map<string, { readonly sha256: string; readonly size: number }>
  readonly problems: Array<Problem>
}

// Reads every entry of the tar: the manifest and signature into memory (bounded), every other
// file hashed as it streams by.
const readEntries = async (file: string): Promise<Read> => {
  const r: Read = { manifest: null, signature: null, files: new Map(), problems: [] }
  const seen = new Set<string>()
  const extract = tar.extract()
  // Never through a symlink: the pack named is the pack read.
  const source = fs.createReadStream(file, { fd: fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0)) })
  source.on("error", (e) => extract.destroy(e))
  source.pipe(extract)
  for await (const entry of extract) {
    const name = entry.header.name
    const h = createHash("sha256")
    const kept: Array<Buffer> = []
    let size = 0
    const keep = name === "manifest.json" || name === "manifest.sig"
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      h.update(chunk)
      size += chunk.length
      if (keep && size <= MAX_MANIFEST) kept.push(chunk)
    }
    if (entry.header.type !== "file" && entry.header.type !== "contiguous-file") {
      r.problems.push({ path: name, problem: "not a regular file", detail: `a ${entry.header.type} entry (only regular files belong in a pack)` })
    } else if (!NAME.test(name)) r.problems.push({ path: name, problem: "unsafe name", detail: "not manifest.json, manifest.sig or runs/<run>/<file>" })
    else if (seen.has(name)) r.problems.push({ path: name, problem: "duplicate", detail: "appears twice in the pack" })
    else if (keep && size > MAX_MANIFEST) r.problems.push({ path: name, problem: "unreadable", detail: `larger than ${MAX_MANIFEST} bytes` })
    else if (name === "manifest.json") r.manifest = Buffer.concat(kept)
    else if (name === "manifest.sig") r.signature = Buffer.concat(kept)
    else r.files.set(name, { sha256: h.digest("hex"), size })
    seen.add(name)
  }
  return r
}

const parseManifest = (bytes: Buffer): Manifest => {
  const m = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>
  if (typeof m !== "object" || m === null || Array.isArray(m)) throw new Error("not a JSON object")
  const unknown = Object.keys(m).filter((k) => !MANIFEST_KEYS.includes(k))
  if (unknown.length > 0) throw new Error(`unknown key ${unknown.map((k) => JSON.stringify(k)).join(", ")}`)
  if (m.format !== FORMAT) throw new Error(`format ${JSON.stringify(m.format)}, expected ${FORMAT}`)
  if (!Array.isArray(m.files) || !m.files.every((f) => typeof f?.path === "string" && typeof f?.sha256 === "string" && typeof f?.size === "number")) {
    throw new Error("files must list { path, sha256, size }")
  }
  if (typeof m.publicKey !== "string" || typeof m.keyId !== "string") throw new Error("publicKey and keyId must be strings")
  return m as unknown as Manifest
}

const checkSignature = (r: Read, key: KeyObject, keyFrom: "given" | "embedded", manifest: Manifest | null): ReadonlyArray<Problem> => {
  if (r.manifest === null) return [{ path: "manifest.json", problem: "missing", detail: "the pack has no manifest" }]
  if (r.signature === null) return [{ path: "manifest.sig", problem: "missing", detail: "the pack is not signed" }]
  const sig = Buffer.from(r.signature.toString("utf8").trim(), "base64")
  const ok = sig.length === 64 && verifySig(null, r.manifest, key, sig)
  if (ok) return []
  const named = manifest?.keyId === undefined ? "" : ` (the manifest names key ${manifest.keyId.slice(0, 16)}…)`
  return [{
    path: "manifest.sig",
    problem: "bad signature",
    detail: keyFrom === "given"
      ? `manifest.json is not signed by the given key ${fingerprint(key).slice(0, 16)}…${named}`
      : "manifest.json does not match its signature"
  }]
}

const compare = (manifest: Manifest, files: Read["files"]): ReadonlyArray<Problem> => {
  const out: Array<Problem> = []
  const listed = new Set<string>()
  for (const f of manifest.files) {
    listed.add(f.path)
    const got = files.get(f.path)
    if (got === undefined) out.push({ path: f.path, problem: "missing", detail: "listed in the manifest, absent from the pack" })
    else if (got.sha256 !== f.sha256 || got.size !== f.size) {
      out.push({
        path: f.path,
        problem: "changed",
        detail: `sha256 ${got.sha256.slice(0, 16)}… (${got.size} bytes), manifest says ${f.sha256.slice(0, 16)}… (${f.size} bytes)`
      })
    }
  }
  for (const name of files.keys()) if (!listed.has(name)) out.push({ path: name, problem: "added", detail: "in the pack, not in the manifest" })
  return out
}

/**
 * Verifies the pack `file`: signature (with `keyFile`, the public key you trust; without it,
 * only against the key the manifest names — that proves integrity, not who signed), then
 * every file against the manifest. Throws `PackError` when the file is not a pack at all.
 *
 * @since 0.1.0
 */
export const verify = async (file: string, options: { readonly keyFile?: string | undefined } = {}): Promise<Verified> => {
  const given = options.keyFile === undefined ? null : publicKeyOf(options.keyFile)
  let r: Read
  try {
    r = await readEntries(file)
  } catch (e) {
    throw new PackError(file, `not a readable tar evidence pack: ${(e as Error).message}`)
  }
  let manifest: Manifest | null = null
  const problems: Array<Problem> = [...r.problems]
  if (r.manifest !== null) {
    try {
      manifest = parseManifest(r.manifest)
    } catch (e) {
      problems.push({ path: "manifest.json", problem: "unreadable", detail: (e as Error).message })
    }
  }
  let key: KeyObject | null = given
  if (key === null && manifest !== null) {
    try {
      key = createPublicKey(manifest.publicKey)
    } catch {
      problems.push({ path: "manifest.json", problem: "unreadable", detail: "its publicKey is not a public key" })
    }
  }
  if (key !== null) problems.push(...checkSignature(r, key, given === null ? "embedded" : "given", manifest))
  else if (r.manifest === null) problems.push({ path: "manifest.json", problem: "missing", detail: "the pack has no manifest" })
  if (manifest !== null) problems.push(...compare(manifest, r.files))
  return {
    ok: problems.length === 0,
    manifest,
    problems,
    keyId: key === null ? null : fingerprint(key),
    keyFrom: given === null ? "embedded" : "given",
    files: r.files.size
  }
}
