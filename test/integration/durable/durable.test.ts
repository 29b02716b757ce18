/**
 * Durable drills on real parts: three `faultline runner` processes against one throwaway
 * PostgreSQL 15. The runner carrying a drill is SIGKILLed mid-drill; another resumes it from
 * its last completed step within 10 s, no step completes twice, every fault is reverted.
 * A drill scheduled 100 times across the three runners runs 100 times.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import * as FileLedger from "../../../src/run/FileLedger.ts"
import { describeWith } from "../require.ts"
import * as Pg from "../slo/throwawayPostgres.ts"
import { freePort, journal, processes, root, runDirs, type RunnerProc, startRunner, stopRunner, submit, waitFor } from "./cluster.ts"

const fixtures = path.join(root, "test/durable/fixtures")

describeWith("durable drills (3 runners, PostgreSQL 15)", Pg.missing(), () => {
  let pg: Pg.Cluster
  let runners: Array<RunnerProc> = []
  let tmp = ""
  let kvPort = 0

  beforeAll(async () => {
    pg = await Pg.start()
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-durable-"))
    kvPort = await freePort()
  }, 90_000)

  afterAll(async () => {
    await Promise.all(runners.map((r) => stopRunner(r)))
    pg?.stop()
    if (tmp !== "") fs.rmSync(tmp, { recursive: true, force: true })
  }, 60_000)

  const startThree = async (tag: string, extra: { schedule?: string } = {}) => {
    runners = await Promise.all(
      [1, 2, 3].map((i) =>
        startRunner({ db: pg.url, out: path.join(tmp, tag, `r${i}`), name: `${tag}-r${i}`, env: { FAULTLINE_DURABLE_KV: String(kvPort) }, ...extra })
      )
    )
    return runners
  }

  it("SIGKILL of the runner carrying a drill: another resumes it within 10 s; no step completes twice; no fault left open", async () => {
    const rs = await startThree("kill")
    const outs = rs.map((r) => r.out)
    const sub = submit([
      path.join(fixtures, "resume.md"),
      "--answers",
      path.join(fixtures, "resume-answers.yaml"),
      "--db",
      pg.url,
      "--key",
      "kill-test",
      "--json"
    ])
    // The drill is in step 3 (the store paused by step 2, people watching): kill its runner.
    const first = await waitFor(
      "the drill to reach step 3",
      60_000,
      () => runDirs(outs, "kill-test").find((d) => journal(d).some((l) => l.event._tag === "StepStarted" && l.event.stepId === "watch"))
    )
    const victim = rs.find((r) => first.startsWith(r.out + path.sep))!
    expect(processes(["kv.mjs", String(kvPort)]).map((p) => p.state)).toContain("T")
    victim.child.kill("SIGKILL")
    const killedAt = Date.now()
    const { code, output } = await sub.done(90_000)
    expect(code, output).toBe(0)
    const result = JSON.parse(output.trim().split("\n").at(-1)!)
    // Attempt 2 normally; on a loaded machine a live runner can lose its shard lock too, and
    // a third attempt takes over: what must hold either way is checked below.
    expect(result).toMatchObject({ status: "passed" })
    expect(result.attempt).toBeGreaterThanOrEqual(2)
    expect(result.runner).not.toBe(victim.name)
    const dirs = runDirs(outs, "kill-test")
    expect(dirs).toHaveLength(result.attempt)
    const later = dirs.filter((d) => d !== first).sort((a, b) => journal(a)[0]!.wall - journal(b)[0]!.wall)
    const second = later[0]!
    expect(second.startsWith(victim.out + path.sep)).toBe(false)
    // Resumed within 10 s of the kill (the second attempt's run started).
    const resumedAt = journal(second)[0]!.wall
    expect(resumedAt - killedAt).toBeLessThan(10_000)
    // Journal check: every step completed exactly once across all attempts; the one in
    // progress at the kill (watch) started again; the completed ones were not run again.
    const all = [first, ...later].flatMap((d) => journal(d)).map((l) => l.event)
    const ended = all.filter((e) => e._tag === "StepEnded").map((e) => e.stepId)
    expect([...ended].sort()).toEqual(["check-steady-state", "pause-the-store", "resume", "served-again", "watch"].sort())
    expect(all.filter((e) => e._tag === "StepStarted" && e.stepId === "check-steady-state")).toHaveLength(1)
    expect(all.filter((e) => e._tag === "StepStarted" && e.stepId === "pause-the-store")).toHaveLength(1)
    expect(all.filter((e) => e._tag === "StepStarted" && e.stepId === "watch").length).toBeGreaterThanOrEqual(2)
    // Every later attempt checked steady state before it injected the held fault again (one
    // that lost its own lock may end before it injects); the last one did inject it, and says
    // the step completed in an earlier attempt.
    for (const d of later) {
      const s = journal(d).map((l) => l.event)
      const gate = s.findIndex((e) => e._tag === "HypothesisChecked" && e.phase === "before")
      const again = s.findIndex((e) => e._tag === "FaultInjected")
      if (again >= 0) expect(gate, d).toBeGreaterThanOrEqual(0)
      if (again >= 0) expect(again, d).toBeGreaterThan(gate)
    }
    const last = journal(later.at(-1)!).map((l) => l.event)
    expect(last.some((e) => e._tag === "FaultInjected")).toBe(true)
    expect(last.some((e) => e._tag === "DrillNote" && String(e.text).includes("pause-the-store completed in an earlier attempt"))).toBe(true)
    // No fault left open: the dead runner's watchdog reverted its pause (journaled in its run
    // folder), the second attempt reverted its own; the store's processes are gone or running.
    for (const d of dirs) {
      const j = journal(d).map((l) => l.event)
      expect(j.filter((e) => e._tag === "FaultReverted").length, d).toBe(j.filter((e) => e._tag === "FaultInjected").length)
      expect(j.at(-1)?._tag, d).toBe("RunEnded")
    }
    // ...and every runner's ledger says so: no run with a fault still open.
    for (const r of rs) {
      const open = FileLedger.readRuns(path.join(r.out, "ledger")).flatMap((run) => FileLedger.openFaults(run).map((f) => `${run.runId}: ${JSON.stringify(f)}`))
      expect(open, r.name).toEqual([])
    }
    await waitFor("the store's processes to stop", 10_000, () => processes(["kv.mjs", String(kvPort)]).every((p) => p.state !== "T"))
  }, 150_000)

  it("a drill scheduled 100 times across three runners runs 100 times", async () => {
    await Promise.all(runners.map((r) => stopRunner(r)))
    const server = await import("node:http").then((h) => h.createServer((_q, s) => s.end("ok")))
    const port = await new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)))
    try {
      const dir = path.join(tmp, "sched")
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, "tick.yaml"), tickExperiment(port))
      // An allowed window of exactly 100 firings (one a second), starting once all three have joined.
      const from = Math.ceil((Date.now() + 25_000) / 1000) * 1000
      fs.writeFileSync(path.join(dir, "drills.yaml"), drillsFile(from, 100))
      const rs = await startThree("sched", { schedule: path.join(dir, "drills.yaml") })
      // The window must open after the runners joined, or its first firings had nobody to fire them.
      expect(Date.now()).toBeLessThan(from)
      const outs = rs.map((r) => r.out)
      const ranKeys = () => new Set(rs.flatMap((r) => decisions(r.out)).filter((d) => d.decision === "ran").map((d) => d.plannedAt))
      await waitFor("100 firings to run", from - Date.now() + 100_000 + 30_000, () => ranKeys().size >= 100)
      // Let any 101st have its chance to appear (it must not).
      await new Promise((r) => setTimeout(r, 3_000))
      const runs = runDirs(outs)
      expect(runs).toHaveLength(100)
      const all = rs.flatMap((r) => decisions(r.out))
      const ran = all.filter((d) => d.decision === "ran")
      expect(new Set(ran.map((d) => d.plannedAt)).size).toBe(100)
      // Every runner that fired a firing saw the same run: one run id per firing.
      const byFiring = new Map<number, Set<string>>()
      for (const d of ran) byFiring.set(d.plannedAt, (byFiring.get(d.plannedAt) ?? new Set()).add(d.runId!))
      expect([...byFiring.values()].every((ids) => ids.size === 1)).toBe(true)
      expect(new Set([...byFiring.values()].map((ids) => [...ids][0])).size).toBe(100)
      expect([...byFiring.keys()].every((t) => t >= from && t < from + 100_000)).toBe(true)
      // The work was shared: more than one runner carried drills.
      expect(outs.filter((o) => runDirs([o]).length > 0).length).toBeGreaterThan(1)
      expect(all.some((d) => d.decision === "error")).toBe(false)
    } finally {
      server.close()
    }
  }, 220_000)
})

const tickExperiment = (port: number) =>
  `name: tick
hypothesis:
  - name: up
    probe: { http: { url: "http://127.0.0.1:${port}/", timeout: "500 millis" } }
    every: "10 millis"
    samples: 3
    tolerance: [{ _tag: SuccessRatio, atLeast: 0.5, confidence: 0.5 }]
method:
  - sleep: "10 millis"
`

const drillsFile = (from: number, n: number) =>
  `timeZone: UTC
maxConcurrency: 20
allowed:
  - { from: "${new Date(from).toISOString()}", to: "${new Date(from + n * 1000).toISOString()}" }
drills:
  - { name: tick, experiment: tick.yaml, cron: "* * * * * *" }
`

interface Decision {
  readonly decision: string
  readonly plannedAt: number
  readonly runId?: string
}

const decisions = (out: string): ReadonlyArray<Decision> => {
  const f = path.join(out, "schedule.jsonl")
  if (!fs.existsSync(f)) return []
  return fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim() !== "").flatMap((l) => {
    try {
      const o = JSON.parse(l)
      return [{ decision: String(o.decision), plannedAt: Date.parse(o.plannedAt), runId: o.runId }]
    } catch {
      return []
    }
  })
}
