/**
 * (l) Durable drills on the cluster (three `faultline runner` processes, one throwaway
 * PostgreSQL 15 on this machine):
 *   - runner loss -> drill resumed: the runner in step 3 of test/durable/fixtures/resume.md is
 *     SIGKILLed; time from the kill to the next attempt's run starting on another runner (its
 *     first journal line), goal p95 <= 10 s; baseline: submit -> first attempt's run started
 *     (dispatch with nothing lost), measured in the same trials;
 *   - 100 scheduled drills across 3 runners: per drill, the firing instant -> its run started,
 *     and the firing -> the verdict journaled by the scheduler; baseline: the same drills file
 *     under one plain `faultline schedule` (no cluster). One drill firing every second for 100 s
 *     makes the 100 firings.
 * `node bench/durable.ts` runs these rows alone.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import * as C from "../test/integration/durable/cluster.ts"
import * as Pg from "../test/integration/slo/throwawayPostgres.ts"
import { percentile, type Row, row } from "./stats.ts"

const fixtures = path.join(C.root, "test/durable/fixtures")

const resumeTrials = async (db: string, tmp: string, trials: number, log: (l: string) => void) => {
  const kv = await C.freePort()
  const env = { FAULTLINE_DURABLE_KV: String(kv) }
  const runners = await Promise.all([1, 2, 3].map((i) => C.startRunner({ db, out: path.join(tmp, "loss", `r${i}`), name: `loss-r${i}`, env })))
  const resumed: Array<number> = []
  const dispatched: Array<number> = []
  try {
    for (let t = 0; t < trials; t++) {
      const key = `loss-${t}`
      const outs = runners.map((r) => r.out)
      const submittedAt = Date.now()
      const sub = C.submit([path.join(fixtures, "resume.md"), "--answers", path.join(fixtures, "resume-answers.yaml"), "--db", db, "--key", key, "--json"])
      const first = await C.waitFor(
        "step 3",
        60_000,
        () => C.runDirs(outs, `${key}-`).find((d) => C.journal(d).some((l) => l.event._tag === "StepStarted" && l.event.stepId === "watch"))
      )
      dispatched.push(C.journal(first)[0]!.wall - submittedAt)
      const i = runners.findIndex((r) => first.startsWith(r.out + path.sep))
      runners[i]!.child.kill("SIGKILL")
      const killedAt = Date.now()
      const second = await C.waitFor("the resumed attempt", 60_000, () => C.runDirs(outs, `${key}-`).find((d) => d !== first && C.journal(d).length > 0))
      resumed.push(C.journal(second)[0]!.wall - killedAt)
      await sub.done(90_000)
      await runners[i]!.exited
      runners[i] = await C.startRunner({ db, out: runners[i]!.out, name: runners[i]!.name, env })
      log(`  trial ${t + 1}/${trials}: resumed ${resumed.at(-1)} ms after the kill`)
    }
  } finally {
    await Promise.all(runners.map((r) => C.stopRunner(r)))
  }
  const p95 = percentile(resumed, 95)
  return row({
    name: `durable: runner loss -> drill resumed (${trials} kills, 3 runners)`,
    unit: "ms",
    baseline: percentile(dispatched, 50),
    measured: percentile(resumed, 50),
    p50: percentile(resumed, 50),
    p95,
    p99: percentile(resumed, 99),
    goal: "p95 <= 10000",
    met: p95 <= 10_000
  })
}

const experiment = (port: number) =>
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

const drillsFile = (from: number, seconds: number, drills: number) =>
  `timeZone: UTC
maxConcurrency: 40
allowed:
  - { from: "${new Date(from).toISOString()}", to: "${new Date(from + seconds * 1000).toISOString()}" }
drills:
${Array.from({ length: drills }, (_, i) => `  - { name: tick-${i}, experiment: tick.yaml, cron: "* * * * * *" }`).join("\n")}
`

interface Ran {
  readonly plannedAt: number
  readonly at: number
  readonly runId: string
  readonly drill: string
}

const ranIn = (out: string): ReadonlyArray<Ran> => {
  const f = path.join(out, "schedule.jsonl")
  if (!fs.existsSync(f)) return []
  return fs.readFileSync(f, "utf8").split("\n").filter((l) => l.includes("\"decision\":\"ran\"")).map((l) => {
    const o = JSON.parse(l)
    return { plannedAt: Date.parse(o.plannedAt), at: Date.parse(o.at), runId: String(o.runId), drill: String(o.drill) }
  })
}

// Per firing: planned -> run started (its first journal line), planned -> verdict journaled.
const latencies = (outs: ReadonlyArray<string>) => {
  const firstAt = new Map<string, number>()
  for (const d of C.runDirs(outs)) firstAt.set(path.basename(d), C.journal(d)[0]?.wall ?? Number.NaN)
  const byFiring = new Map<string, Ran>()
  for (const r of outs.flatMap(ranIn)) {
    const k = `${r.drill}@${r.plannedAt}`
    const seen = byFiring.get(k)
    if (seen === undefined || r.at < seen.at) byFiring.set(k, r)
  }
  const start = [...byFiring.values()].map((r) => firstAt.get(r.runId)! - r.plannedAt).filter(Number.isFinite)
  const verdict = [...byFiring.values()].map((r) => r.at - r.plannedAt)
  return { firings: byFiring.size, runs: firstAt.size, start, verdict }
}

const scheduled = async (db: string, tmp: string, log: (l: string) => void) => {
  const server = http.createServer((_q, s) => s.end("ok"))
  const port = await new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)))
  // One firing a second: each run spawns its watchdog (a node process), and more than one a
  // second saturates this 2-core machine's CPU for either engine.
  const seconds = 100
  const drills = 1
  try {
    // One plain runner (no cluster): the baseline.
    const single = path.join(tmp, "single")
    fs.mkdirSync(single, { recursive: true })
    fs.writeFileSync(path.join(single, "tick.yaml"), experiment(port))
    let from = Math.ceil((Date.now() + 10_000) / 1000) * 1000
    fs.writeFileSync(path.join(single, "drills.yaml"), drillsFile(from, seconds, drills))
    const plain = spawn(process.execPath, ["src/cli/main.ts", "schedule", path.join(single, "drills.yaml")], { cwd: C.root, stdio: "ignore" })
    await C.waitFor("the plain scheduler's 100 runs", 150_000, () => latencies([path.join(single, "faultline-runs")]).firings >= seconds * drills)
    plain.kill("SIGTERM")
    await new Promise((r) => plain.on("exit", r))
    const base = latencies([path.join(single, "faultline-runs")])
    log(`  one plain runner: ${base.firings} firings, ${base.runs} runs`)
    // Three durable runners sharing the same schedule.
    const shared = path.join(tmp, "shared")
    fs.mkdirSync(shared, { recursive: true })
    fs.writeFileSync(path.join(shared, "tick.yaml"), experiment(port))
    from = Math.ceil((Date.now() + 15_000) / 1000) * 1000
    fs.writeFileSync(path.join(shared, "drills.yaml"), drillsFile(from, seconds, drills))
    const runners = await Promise.all(
      [1, 2, 3].map((i) => C.startRunner({ db, out: path.join(shared, `r${i}`), name: `sched-r${i}`, schedule: path.join(shared, "drills.yaml") }))
    )
    const outs = runners.map((r) => r.out)
    try {
      await C.waitFor("the cluster's 100 runs", 180_000, () => latencies(outs).firings >= seconds * drills)
    } finally {
      await Promise.all(runners.map((r) => C.stopRunner(r)))
    }
    const dur = latencies(outs)
    log(`  three durable runners: ${dur.firings} firings, ${dur.runs} runs (${outs.map((o) => C.runDirs([o]).length).join("/")} per runner)`)
    const mk = (name: string, m: ReadonlyArray<number>, b: ReadonlyArray<number>, goal: string | null, met: boolean | null) =>
      row({
        name,
        unit: "ms",
        baseline: percentile(b, 50),
        measured: percentile(m, 50),
        p50: percentile(m, 50),
        p95: percentile(m, 95),
        p99: percentile(m, 99),
        goal,
        met
      })
    return [
      mk("durable: 100 scheduled drills, 3 runners: firing -> run started", dur.start, base.start, null, null),
      mk("durable: 100 scheduled drills, 3 runners: firing -> verdict", dur.verdict, base.verdict, null, null),
      row({
        name: "durable: 100 scheduled drills, 3 runners: runs",
        unit: "count",
        baseline: base.runs,
        measured: dur.runs,
        p50: null,
        p95: null,
        p99: null,
        goal: "= 100",
        met: dur.runs === 100
      })
    ]
  } finally {
    server.close()
  }
}

/** Runs (l1)-(l2); says why when PostgreSQL 15 is missing. */
export const run = async (options: { readonly log: (line: string) => void; readonly trials?: number }): Promise<ReadonlyArray<Row>> => {
  const missing = Pg.missing()
  if (missing !== null) {
    options.log(`  ${missing}: the durable rows are not measured`)
    return []
  }
  const pg = await Pg.start()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-durable-"))
  try {
    const rows: Array<Row> = [await resumeTrials(pg.url, tmp, options.trials ?? 10, options.log)]
    rows.push(...await scheduled(pg.url, tmp, options.log))
    return rows
  } finally {
    pg.stop()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { table } = await import("./stats.ts")
  const rows = await run({ log: (l) => process.stdout.write(`${l}\n`) })
  process.stdout.write(`${table(rows)}\n${JSON.stringify(rows, null, 2)}\n`)
}
