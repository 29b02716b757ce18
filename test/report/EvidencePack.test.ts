/**
 * Evidence packs through the CLI: keygen (0600), pack (range selection), verify (exit 0), and
 * bad input — one byte changed, a missing file, an extra file, a wrong key, an unsafe name,
 * a file that is not a pack — each exit 2 naming the file. Verifying writes nothing. --keep
 * prunes only run folders inside a verified pack.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pipeline } from "node:stream/promises"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect } from "effect"
import * as tar from "tar-stream"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Runner from "../../src/run/Runner.ts"
import * as Synthetic from "../fixtures/syntheticJournal.ts"

const root = path.resolve(import.meta.dirname, "../..")
const node = path.join(root, "node_modules/.bin/node")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-evidence-"))
const cli = (args: ReadonlyArray<string>, cwd = tmp) =>
  spawnSync(node, [path.join(root, "bin/faultline.js"), ...args], { cwd, encoding: "utf8", timeout: 60_000, env: { ...process.env, HOME: tmp } })
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const DAY = 86_400_000
const runs = path.join(tmp, "runs")
const now = Date.now()
const makeRun = async (runId: string, startedAt: number) => {
  const dir = path.join(runs, runId)
  Synthetic.write(dir, { runId, startedAt, durationMs: 4000, everyMs: 100, fault: { at: 1000, until: 3000 }, outage: { from: 1100, to: 1500 } })
  await Effect.runPromise(Runner.writeReport(dir).pipe(Effect.provide(NodeFileSystem.layer)))
}

// Rewrites a tar entry by entry: `edit` returns the entries to write for each one read.
const rewrite = async (
  from: string,
  to: string,
  edit: (name: string, data: Buffer) => ReadonlyArray<[string, Buffer]>,
  extra: ReadonlyArray<[string, Buffer]> = []
) => {
  const extract = tar.extract()
  fs.createReadStream(from).pipe(extract)
  const p = tar.pack()
  const done = pipeline(p, fs.createWriteStream(to))
  for await (const entry of extract) {
    const chunks: Array<Buffer> = []
    for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c)
    for (const [name, data] of edit(entry.header.name, Buffer.concat(chunks))) p.entry({ name }, data)
  }
  for (const [name, data] of extra) p.entry({ name }, data)
  p.finalize()
  await done
}
const listing = (dir: string): Array<string> => fs.readdirSync(dir, { recursive: true, withFileTypes: false } as any).map(String).sort()

describe("evidence packs", () => {
  const pack = path.join(tmp, "pack.tar")
  beforeAll(async () => {
    await makeRun("old-1", now - 40 * DAY)
    await makeRun("old-2", now - 35 * DAY)
    await makeRun("new-1", now - 1 * DAY)
  }, 60_000)

  it("keygen writes the private key 0600 and refuses to replace it", () => {
    const r = cli(["evidence", "keygen"])
    assert.strictEqual(r.status, 0, r.stderr)
    const key = path.join(tmp, ".faultline", "evidence.key")
    assert.strictEqual((fs.statSync(key).mode & 0o777).toString(8), "600")
    assert.match(fs.readFileSync(key, "utf8"), /^-----BEGIN PRIVATE KEY-----/)
    assert.match(fs.readFileSync(path.join(tmp, ".faultline", "evidence.pub"), "utf8"), /^-----BEGIN PUBLIC KEY-----/)
    const again = cli(["evidence", "keygen"])
    assert.strictEqual(again.status, 2)
    assert.include(again.stderr, "evidence.key")
    const other = cli(["evidence", "keygen", "--out", path.join(tmp, "other")])
    assert.strictEqual(other.status, 0, other.stderr)
  })

  it("packs the runs with a signed manifest and verifies them with the public key", () => {
    const r = cli(["evidence", "pack", "--runs", runs, "--out", pack])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(r.stdout, "packed 3 runs (12 files")
    const v = cli(["evidence", "verify", pack, "--key", path.join(tmp, ".faultline", "evidence.pub"), "--json"])
    assert.strictEqual(v.status, 0, v.stderr)
    const out = JSON.parse(v.stdout)
    assert.strictEqual(out.ok, true)
    assert.strictEqual(out.keyFrom, "given")
    assert.strictEqual(out.files, 12)
    // A plain tar any system can list.
    const t = spawnSync("tar", ["-tf", pack], { encoding: "utf8" })
    assert.include(t.stdout.split("\n"), "runs/old-1/journal.jsonl")
    assert.deepStrictEqual(t.stdout.split("\n").slice(0, 2), ["manifest.json", "manifest.sig"])
  })

  it("selects runs by --from and --to", () => {
    const out = path.join(tmp, "range.tar")
    const from = new Date(now - 36 * DAY).toISOString()
    const to = new Date(now - 2 * DAY).toISOString()
    const r = cli(["evidence", "pack", "--runs", runs, "--from", from, "--to", to, "--out", out])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(r.stdout, "packed 1 runs")
    const bad = cli(["evidence", "pack", "--runs", runs, "--from", "yesterday-ish", "--out", path.join(tmp, "x.tar")])
    assert.strictEqual(bad.status, 2)
    assert.include(bad.stderr, "--from yesterday-ish")
  })

  it("one byte changed in a journal: exit 2 naming the file", () => {
    const bytes = fs.readFileSync(pack)
    const at = bytes.indexOf(Buffer.from("\"experiment\":\"synthetic primary loss\""))
    assert.isAbove(at, 0)
    bytes[at + 15] = bytes[at + 15]! ^ 0x01
    const bad = path.join(tmp, "byte.tar")
    fs.writeFileSync(bad, bytes)
    const v = cli(["evidence", "verify", bad])
    assert.strictEqual(v.status, 2)
    assert.match(v.stderr, /^faultline: .*byte\.tar: NOT verified: runs\/old-1\/journal\.jsonl: changed/)
    assert.strictEqual(v.stderr.trim().split("\n").length, 1)
    assert.notInclude(v.stderr, "    at ")
  })

  it("a missing file, an added file and an unsafe name: each named, exit 2; verifying writes nothing", async () => {
    const missing = path.join(tmp, "missing.tar")
    await rewrite(pack, missing, (name, data) => name === "runs/new-1/report.md" ? [] : [[name, data]])
    const added = path.join(tmp, "added.tar")
    await rewrite(pack, added, (name, data) => [[name, data]], [["runs/new-1/notes.txt", Buffer.from("hello")], ["../escape.sh", Buffer.from("touch pwned")]])
    const before = listing(tmp)
    const m = cli(["evidence", "verify", missing])
    assert.strictEqual(m.status, 2)
    assert.include(m.stderr, "runs/new-1/report.md: missing")
    const a = cli(["evidence", "verify", added], path.join(tmp, "runs"))
    assert.strictEqual(a.status, 2)
    assert.include(a.stderr, "runs/new-1/notes.txt: added")
    assert.include(a.stderr, "../escape.sh: unsafe name")
    assert.deepStrictEqual(listing(tmp), before)
    assert.isFalse(fs.existsSync(path.join(tmp, "escape.sh")))
  })

  it("a wrong key, a tampered manifest and a file that is not a pack: exit 2", async () => {
    const wrong = cli(["evidence", "verify", pack, "--key", path.join(tmp, "other.pub")])
    assert.strictEqual(wrong.status, 2)
    assert.include(wrong.stderr, "manifest.sig: bad signature (manifest.json is not signed by the given key")
    const forged = path.join(tmp, "forged.tar")
    await rewrite(
      pack,
      forged,
      (name, data) => [[name, name === "manifest.json" ? Buffer.from(data.toString().replace("\"host\": \"", "\"host\": \"x")) : data]]
    )
    const f = cli(["evidence", "verify", forged])
    assert.strictEqual(f.status, 2)
    assert.include(f.stderr, "manifest.sig: bad signature")
    const junk = path.join(tmp, "junk.tar")
    fs.writeFileSync(junk, "this is not a tar file at all".repeat(40))
    const j = cli(["evidence", "verify", junk])
    assert.strictEqual(j.status, 2)
    assert.match(j.stderr, /^faultline: .*junk\.tar: /)
  })

  it("a run folder whose journal is not a journal: pack exits 2 naming it", () => {
    const other = path.join(tmp, "bad-runs")
    fs.mkdirSync(path.join(other, "broken"), { recursive: true })
    fs.writeFileSync(path.join(other, "broken", "journal.jsonl"), "not json\n")
    const r = cli(["evidence", "pack", "--runs", other, "--out", path.join(tmp, "bad.tar")])
    assert.strictEqual(r.status, 2)
    assert.match(r.stderr, /^faultline: .*broken\/journal\.jsonl: line 1 is not a journal entry/)
    assert.isFalse(fs.existsSync(path.join(tmp, "bad.tar")))
  })

  it("--keep prunes only the old run folders inside the verified pack", () => {
    // old-2 only is in this pack; old-1 is old too but not packed here: it stays.
    const out = path.join(tmp, "keep.tar")
    const r = cli(["evidence", "pack", "--runs", runs, "--from", new Date(now - 36 * DAY).toISOString(), "--out", out, "--keep", "30d"])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(r.stdout, "pruned 1 run folders older than 30d: old-2")
    assert.deepStrictEqual(fs.readdirSync(runs).sort(), ["new-1", "old-1"])
    const v = cli(["evidence", "verify", out])
    assert.strictEqual(v.status, 0, v.stderr)
  })
})
