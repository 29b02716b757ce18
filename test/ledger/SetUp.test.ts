import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import * as Os from "../../src/core/Os.ts"
import * as FileLedger from "../../src/run/FileLedger.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// The processes whose command line carries `marker` (the fixture's last argument).
const withMarker = (marker: string): Array<number> =>
  fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      return fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").includes(marker) && Os.pidAlive(Number(e)) ? [Number(e)] : []
    } catch {
      return []
    }
  })

describe("a CLI run's set-up processes do not outlive it", () => {
  it("SIGKILL of `faultline run` on a file with processes: its watchdog resumes and stops them, and the journal ends", { timeout: 60_000 }, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-setup-"))
    const marker = "faultline-fixture-pause-long"
    expect(withMarker(marker)).toEqual([])
    const cli = spawn(process.execPath, [path.join(root, "src/cli/main.ts"), "run", path.join(root, "test/fixtures/pause-long.yaml"), "--out", out], {
      stdio: "ignore"
    })
    try {
      // Wait until the fault is in place: the set-up process is stopped.
      let pid = 0
      for (let i = 0; i < 600 && pid === 0; i++) {
        const [p] = withMarker(marker)
        if (p !== undefined && Os.isStopped(p) === true) pid = p
        else await sleep(25)
      }
      expect(pid, "the set-up process was started and paused").toBeGreaterThan(0)
      const runs = FileLedger.readRuns(path.join(out, "ledger"))
      expect(runs.flatMap((r) => r.setUp.map((p) => p.pid))).toContain(pid)
      cli.kill("SIGKILL")
      for (let i = 0; i < 200 && withMarker(marker).length > 0; i++) await sleep(25)
      expect(withMarker(marker), "no copy of the set-up process runs").toEqual([])
      for (let i = 0; i < 200 && !FileLedger.readRuns(path.join(out, "ledger")).every((r) => r.closed); i++) await sleep(25)
      const run = FileLedger.readRuns(path.join(out, "ledger"))[0]!
      expect(run.closed).toBe(true)
      const journal = fs.readFileSync(run.journal!, "utf8").trim().split("\n").map((l) => JSON.parse(l))
      expect(journal.at(-1).event).toMatchObject({ _tag: "RunEnded", status: "interrupted", cleanup: "ok" })
    } finally {
      cli.kill("SIGKILL")
      for (const p of withMarker(marker)) {
        Os.signal(p, "SIGCONT", false)
        Os.signal(p, "SIGKILL", false)
      }
      fs.rmSync(out, { recursive: true, force: true })
    }
  })
})
