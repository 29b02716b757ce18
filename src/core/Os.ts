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
