/**
 * `npx faultline run` does not pass SIGTERM on to the runner. The runner notices its parent
 * going away and treats it as SIGTERM: interrupted, every fault reverted, the journal ends
 * with RunEnded. The parent here is a small Node process that, like npx, dies on SIGTERM
 * without forwarding it. Every wait is bounded.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const root = path.resolve(import.meta.dirname, "../..")
const binDir = path.join(root, "node_modules", ".bin")
const node = path.join(binDir, "node")
const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}` }

const stateOf = (pid: number): string | null => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
  } catch {
    return null
  }
}

const until = async (what: string, check: () => boolean, limitMs: number) => {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe("a runner whose parent goes away", () => {
  it("treats it as SIGTERM: the paused process is resumed and the journal ends interrupted", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-orphan-"))
    const marker = `faultline-orphan-${process.pid}`
    const file = path.join(out, "pause.yaml")
    fs.writeFileSync(file, fs.readFileSync(path.join(root, "test/fixtures/pause-long.yaml"), "utf8").replace("faultline-fixture-pause-long", marker))
    // The parent starts the CLI and, like npx, dies on SIGTERM without forwarding it.
    const parent = spawn(node, [
      "-e",
      `
      const { spawn } = require("node:child_process")
      const c = spawn(process.argv[1], [process.argv[2], "run", process.argv[3], "--out", process.argv[4]], { stdio: "ignore" })
      console.log(c.pid)
      setInterval(() => {}, 1000)
    `,
      node,
      path.join(root, "src/cli/main.ts"),
      file,
      out
    ], { env, stdio: ["ignore", "pipe", "inherit"] })
    let text = ""
    parent.stdout!.setEncoding("utf8").on("data", (c: string) => void (text += c))
    try {
      await until("the runner's pid", () => /\d+\n/.test(text), 20_000)
      const runner = Number(text.trim())
      // Wait until the fault is injected: the victim is stopped.
      const victim = () => {
        const r = spawnSync("pgrep", ["-f", marker], { encoding: "utf8" })
        return r.status === 0 ? Number(r.stdout.trim().split("\n")[0]) : null
      }
      await until("the victim to be paused", () => victim() !== null && stateOf(victim()!) === "T", 60_000)
      const pid = victim()!
      parent.kill("SIGTERM")
      await until("the victim to be resumed", () => stateOf(pid) !== "T", 10_000)
      await until("the runner to exit", () => stateOf(runner) === null || stateOf(runner) === "Z", 20_000)
      const runDir = fs.readdirSync(out).find((d) => fs.existsSync(path.join(out, d, "journal.jsonl")))!
      const lines = fs.readFileSync(path.join(out, runDir, "journal.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
      const end = lines.at(-1)!.event
      assert.strictEqual(end._tag, "RunEnded")
      assert.strictEqual(end.status, "interrupted")
      assert.strictEqual(end.cleanup, "ok")
      assert.isTrue(lines.some((l) => l.event._tag === "FaultReverted"))
    } finally {
      parent.kill("SIGKILL")
      spawnSync("pkill", ["-f", marker])
    }
  }, 120_000)
})
