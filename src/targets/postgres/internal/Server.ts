/**
 * The server programs (initdb, pg_ctl, pg_basebackup, pg_rewind, pg_controldata) run as the
 * OS user that owns the data directories: PostgreSQL refuses to run as root, so a runner
 * that is root drops to that user for every program. Shared by the cluster layer, the
 * driver and the out-of-process reverter.
 *
 * @since 0.1.0
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { DEFAULT_BIN } from "../Node.ts"
import { PostgresError } from "../PostgresError.ts"

/** Where the programs are and who runs them. @since 0.1.0 */
export interface Runner {
  readonly bin: string
  /** uid/gid to run as, or null to run as this process's user. */
  readonly as: { readonly uid: number; readonly gid: number; readonly name: string } | null
}

// The uid and gid of an OS user, from /etc/passwd (no shell, no `id`).
const userIds = (name: string): { uid: number; gid: number } | null => {
  for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":")
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) }
  }
  return null
}

// Server binaries are taken only from a PostgreSQL installation's bin folder: a ledger
// record or a cluster file names one, and must not be able to name any other program.
const binProblem = (bin: string): string | null => {
  const allowed = /^\/usr\/lib\/postgresql\/\d+\/bin$/.test(bin) || bin === process.env.FAULTLINE_POSTGRES_BIN
  if (!allowed) return `${bin} is not a PostgreSQL bin folder (/usr/lib/postgresql/N/bin, or $FAULTLINE_POSTGRES_BIN)`
  return fs.existsSync(path.join(bin, "pg_ctl")) ? null : `${bin} has no pg_ctl (is PostgreSQL installed? apt-get install postgresql)`
}

/**
 * The runner for a bin folder and OS user (the user matters only when this process is root).
 *
 * @since 0.1.0
 */
export const runner = (bin: string | undefined, osUser: string | undefined, target: string): Effect.Effect<Runner, PostgresError> =>
  Effect.suspend((): Effect.Effect<Runner, PostgresError> => {
    const b = bin ?? DEFAULT_BIN
    const bad = binProblem(b)
    if (bad !== null) return Effect.fail(new PostgresError({ reason: "Unavailable", target, operation: "binaries", detail: bad }))
    if (process.getuid?.() !== 0) return Effect.succeed({ bin: b, as: null })
    const name = osUser ?? "postgres"
    const ids = userIds(name)
    if (ids === null || ids.uid === 0) {
      return Effect.fail(
        new PostgresError({
          reason: "InvalidInput",
          target,
          operation: "binaries",
          detail: `OS user ${name} does not exist or is root; PostgreSQL needs an unprivileged owner`
        })
      )
    }
    return Effect.succeed({ bin: b, as: { ...ids, name } })
  })

/** What a program printed. @since 0.1.0 */
export interface Output {
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs one server program and returns its output; a non-zero exit is `CommandFailed` with
 * the last lines of its error output.
 *
 * @since 0.1.0
 */
export const run = (
  r: Runner,
  program: string,
  args: ReadonlyArray<string>,
  options: { readonly target: string; readonly env?: Record<string, string>; readonly timeoutMs?: number; readonly cwd?: string } = { target: "-" }
): Effect.Effect<Output, PostgresError> =>
  Effect.callback<Output, PostgresError>((resume) => {
    const home = r.as === null ? os.tmpdir() : "/tmp"
    const child = execFile(path.join(r.bin, program), [...args], {
      cwd: options.cwd ?? "/",
      env: { PATH: `${r.bin}:/usr/bin:/bin`, HOME: home, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", ...(r.as ? { USER: r.as.name } : {}), ...options.env },
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
      ...(r.as ? { uid: r.as.uid, gid: r.as.gid } : {})
    }, (err, stdout, stderr) => {
      if (err === null) return resume(Effect.succeed({ stdout, stderr }))
      const tail = `${stderr}`.trim().split("\n").slice(-4).join(" | ") || err.message
      resume(
        Effect.fail(new PostgresError({ reason: "CommandFailed", target: options.target, operation: program, detail: `${program} ${args[0] ?? ""}: ${tail}` }))
      )
    })
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })

/** Makes a folder owned by the runner's user, mode 0700 (the data directory's rule). @since 0.1.0 */
export const ownedDir = (r: Runner, dir: string, mode = 0o700): void => {
  fs.mkdirSync(dir, { recursive: false, mode })
  fs.chmodSync(dir, mode)
  if (r.as) fs.chownSync(dir, r.as.uid, r.as.gid)
}

/** Writes a file owned by the runner's user (0600). @since 0.1.0 */
export const ownedFile = (r: Runner, file: string, text: string, append = false): void => {
  if (append) fs.appendFileSync(file, text)
  else fs.writeFileSync(file, text, { mode: 0o600 })
  if (r.as) fs.chownSync(file, r.as.uid, r.as.gid)
}

/** The postmaster's pid from `postmaster.pid`, or null when there is none. @since 0.1.0 */
export const postmasterPid = (dataDir: string): number | null => {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0])
    return Number.isInteger(pid) && pid > 1 ? pid : null
  } catch {
    return null
  }
}

/**
 * Whether the server of `dataDir` runs: its postmaster.pid names a live process that is a
 * postgres with this data directory (a stale file after SIGKILL names a dead or reused pid).
 *
 * @since 0.1.0
 */
export const running = (dataDir: string): number | null => {
  const pid = postmasterPid(dataDir)
  if (pid === null) return null
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
    return cmd.some((a) => a.endsWith("postgres") || a.endsWith("postmaster")) && cmd.includes(dataDir) ? pid : null
  } catch {
    return null
  }
}

/**
 * The cluster state pg_controldata reads from the control file (`in production`, `in
 * archive recovery`, `shut down`, `shut down in recovery`, ...): what a node is without
 * connecting to it.
 *
 * @since 0.1.0
 */
export const controlState = (r: Runner, dataDir: string, target: string): Effect.Effect<string, PostgresError> =>
  Effect.map(run(r, "pg_controldata", ["-D", dataDir], { target }), (o) => /Database cluster state:\s*(.+)/.exec(o.stdout)?.[1]?.trim() ?? "unknown")

/**
 * Starts the server of `dataDir` (pg_ctl start, waiting until it accepts connections). A
 * postmaster.pid left by a killed server is removed first when the pid it names is no live
 * postgres of this data directory: where the killed postmaster's parent (init in a container)
 * does not reap it, its zombie would answer PostgreSQL's own liveness check forever.
 *
 * @since 0.1.0
 */
export const start = (r: Runner, dataDir: string, target: string): Effect.Effect<void, PostgresError> =>
  Effect.andThen(
    Effect.sync(() => clearStale(dataDir)),
    Effect.asVoid(run(r, "pg_ctl", ["-D", dataDir, "-l", path.join(path.dirname(dataDir), "server.log"), "-w", "-t", "60", "start"], { target }))
  )

/**
 * Removes the lock files of a killed server (postmaster.pid and its socket's lock) when the
 * pid they name is no live postgres of this data directory (see `start`).
 *
 * @since 0.1.0
 */
export const clearStale = (dataDir: string): void => {
  if (running(dataDir) !== null) return
  const pidFile = path.join(dataDir, "postmaster.pid")
  // Lines 4 and 5 of postmaster.pid: the port and the socket folder, whose lock is stale too.
  const lines = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").split("\n") : []
  const [port, socketDir] = [lines[3]?.trim(), lines[4]?.trim()]
  if (port && socketDir && /^\d+$/.test(port)) {
    fs.rmSync(path.join(socketDir, `.s.PGSQL.${port}.lock`), { force: true })
    fs.rmSync(path.join(socketDir, `.s.PGSQL.${port}`), { force: true })
  }
  fs.rmSync(pidFile, { force: true })
}

/** Stops the server of `dataDir` (`fast` or `immediate`); a server that does not run is a no-op. @since 0.1.0 */
export const stop = (r: Runner, dataDir: string, mode: "fast" | "immediate", target: string): Effect.Effect<void, PostgresError> =>
  running(dataDir) === null ? Effect.void : Effect.asVoid(run(r, "pg_ctl", ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"], { target }))
