/**
 * (d) Runner death: the runner is SIGKILLed right after injecting `process.pause`; the time
 * until its watchdog has resumed the process and closed the run. Baseline: resuming the same
 * kind of process directly (SIGCONT until /proc no longer says stopped), same run.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { trial } from "../test/fixtures/crashTrial.ts"
import { percentile, row, type Row } from "./stats.ts"

const stopped = (pid: number) => /\) [Tt] /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))

const directResume = async (): Promise<number> => {
  const child = spawn(process.execPath, ["-e", "setInterval(()=>{},1000)"], { stdio: "ignore" })
  await new Promise((r) => setTimeout(r, 100))
  const pid = child.pid!
  process.kill(pid, "SIGSTOP")
  while (!stopped(pid)) await new Promise((r) => setTimeout(r, 1))
  const t0 = performance.now()
  process.kill(pid, "SIGCONT")
  while (stopped(pid)) await new Promise((r) => setImmediate(r))
  const dt = performance.now() - t0
  child.kill("SIGKILL")
  return dt
}

export const run = async (options: { readonly trials: number; readonly log: (line: string) => void }): Promise<ReadonlyArray<Row>> => {
  const ms: Array<number> = []
  const direct: Array<number> = []
  let failures = 0
  for (let i = 0; i < options.trials; i++) {
    const r = await trial("after-injection", "pause")
    if (r.openAfter !== 0 || !r.victimOk || !r.runClosed) failures++
    ms.push(r.killToRevertMs)
    direct.push(await directResume())
  }
  const p95 = percentile(ms, 95)
  options.log(`  ${options.trials} trials, ${failures} left a fault open; kill -> reverted p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`)
  return [
    row({
      name: "watchdog.kill_to_revert",
      unit: "ms",
      baseline: percentile(direct, 50),
      measured: percentile(ms, 50),
      p50: percentile(ms, 50),
      p95,
      p99: percentile(ms, 99),
      goal: "p95 <= 2000 ms, no fault left open",
      met: p95 <= 2000 && failures === 0
    })
  ]
}
