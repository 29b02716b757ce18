/**
 * Private run files: what faultline writes (journal, ledger, reports) is created 0600 in
 * folders it makes 0700, opened without following symlinks, and a folder or file that
 * another user owns, or that group or others may write, is refused. A shared `--out` (say
 * under /tmp) then cannot be used to plant a run's files, swap them for symlinks, or read
 * what a run recorded.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"

/**
 * A run file or folder that is not private, or cannot be made so.
 *
 * @since 0.1.0
 */
export class NotPrivate extends Error {
  override readonly name = "NotPrivate"
  readonly file: string
  readonly problem: string
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`)
    this.file = file
    this.problem = problem
  }
}

const uid = (): number | undefined => process.getuid?.()

// The problem with an lstat result, or null when it is ours and nobody else may write it.
const problemOf = (st: fs.Stats, what: "folder" | "file"): string | null => {
  if (st.isSymbolicLink()) return `is a symbolic link (run ${what}s are never followed through links)`
  if (what === "folder" ? !st.isDirectory() : !st.isFile()) return `is not a ${what}`
  const me = uid()
  if (me !== undefined && st.uid !== me) return `is owned by uid ${st.uid}, not by this user (uid ${me})`
  if ((st.mode & 0o022) !== 0) {
    return `is writable by ${(st.mode & 0o020) !== 0 ? "group" : "others"} (mode ${(st.mode & 0o777).toString(8)}); make it 0700/0600`
  }
  return null
}

/**
 * Why a path is not a private run folder or file (null: it is, or it does not exist).
 *
 * @since 0.1.0
 */
export const problem = (p: string, what: "folder" | "file"): string | null => {
  const st = fs.lstatSync(p, { throwIfNoEntry: false })
  return st === undefined ? null : problemOf(st, what)
}

/**
 * Makes a private folder (0700) — its parents as the umask says — or checks that an
 * existing one is private. Throws `NotPrivate`.
 *
 * @since 0.1.0
 */
export const ensureDir = (dir: string): void => {
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  try {
    fs.mkdirSync(dir, { mode: 0o700 })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
  }
  const bad = problem(dir, "folder")
  if (bad !== null) throw new NotPrivate(dir, bad)
}

const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0

// An fd just opened must be a file this user owns that nobody else may write: O_NOFOLLOW
// refuses a symlink at the last component; this refuses a planted hard link or file.
const checked = (file: string, fd: number): number => {
  const bad = problemOf(fs.fstatSync(fd), "file")
  if (bad !== null) {
    fs.closeSync(fd)
    throw new NotPrivate(file, bad)
  }
  return fd
}

/**
 * Creates a file that must not exist yet (0600, never through a symlink). Throws.
 *
 * @since 0.1.0
 */
export const createExclusive = (file: string): number =>
  checked(file, fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, 0o600))

/**
 * Opens a file for appending, creating it 0600 if needed, never through a symlink. Throws.
 *
 * @since 0.1.0
 */
export const openAppend = (file: string): number =>
  checked(file, fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | NOFOLLOW, 0o600))

/**
 * Opens an existing file for reading and appending, never through a symlink. Throws.
 *
 * @since 0.1.0
 */
export const openExisting = (file: string): number => checked(file, fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND | NOFOLLOW))

/**
 * Writes a whole file (0600, replacing one of ours, never through a symlink). Throws.
 *
 * @since 0.1.0
 */
export const writeFile = (file: string, text: string): void => {
  const fd = checked(file, fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | NOFOLLOW, 0o600))
  try {
    fs.ftruncateSync(fd, 0)
    fs.writeSync(fd, text)
  } finally {
    fs.closeSync(fd)
  }
}
