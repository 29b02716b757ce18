/**
 * The label of every cluster faultline starts (what Docker's run labels are to containers):
 * a descriptor `cluster.json` written into the cluster's session folder under one root
 * (`$TMPDIR/faultline-postgres`, or `$FAULTLINE_POSTGRES_ROOT`) *before* initdb runs, naming
 * its owner process, its data directories and ports. The servers themselves carry
 * `cluster_name = faultline-NAME-NODE`, which `ps` shows. `recover` reads the descriptors of
 * clusters whose owner died (the test runner SIGKILLed), stops their servers and deletes
 * their folders — acting only on data directories inside that root, with PostgreSQL's own
 * pg_ctl from an installation folder: a descriptor is data, never a command.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { pidAlive } from "../../core/Os.ts"
import type { PostgresError } from "./PostgresError.ts"
import * as Server from "./internal/Server.ts"

/** The root of every cluster faultline starts on this host. @since 0.1.0 */
export const root = (): string => process.env.FAULTLINE_POSTGRES_ROOT ?? path.join(os.tmpdir(), "faultline-postgres")

/** The descriptor's file name inside a session folder. @since 0.1.0 */
export const DESCRIPTOR = "cluster.json"

/** @since 0.1.0 */
export const Descriptor = Schema.Struct({
  kind: Schema.Literal("faultline-postgres-cluster"),
  name: Schema.String,
  session: Schema.String,
  /** `host:pid` of the process whose scope owns the cluster. */
  owner: Schema.String,
  runId: Schema.optionalKey(Schema.String),
  bin: Schema.String,
  osUser: Schema.String,
  createdAt: Schema.String,
  nodes: Schema.Array(Schema.Struct({ name: Schema.String, port: Schema.Int, dataDir: Schema.String }))
})
/** @since 0.1.0 */
export type Descriptor = typeof Descriptor.Type

const decode = Schema.decodeUnknownSync(Schema.fromJsonString(Descriptor), { onExcessProperty: "error" })

/**
 * Makes the root (0711: the server's user may pass through, nobody may list it) if needed;
 * refuses a root that is a symlink or belongs to another user.
 *
 * @since 0.1.0
 */
export const ensureRoot = (): string => {
  const r = root()
  fs.mkdirSync(r, { recursive: true, mode: 0o711 })
  const st = fs.lstatSync(r)
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${r} is not a folder`)
  if (process.getuid !== undefined && st.uid !== process.getuid()) throw new Error(`${r} belongs to uid ${st.uid}, not to this user`)
  fs.chmodSync(r, 0o711)
  return r
}

/** Writes a descriptor (0600) into its session folder. @since 0.1.0 */
export const write = (d: Descriptor): void => {
  fs.writeFileSync(path.join(d.session, DESCRIPTOR), JSON.stringify(d, null, 2), { mode: 0o600, flag: "w" })
}

// A session folder is acted on only when it sits directly in the root, is a real folder (not
// a symlink), and every data directory named is inside it.
const insideRoot = (d: Descriptor, dir: string): string | null => {
  const r = fs.realpathSync(root())
  if (path.dirname(dir) !== r || fs.lstatSync(dir).isSymbolicLink()) return `${dir} is not a session folder of ${r}`
  if (path.resolve(d.session) !== dir) return `its session ${d.session} is not ${dir}`
  const outside = d.nodes.find((n) => !path.resolve(n.dataDir).startsWith(`${dir}${path.sep}`))
  return outside === undefined ? null : `data directory ${outside.dataDir} is outside ${dir}`
}

const ownerAlive = (owner: string): boolean => {
  const i = owner.lastIndexOf(":")
  const pid = Number(owner.slice(i + 1))
  return owner.slice(0, i) === os.hostname() && Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)
}

/** What `recover` did. @since 0.1.0 */
export interface RecoverReport {
  readonly removed: ReadonlyArray<string>
  readonly skipped: ReadonlyArray<string>
  readonly failed: ReadonlyArray<string>
}

/**
 * Every cluster of the root with its descriptor, or the reason its descriptor cannot be read.
 *
 * @since 0.1.0
 */
export const list = (): ReadonlyArray<{ readonly dir: string; readonly descriptor: Descriptor | null; readonly problem: string | null }> => {
  const r = root()
  if (!fs.existsSync(r)) return []
  return fs.readdirSync(r).map((name) => {
    const dir = path.join(fs.realpathSync(r), name)
    try {
      const d = decode(fs.readFileSync(path.join(dir, DESCRIPTOR), { encoding: "utf8", flag: fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW }))
      return { dir, descriptor: d, problem: insideRoot(d, dir) }
    } catch (e) {
      // A folder whose descriptor is not written yet is a cluster being made: not ours to judge.
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { dir, descriptor: null, problem: null }
      return { dir, descriptor: null, problem: `unreadable descriptor: ${(e as Error).message.split("\n")[0]}` }
    }
  })
}

/**
 * Stops and deletes one cluster's servers and folder (idempotent).
 *
 * @since 0.1.0
 */
export const destroy = (d: Descriptor): Effect.Effect<void, PostgresError> =>
  Effect.gen(function*() {
    const r = yield* Server.runner(d.bin, d.osUser, d.name)
    for (const n of d.nodes) {
      yield* Server.stop(r, n.dataDir, "immediate", `${d.name}/${n.name}`).pipe(
        // pg_ctl refused (a damaged data directory): the postmaster it names still goes.
        Effect.catch(() =>
          Effect.sync(() => {
            const pid = Server.running(n.dataDir)
            if (pid !== null) process.kill(pid, "SIGKILL")
          })
        )
      )
    }
    yield* Effect.sync(() => fs.rmSync(d.session, { recursive: true, force: true }))
  })

/**
 * Removes the clusters of dead owners (or of one run; `force`: even of live ones).
 *
 * @since 0.1.0
 */
export const recover = (options: { readonly runId?: string | undefined; readonly force?: boolean | undefined } = {}): Effect.Effect<RecoverReport> =>
  Effect.gen(function*() {
    const removed: Array<string> = []
    const skipped: Array<string> = []
    const failed: Array<string> = []
    for (const { dir, descriptor: d, problem } of list()) {
      if (d === null && problem === null) {
        skipped.push(`${dir}: no descriptor (a cluster being made, or not faultline's)`)
        continue
      }
      if (d === null || problem !== null) {
        failed.push(`${dir}: ${problem}`)
        continue
      }
      if (options.runId !== undefined && d.runId !== options.runId) continue
      const what = `postgres cluster ${d.name} (${d.nodes.map((n) => `${n.name}:${n.port}`).join(", ")})`
      if (!options.force && ownerAlive(d.owner)) {
        skipped.push(`${what}: its owner ${d.owner} is alive`)
        continue
      }
      const r = yield* Effect.exit(destroy(d))
      if (r._tag === "Success") removed.push(what)
      else failed.push(`${what}: ${String((r.cause as any)?.reasons?.[0]?.error?.message ?? r.cause)}`)
    }
    return { removed, skipped, failed }
  })
