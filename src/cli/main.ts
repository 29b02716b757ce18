/**
 * The `faultline` command line's entry: parses the arguments against the command tree
 * (`Commands.ts`), runs the command, and turns signals, a dying parent and errors into exit
 * codes: 0 passed; 1 deviated, aborted or failed; 2 bad input; 130 interrupted.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { Command } from "effect/cli"
import { cli } from "./Commands.ts"
import { state } from "./State.ts"

export {
  /**
   * Bad input: a malformed file, flag or module. The CLI prints `message` and exits 2.
   *
   * @since 0.1.0
   */
  BadInput
} from "./State.ts"

const layer = NodeServices.layer

// `faultline` alone and `faultline help [CMD]` print help and exit 0.
const argv = ((a: ReadonlyArray<string>): ReadonlyArray<string> => a.length === 0 ? ["--help"] : a[0] === "help" ? [...a.slice(1), "--help"] : a)(
  process.argv.slice(2)
)

const main = Command.runWith(cli, { version: "0.1.0", renderErrors: false })(argv).pipe(
  Effect.catchTag("BadInput", (e) =>
    Effect.sync(() => {
      process.stderr.write(`faultline: ${e.message}\n`)
      state.exitCode = 2
    })),
  Effect.catchCause((cause) =>
    Effect.sync(() => {
      const err = Cause.squash(cause) as any
      const isCli = err && typeof err === "object" && typeof err._tag === "string"
      // Parse errors arrive wrapped in ShowHelp; name each of them rather than "Help requested".
      const inner: ReadonlyArray<{ message?: string }> = Array.isArray(err?.errors) ? err.errors : []
      const text = inner.length > 0 ? inner.map((e) => e.message ?? String(e)).join("; ") : isCli && err.message ? err.message : Cause.pretty(cause)
      process.stderr.write(`faultline: ${text}\n`)
      if (isCli) process.stderr.write("run `faultline --help` for usage\n")
      state.exitCode = isCli ? 2 : 1
    })
  ),
  Effect.provide(layer)
)

const fiber = Effect.runFork(main)
// Ctrl-C / SIGTERM interrupt the run: faults are reverted, the report is written, exit 130.
// When the experiment declares `Abort.signals()`, its own listener turns the first signal
// into an abort instead; a second signal interrupts.
let signals = 0
let interrupting = false
const onSignal = (sig: NodeJS.Signals) => {
  signals++
  if (signals === 1 && process.listenerCount(sig) > 1) return
  if (interrupting) return
  interrupting = true
  Effect.runFork(Fiber.interrupt(fiber))
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)
// `npx faultline run` does not pass SIGTERM on: when the parent goes away the runner is
// re-parented, and it treats that as SIGTERM (interrupted, every fault reverted).
const parent = process.ppid
const orphaned = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(orphaned)
    process.kill(process.pid, "SIGTERM")
  }
}, 100)
orphaned.unref()
fiber.addObserver((exit) => {
  process.removeListener("SIGINT", onSignal)
  process.removeListener("SIGTERM", onSignal)
  if (Exit.isFailure(exit) && Cause.hasInterrupts(exit.cause)) {
    state.exitCode = 130
    // An interrupted run still wrote its report: say where, with the summary.
    const dir = state.runDir
    const file = dir === null ? null : path.join(dir, "report.json")
    if (dir !== null && file !== null && fs.existsSync(file)) {
      // The summary's renderer is loaded only here: no other path out of the CLI needs it.
      void import("./Summary.ts").then(({ summary }) => {
        try {
          process.stdout.write(`\n${summary(JSON.parse(fs.readFileSync(file, "utf8")), dir)}\n`)
        } catch {
          process.stdout.write(`\nreport: ${dir}\n`)
        }
      }, () => process.stdout.write(`\nreport: ${dir}\n`)).finally(() => process.exit(state.exitCode))
      return
    }
  }
  process.exit(state.exitCode)
})
