/**
 * `faultline evidence keygen | pack | verify`: signed evidence packs of run folders. Loaded
 * only when it runs.
 *
 * @since 0.1.0
 */
import * as os from "node:os"
import * as path from "node:path"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as EvidencePack from "../../report/EvidencePack.ts"
import * as EvidenceVerify from "../../report/EvidenceVerify.ts"
import { BadInput, state } from "../State.ts"

/** Where `keygen` writes and `pack` reads the key by default. @since 0.1.0 */
export const DEFAULT_KEY = path.join(os.homedir(), ".faultline", "evidence")

const attempt = <A>(f: () => Promise<A>) =>
  Effect.tryPromise({
    try: f,
    catch: (e) =>
      new BadInput({
        message: e instanceof EvidencePack.PackError
          ? e.message
          : `${(e as NodeJS.ErrnoException).path ?? ""}${(e as NodeJS.ErrnoException).path ? ": " : ""}${(e as Error).message}`
      })
  })

/**
 * `keygen`: an Ed25519 key pair, the private key 0600.
 *
 * @since 0.1.0
 */
export const keygen = (args: { readonly out: string }) =>
  Effect.gen(function*() {
    const k = yield* attempt(async () => EvidencePack.keygen(args.out))
    process.stdout.write(`private key: ${k.privateKey} (0600; keep it secret)\npublic key:  ${k.publicKey}\nkey id:      ${k.keyId}\n`)
  })

const time = (flag: string, v: Option.Option<string>) =>
  Effect.suspend(() => {
    if (Option.isNone(v)) return Effect.succeed(undefined)
    const ms = Date.parse(v.value)
    return Number.isNaN(ms)
      ? Effect.fail(new BadInput({ message: `--${flag} ${v.value}: not a date or time (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)` }))
      : Effect.succeed(ms)
  })

const duration = (v: string) =>
  Effect.suspend(() => {
    const short = /^(\d+)\s*(ms|s|m|h|d|w)$/.exec(v.trim())
    const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
    if (short) return Effect.succeed(Number(short[1]) * units[short[2]!]!)
    const d = Duration.fromInput(v as Duration.Input)
    return Option.isNone(d) || !Duration.isFinite(d.value)
      ? Effect.fail(new BadInput({ message: `--keep ${v}: not a duration (e.g. 30d, 12h, "90 days")` }))
      : Effect.succeed(Duration.toMillis(d.value))
  })

/**
 * `pack`: the runs under `--runs` (started within `--from`..`--to`) into one signed tar; with
 * `--keep`, then verifies it from disk and only then removes the packed run folders older
 * than the duration.
 *
 * @since 0.1.0
 */
export const pack = (args: {
  readonly runs: string
  readonly out: string
  readonly key: Option.Option<string>
  readonly from: Option.Option<string>
  readonly to: Option.Option<string>
  readonly keep: Option.Option<string>
}) =>
  Effect.gen(function*() {
    const from = yield* time("from", args.from)
    const to = yield* time("to", args.to)
    const keepMs = Option.isSome(args.keep) ? yield* duration(args.keep.value) : undefined
    const keyFile = Option.getOrElse(args.key, () => `${DEFAULT_KEY}.key`)
    const now = yield* Clock.currentTimeMillis
    const m = yield* attempt(() => EvidencePack.pack({ runsDir: args.runs, out: args.out, keyFile, from, to, now }))
    process.stdout.write(
      `packed ${m.runs.length} runs (${m.files.length} files, ${m.range.from ?? "—"} to ${m.range.to ?? "—"}) into ${args.out}, signed by key ${m.keyId}\n`
    )
    if (keepMs === undefined) return
    // Pruning trusts only what is on disk: the pack is read back and verified first.
    const v = yield* attempt(() => EvidenceVerify.verify(args.out))
    if (!v.ok || v.keyId !== m.keyId) {
      return yield* new BadInput({
        message: `${args.out}: the pack just written does not verify; nothing pruned: ${v.problems.map((p) => `${p.path} ${p.problem}`).join("; ")}`
      })
    }
    const r = yield* attempt(() => EvidencePack.prune(args.runs, m, now - keepMs))
    process.stdout.write(
      `pruned ${r.removed.length} run folders older than ${args.keep.pipe(Option.getOrElse(() => ""))}${
        r.removed.length > 0 ? `: ${r.removed.join(", ")}` : ""
      }\n`
    )
    for (const k of r.kept) process.stdout.write(`kept ${k}\n`)
  })

/**
 * `verify`: exit 0 when the signature and every file check out; otherwise one line naming
 * every changed, missing or added file and a bad signature, exit 2.
 *
 * @since 0.1.0
 */
export const verify = (args: { readonly pack: string; readonly key: Option.Option<string>; readonly json: boolean }) =>
  Effect.gen(function*() {
    const v = yield* attempt(() => EvidenceVerify.verify(args.pack, { keyFile: Option.getOrUndefined(args.key) }))
    if (args.json) process.stdout.write(JSON.stringify({ ok: v.ok, keyId: v.keyId, keyFrom: v.keyFrom, files: v.files, problems: v.problems }, null, 2) + "\n")
    if (!v.ok) {
      return yield* new BadInput({ message: `${args.pack}: NOT verified: ${v.problems.map((p) => `${p.path}: ${p.problem} (${p.detail})`).join("; ")}` })
    }
    if (!args.json) {
      const who = v.keyFrom === "given" ? "the given key" : "the key it names (pass --key PUB to check who signed it)"
      process.stdout.write(`verified: ${v.files} files of ${v.manifest?.runs.length ?? 0} runs, signature by ${who} ${v.keyId}\n`)
    }
    state.exitCode = 0
  })
