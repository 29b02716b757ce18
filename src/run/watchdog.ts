/**
 * The watchdog process of one run: `watchdog <ledger-dir> <run-id> <runner-pid>`.
 * This entry imports nothing heavy: it listens on the runner's pipe and says `ready` at
 * once, then loads the rest (`WatchdogMain.ts`) and says `loaded`. A runner that dies while
 * that loads is still seen (the pipe's end is recorded here). The runner waits for `ready`
 * before it starts, and for `loaded` before it injects a fault: probes start meanwhile.
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
// The runner closes its end once it has heard `loaded`, or dies: never an error here.
process.stdout.on("error", () => {})
process.stdout.write("ready\n")

const { watch } = await import("./WatchdogMain.ts")
process.stdout.write("loaded\n")
watch({ dir: dir ?? "", runId: runId ?? "", runnerPid: Number(pidText), piped })
