// The terminal live view in a real pseudo-terminal (tmux): keystrokes complete a step and
// approve one, the approval is journaled with the name typed, `x` aborts and every fault is
// reverted.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { describeWith } from "../integration/require.ts"
import { journalOf } from "./helpers.ts"

const root = path.resolve(import.meta.dirname, "../..")
const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"])
    return null
  } catch {
    return "tmux is not installed (apt-get install tmux)"
  }
})()

const tmux = (...args: ReadonlyArray<string>) => execFileSync("tmux", args, { encoding: "utf8" })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describeWith("tmux (terminal live view)", hasTmux, () => {
  it.each([["x aborts", false], ["Ctrl-C interrupts", true]] as const)(
    "keys complete and approve steps; %s and every fault is reverted",
    async (_, interrupt) => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-tty-"))
      const session = `faultline-drill-${process.pid}-${interrupt ? "int" : "abort"}`
      const done = path.join(out, "exit-code")
      const cmd =
        `cd ${root} && KV_PORT=47441 KV_PROXY_PORT=47442 ${process.execPath} src/cli/main.ts drill runbooks/dependency-outage.md --name Ada --out ${out}; echo $? > ${done}; sleep 60`
      tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", cmd)
      const screen = () => tmux("capture-pane", "-p", "-t", session)
      const waitFor = async (re: RegExp, ms = 30_000) => {
        const t0 = Date.now()
        while (Date.now() - t0 < ms) {
          const s = screen()
          if (re.test(s)) return s
          await sleep(100)
        }
        throw new Error(`screen never showed ${re}:\n${screen()}`)
      }
      const keys = (text: string) => tmux("send-keys", "-t", session, "-l", text)
      const enter = () => tmux("send-keys", "-t", session, "Enter")
      try {
        let s = await waitFor(/NOW: Brief the room/)
        expect(s).toMatch(/> +1 Brief the room +manual +running/)
        expect(s).toMatch(/keys: \[c\] complete/)
        keys("c")
        await waitFor(/complete brief-the-room — Incident bridge open \(y\/n\)/)
        keys("y")
        enter()
        await waitFor(/your name \[Ada\]/)
        enter()
        s = await waitFor(/NOW: Approve the faults/)
        expect(s).toMatch(/v +1 Brief the room +manual +done .* Ada/)
        keys("a")
        await waitFor(/approver's name/)
        keys("Grace")
        enter()
        s = await waitFor(/NOW: Detect the outage/)
        expect(s).toMatch(/faults open: network\.latency on toxiproxy kv, network\.down on toxiproxy kv/)
        expect(s).toMatch(/RTO clock (\d+ ms|\d+m \d\ds) \/ objective 2m 00s/)
        if (interrupt) tmux("send-keys", "-t", session, "C-c")
        else {
          keys("x")
          await waitFor(/ABORT the drill/)
          keys("end of the exercise")
          enter()
        }
        const t0 = Date.now()
        while (!fs.existsSync(done) && Date.now() - t0 < 30_000) await sleep(100)
        expect(fs.readFileSync(done, "utf8").trim()).toBe(interrupt ? "130" : "1")
      } finally {
        tmux("kill-session", "-t", session)
      }
      const { events, drill } = journalOf(out)
      expect(events.find((e) => e._tag === "StepApproval")).toMatchObject({ approved: true, actor: { name: "Grace", via: "terminal" } })
      expect(drill.steps.find((s: any) => s.stepId === "brief-the-room")).toMatchObject({ status: "done", evidence: { "bridge-open": true } })
      if (interrupt) expect(drill.status).toBe("interrupted")
      else expect(drill.reason).toMatch(/aborted by Ada .*end of the exercise/)
      expect(events.filter((e) => e._tag === "FaultInjected")).toHaveLength(2)
      expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(2)
    }
  )
})
