// Helpers of the drill tests: run the CLI, read a run folder.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const node = process.execPath

export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const faultline = (args: ReadonlyArray<string>, env: Record<string, string> = {}, timeoutMs = 90_000): Promise<Ran> =>
  new Promise((resolve, reject) => {
    const child = spawn(node, ["src/cli/main.ts", ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => void (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c: string) => void (stderr += c))
    const timer = setTimeout(() => {
      child.kill("SIGTERM")
      reject(new Error(`faultline ${args.join(" ")} did not exit in time\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

export const journalOf = (out: string) => {
  const runs = fs.readdirSync(out).filter((d) => d !== "ledger")
  const dir = path.join(out, runs[0]!)
  return {
    dir,
    events: fs.readFileSync(path.join(dir, "journal.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).event),
    drill: JSON.parse(fs.readFileSync(path.join(dir, "drill.json"), "utf8"))
  }
}
