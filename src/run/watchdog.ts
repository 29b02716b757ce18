/**
 * The watchdog process of one run: `watchdog <ledger-dir> <run-id> <runner-pid>`.
 * This entry imports nothing heavy: it listens on the runner's pipe and says `ready` at
 * once, then loads the rest (`WatchdogMain.ts`). A runner that dies while that loads is
 * still seen (the pipe's end is recorded here) and its faults are reverted once loaded.
 * The runner waits for `ready` before it touches a target.
 *
 * @since 0.1.0
 */
const [dir, runId, pidText] = process.argv.slice(2)

let reason: string | null = null
let settle: ((r: string) => void) | null = null
const piped = new Promise<string>((resolve) => {
  settle = resolve
})
const gone = (r: string) => {
  if (reason !== null) return
  reason = r
  settle?.(r)
}
process.stdin.on("end", () => gone("stdin closed"))
process.stdin.on("error", () => gone("stdin error"))
process.stdin.resume()
process.stdout.write("ready\n")

const { watch } = await import("./WatchdogMain.ts")
watch({ dir: dir ?? "", runId: runId ?? "", runnerPid: Number(pidText), piped })
