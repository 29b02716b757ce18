/**
 * What the operating system says about a pid, and signals to it: the one implementation the
 * process driver, its out-of-process reverter, Docker's `recover` and the file ledger share.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"

/** Whether a pid is alive (a zombie counts as dead). @since 0.1.0 */
export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
  // A zombie still answers kill(0); on Linux ask /proc.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return !/\) Z /.test(stat)
  } catch {
    return true
  }
}

/** Whether a pid is stopped (SIGSTOP), per /proc on Linux; null where unknown (or gone). @since 0.1.0 */
export const isStopped = (pid: number): boolean | null => {
  try {
    return /\) [Tt] /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return null
  }
}

/**
 * Whether a pid may be signalled at all: pid 0, 1, a negative number or NaN (read from a
 * damaged record, an empty pid file) would reach whole process groups or init.
 *
 * @since 0.1.0
 */
export const signallable = (pid: number): boolean => Number.isInteger(pid) && pid > 1

/**
 * Sends a signal to a pid, or to its process group; false when the process is gone (ESRCH)
 * or the pid is not signallable.
 *
 * @since 0.1.0
 */
export const signal = (pid: number, sig: NodeJS.Signals, group: boolean): boolean => {
  if (!signallable(pid)) return false
  try {
    process.kill(group ? -pid : pid, sig)
    return true
  } catch {
    return false
  }
}

/**
 * The environment variable that carries a process's run label: the process driver sets it on
 * every process it starts (and restarts), so a revert in another process can find what the
 * run started by its label rather than by a pid that a restart has changed.
 *
 * @since 0.1.0
 */
export const LABEL_ENV = "FAULTLINE_PROCESS"

/**
 * When a process started, in clock ticks since boot (/proc/PID/stat field 22); null where
 * unknown or gone. A pid plus its start time names one process: a recycled pid has another.
 *
 * @since 0.1.0
 */
export const startTime = (pid: number): number | null => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // Fields after the parenthesised command name (which may hold spaces); field 22 overall.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const t = Number(rest[19])
    return Number.isFinite(t) ? t : null
  } catch {
    return null
  }
}

/**
 * The live (not zombie) processes whose environment carries `FAULTLINE_PROCESS=<label>`,
 * per /proc on Linux. Only processes of this user are readable, which are the only ones a
 * run of this user can have started.
 *
 * @since 0.1.0
 */
export const labelled = (label: string): ReadonlyArray<number> => {
  const needle = Buffer.from(`\0${LABEL_ENV}=${label}\0`)
  const first = Buffer.from(`${LABEL_ENV}=${label}\0`)
  const found: Array<number> = []
  let entries: Array<string>
  try {
    entries = fs.readdirSync("/proc")
  } catch {
    return found
  }
  for (const e of entries) {
    const pid = Number(e)
    if (!signallable(pid) || pid === process.pid) continue
    let env: Buffer
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`)
    } catch {
      continue
    }
    if ((env.indexOf(needle) >= 0 || env.subarray(0, first.length).equals(first)) && pidAlive(pid)) found.push(pid)
  }
  return found
}
