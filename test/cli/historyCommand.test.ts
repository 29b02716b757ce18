/**
 * `faultline run --history`, `history`, `services`, `blast-radius` and `schedule --once`
 * end to end, as processes (the CLI from its sources): runs are indexed into a real SQLite
 * database; a corrupt or locked database is one line and exit 2 and never loses the run; the
 * index is rebuilt from the run folders; a Tier 0 service needs --allow-tier-0; an
 * error-budget guard over the history refuses (exit 3).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const binDir = path.join(root, "node_modules", ".bin")
const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`, FAULTLINE_HISTORY: "", FAULTLINE_SERVICES: "" }
const fixture = path.join(root, "test/fixtures/quick-kv.yaml")

const cli = (args: ReadonlyArray<string>, cwd: string, timeoutMs = 60_000) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(path.join(binDir, "node"), [path.join(root, "src/cli/main.ts"), ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => void (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c: string) => void (stderr += c))
    const timer = setTimeout(() => {
      child.kill("SIGTERM")
      reject(new Error(`faultline ${args.join(" ")} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

const dirs: Array<string> = []
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-history-"))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

const catalog = (tier: number) => `
tiers:
  "${tier}": { rto: "3 minutes" }
services:
  - { name: kv, tier: ${tier}, owners: [storage] }
  - { name: api, tier: 1, owners: [web], dependencies: [kv] }
  - { name: shop, tier: 2, owners: [shop], dependencies: [api] }
`
const runFolders = (out: string) => fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, "report.json")))

describe("faultline history", () => {
  it("indexes each run and reports it per service; an objective nothing measures is not inherited", async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "services.yaml"), catalog(1))
    const r = await cli(["run", fixture, "--history", "h.db", "--out", "runs"], dir)
    assert.strictEqual(r.code, 0, r.stderr)
    const report = JSON.parse(fs.readFileSync(path.join(dir, "runs", runFolders(path.join(dir, "runs"))[0]!, "report.json"), "utf8"))
    assert.deepStrictEqual(report.definition.service, { name: "kv", tier: 1 })
    assert.strictEqual(report.definition.objectives.rtoMs, null)
    const h = await cli(["history", "--history", "h.db", "--service", "kv", "--json"], dir)
    assert.strictEqual(h.code, 0, h.stderr)
    const j = JSON.parse(h.stdout)
    assert.strictEqual(j.overall.runs, 1)
    assert.strictEqual(j.overall.passRate, 1)
    const none = JSON.parse((await cli(["history", "--history", "h.db", "--service", "api", "--json"], dir)).stdout)
    assert.strictEqual(none.overall.runs, 0)
    const text = await cli(["history", "--history", "h.db"], dir)
    assert.match(text.stdout, /runs: 1 indexed, 1 ran a drill, 1 passed — pass rate 100\.0%/)
  })

  it("a corrupt database: exit 2, one line, the run folder kept; --reindex rebuilds the index from the folders", async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "h.db"), "this is not a database, it is a text file that is long enough".repeat(20))
    const r = await cli(["run", fixture, "--history", "h.db", "--out", "runs", "--json"], dir)
    assert.strictEqual(r.code, 2)
    assert.strictEqual(JSON.parse(r.stdout).status, "passed", "the run itself passed and printed its report")
    assert.match(r.stderr, /^faultline: history h\.db: corrupt: .*; the run folder .* is kept \(`faultline history --reindex` indexes it later\)\n$/)
    assert.strictEqual(runFolders(path.join(dir, "runs")).length, 1, "the run is not lost")
    const h = await cli(["history", "--history", "h.db"], dir)
    assert.strictEqual(h.code, 2)
    assert.strictEqual(h.stderr.split("\n").filter(Boolean).length, 1)
    assert.notMatch(h.stderr, /^\s{4}at /m)
    fs.rmSync(path.join(dir, "h.db"))
    const re = await cli(["history", "--history", "h.db", "--out", "runs", "--reindex"], dir)
    assert.strictEqual(re.code, 0, re.stderr)
    assert.match(re.stdout, /^indexed 1 runs from runs into h\.db/)
    assert.strictEqual(JSON.parse((await cli(["history", "--history", "h.db", "--json"], dir)).stdout).overall.runs, 1)
  })

  it("a locked database: exit 2 naming the lock", async () => {
    const dir = tmp()
    assert.strictEqual((await cli(["history", "--history", "h.db"], dir)).code, 0)
    const db = new DatabaseSync(path.join(dir, "h.db"))
    db.exec("BEGIN EXCLUSIVE")
    try {
      const re = await cli(["history", "--history", "h.db", "--out", dir, "--reindex"], dir)
      assert.strictEqual(re.code, 2)
      assert.match(re.stderr, /^faultline: history h\.db: locked: database is locked\n$/)
    } finally {
      db.exec("ROLLBACK")
      db.close()
    }
  })

  it("a Tier 0 service needs --allow-tier-0; plan does not", async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "services.yaml"), catalog(0))
    const refused = await cli(["run", fixture, "--out", "runs"], dir)
    assert.strictEqual(refused.code, 2)
    assert.strictEqual(
      refused.stderr,
      "faultline: service kv is Tier 0: an experiment on it needs an explicit approval (--allow-tier-0, or `approvedBy` on its scheduled drill)\n"
    )
    assert.isFalse(fs.existsSync(path.join(dir, "runs")) && runFolders(path.join(dir, "runs")).length > 0)
    assert.strictEqual((await cli(["run", fixture, "--out", "runs", "--allow-tier-0"], dir)).code, 0)
  })

  it("services and blast-radius print the catalog and the transitive dependents", async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "services.yaml"), catalog(1))
    const s = await cli(["services"], dir)
    assert.strictEqual(s.code, 0, s.stderr)
    assert.match(s.stdout, /kv {2}tier 1 {2}owners storage {2}RTO 3 minutes/)
    const b = JSON.parse((await cli(["blast-radius", "kv", "--json"], dir)).stdout)
    assert.deepStrictEqual(b.dependents.map((d: { name: string; via: Array<string> }) => [d.name, d.via]), [["api", ["kv"]], ["shop", ["kv", "api"]]])
    fs.writeFileSync(path.join(dir, "bad.yaml"), "services:\n  - { name: kv, tier: 1, owners: [a], dependencies: [nope] }\n")
    const bad = await cli(["services", "--services", "bad.yaml"], dir)
    assert.strictEqual(bad.code, 2)
    assert.strictEqual(bad.stderr, `faultline: bad.yaml: no service named "nope" at services[0].dependencies[0]\n`)
    fs.writeFileSync(path.join(dir, "typo.yaml"), "services:\n  - { name: kv, tier: 1, owner: [a] }\n")
    const typo = await cli(["services", "--services", "typo.yaml"], dir)
    assert.strictEqual(typo.code, 2)
    assert.match(typo.stderr, /^faultline: typo\.yaml: .*owner.*\n$/)
  })

  it("schedule --once runs the due drill, journals it, indexes it; a spent budget skips the next with its reason", async () => {
    const dir = tmp()
    fs.copyFileSync(fixture, path.join(dir, "drill.yaml"))
    const slo = `{ name: kv drills pass, sli: { history: { experiment: "quick kv drill" } }, objective: 0.99, window: "28 days" }`
    fs.writeFileSync(
      path.join(dir, "drills.yaml"),
      `
history: h.db
drills:
  - { name: kv, experiment: drill.yaml, cron: "* * * * * *", targets: ["process:kv"] }
`
    )
    const r = await cli(["schedule", "drills.yaml", "--once", "--grace", "2 seconds"], dir)
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /kv: started/)
    assert.match(r.stdout, /kv: ran passed \(run /)
    const journal = fs.readFileSync(path.join(dir, "faultline-runs", "schedule.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    assert.deepStrictEqual(journal.map((d) => d.decision), ["started", "ran"])
    assert.strictEqual(journal[1].prev.length, 64)
    assert.strictEqual(fs.statSync(path.join(dir, "faultline-runs", "schedule.jsonl")).mode & 0o777, 0o600)
    // Mark the indexed run failed: the history SLI then has no budget left.
    const db = new DatabaseSync(path.join(dir, "h.db"))
    db.exec("UPDATE runs SET status = 'deviated'")
    db.close()
    fs.writeFileSync(
      path.join(dir, "drills.yaml"),
      `
history: h.db
drills:
  - { name: kv, experiment: drill.yaml, cron: "* * * * * *", errorBudget: { slo: ${slo}, minRemaining: 0.5 } }
`
    )
    const s = await cli(["schedule", "drills.yaml", "--once", "--grace", "2 seconds"], dir)
    assert.strictEqual(s.code, 0, s.stderr)
    assert.match(s.stdout, /kv: skipped — budget: kv drills pass: -9900\.0% of the error budget left \(1 bad of 1 events\), needs 50\.0%/)
  })

  it("an error-budget guard in an experiment file refuses the run (exit 3) from the history", async () => {
    const dir = tmp()
    const h = path.join(dir, "h.db")
    const db = new DatabaseSync(h)
    db.close()
    assert.strictEqual((await cli(["history", "--history", h], dir)).code, 0)
    const now = Date.now()
    const db2 = new DatabaseSync(h)
    db2.prepare(
      "INSERT INTO runs (run_id, experiment, service, tier, status, cleanup, started_at, report_path) VALUES ('x', 'e', 'kv', 1, 'failed', 'ok', ?, '/x')"
    ).run(now - 60_000)
    db2.close()
    const text = fs.readFileSync(fixture, "utf8") +
      `guards:\n  - errorBudget:\n      slo: { name: kv runs, sli: { history: { service: kv } }, objective: 0.9, window: "7 days" }\n      minRemaining: 0.1\n`
    fs.writeFileSync(path.join(dir, "gated.yaml"), text)
    const r = await cli(["run", "gated.yaml", "--history", h, "--out", "runs"], dir)
    assert.strictEqual(r.code, 3, r.stderr + r.stdout)
    assert.match(r.stdout, /refused/)
  })

  it("a file whose error-budget guard passes still starts its processes and runs", async () => {
    const dir = tmp()
    const text = fs.readFileSync(path.join(root, "test/fixtures/kill-one.yaml"), "utf8") +
      `guards:\n  - errorBudget:\n      slo: { name: kv runs, sli: { history: { service: kv } }, objective: 0.9, window: "7 days" }\n      minRemaining: 0.1\n`
    fs.writeFileSync(path.join(dir, "gated.yaml"), text)
    const r = await cli(["run", "gated.yaml", "--history", "h.db", "--out", "runs", "--json"], dir)
    assert.strictEqual(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.strictEqual(report.status, "passed")
    assert.strictEqual(report.faults.length, 1)
  })

  it("monitor records good/total buckets that a monitor SLI then reads", async () => {
    const dir = tmp()
    const m = await cli(["monitor", fixture, "--history", "h.db", "--bucket", "1 second", "--duration", "4 seconds"], dir)
    assert.strictEqual(m.code, 0, m.stderr)
    assert.match(m.stdout, /probe succeeds: \d+\/\d+ good/)
    const db = new DatabaseSync(path.join(dir, "h.db"))
    const rows = db.prepare("SELECT good, total FROM monitor_events WHERE name = 'probe succeeds'").all() as Array<{ good: number; total: number }>
    db.close()
    assert.isAtLeast(rows.length, 2)
    assert.isTrue(rows.every((r) => r.good === r.total && r.total > 0))
    const text = fs.readFileSync(fixture, "utf8") +
      `guards:\n  - errorBudget:\n      slo: { name: probe, sli: { monitor: probe succeeds }, objective: 0.99, window: "1 hour" }\n      minRemaining: 0.9\n`
    fs.writeFileSync(path.join(dir, "gated.yaml"), text)
    const r = await cli(["run", "gated.yaml", "--history", "h.db", "--out", "runs", "--json"], dir)
    assert.strictEqual(r.code, 0, r.stderr)
    const journal = fs.readFileSync(path.join(dir, "runs", runFolders(path.join(dir, "runs"))[0]!, "journal.jsonl"), "utf8")
    assert.match(
      journal,
      /"GuardChecked","guard":"errorBudget\(probe >= 0.9\)","ok":true,"detail":"probe: 100.0% of the error budget left \(0 bad of \d+ events\)/
    )
  })

  it("SIGTERM stops the scheduler: the running drill is interrupted, its fault reverted, its report written", async () => {
    const dir = tmp()
    fs.copyFileSync(path.join(root, "test/fixtures/pause-long.yaml"), path.join(dir, "drill.yaml"))
    fs.writeFileSync(path.join(dir, "drills.yaml"), `drills:\n  - { name: long, experiment: drill.yaml, cron: "* * * * * *" }\n`)
    const child = spawn(path.join(binDir, "node"), [path.join(root, "src/cli/main.ts"), "schedule", "drills.yaml"], {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => void (stdout += c))
    child.stderr.resume()
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    const journal = path.join(dir, "faultline-runs", "schedule.jsonl")
    const deadline = Date.now() + 30_000
    // Wait until the fault is in place (the run's journal records it).
    const injected = () =>
      fs.existsSync(path.join(dir, "faultline-runs")) &&
      fs.readdirSync(path.join(dir, "faultline-runs")).some((d) => {
        const j = path.join(dir, "faultline-runs", d, "journal.jsonl")
        return fs.existsSync(j) && fs.readFileSync(j, "utf8").includes("\"FaultInjected\"")
      })
    while (!injected()) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL")
        throw new Error(`the drill never injected its fault\n${stdout}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill("SIGTERM")
    const code = await exited
    assert.strictEqual(code, 130, stdout)
    const lines = fs.readFileSync(journal, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    // The drill fires every second: while it runs, later firings are skipped over the cap.
    assert.strictEqual(lines[0].decision, "started")
    assert.strictEqual(lines.at(-1).decision, "interrupted")
    assert.isTrue(lines.slice(1, -1).every((d: { decision: string; reason: string }) => d.decision === "skipped" && d.reason.startsWith("concurrency")))
    const runs = runFolders(path.join(dir, "faultline-runs"))
    const report = JSON.parse(fs.readFileSync(path.join(dir, "faultline-runs", runs[0]!, "report.json"), "utf8"))
    assert.strictEqual(report.status, "interrupted")
    assert.strictEqual(report.cleanup, "ok")
    const journalText = fs.readFileSync(path.join(dir, "faultline-runs", runs[0]!, "journal.jsonl"), "utf8")
    assert.include(journalText, "\"FaultReverted\"")
  })
})
