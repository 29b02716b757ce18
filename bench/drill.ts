/**
 * (k) Drills.
 *
 *   (k1) automated step -> next step: the engine's gap between one step's end and the next
 *        step's start (journal monotonic times), over drills of 200 automated steps run with
 *        their journal streamed to a file. Goal p99 <= 5 ms. Baseline: the gap between two
 *        consecutive journal appends with nothing between them, in the same drills.
 *   (k2) journal entry -> browser DOM: a note journaled in this process until headless
 *        Chromium shows it in the web live view (wall clock of this machine on both ends).
 *        Goal p95 <= 250 ms. Baseline: the same note's arrival on the page's event stream,
 *        before any rendering.
 *   (k3) a 2-hour drill's live page: the journal of a 2-hour drill (a hypothesis sampled every
 *        second, 60 steps, 600 notes) folded in, then 5 s of live updates at 20 entries/s;
 *        Chromium's frame time (requestAnimationFrame intervals) and the page's DOM size.
 *        Goals: frame p99 <= 100 ms, and a DOM no bigger than the same page 5 minutes into the
 *        drill plus the extra steps' rows (bounded). Baseline: the same page 5 minutes in.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Exit, Scope } from "effect"
import puppeteer from "puppeteer-core"
import * as Answers from "../src/drill/Answers.ts"
import * as Drill from "../src/drill/Drill.ts"
import type { Step, StepSpec } from "../src/drill/Step.ts"
import * as Web from "../src/drill/Web.ts"
import * as Journal from "../src/core/Journal.ts"
import * as DrillReport from "../src/report/DrillReport.ts"
import * as Runner from "../src/run/Runner.ts"
import { percentile, type Row, row, summary } from "./stats.ts"

const CHROMIUM = "/usr/bin/chromium"

const checkpointSteps = (n: number): ReadonlyArray<Step> =>
  Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    title: `step ${i}`,
    prose: "",
    spec: { kind: "checkpoint", action: i === n - 1 ? "stop" : "start" } as StepSpec,
    plannedMs: null,
    branch: null,
    at: `bench:${i}`
  }))

const gaps = (entries: ReadonlyArray<Journal.Entry>) => {
  const step: Array<number> = []
  const append: Array<number> = []
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1]!
    const b = entries[i]!
    if (a.event._tag === "StepEnded" && b.event._tag === "StepStarted") step.push(b.mono - a.mono)
    // Two appends with nothing between them: a checkpoint's Checkpoint -> StepEnded.
    if (a.event._tag === "Checkpoint" && b.event._tag === "StepEnded") append.push(b.mono - a.mono)
  }
  return { step, append }
}

const stepOverhead = async (log: (line: string) => void): Promise<ReadonlyArray<Row>> => {
  const drill = Drill.make(checkpointSteps(200), { name: "bench" })
  const step: Array<number> = []
  const append: Array<number> = []
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-drill-"))
  for (let trial = 0; trial < 6; trial++) {
    const entries: Array<Journal.Entry> = []
    await Effect.runPromise(
      Effect.gen(function*() {
        const facilitator = Answers.facilitator({ steps: {} })
        const { experiment, judge } = yield* Drill.toExperiment(drill, facilitator.runner)
        return yield* (Runner.run(experiment, { out, judge, onEntry: (e) => entries.push(e) }) as Effect.Effect<Runner.Outcome>)
      }).pipe(Effect.provide(Answers.layer({ steps: {} })))
    )
    if (trial === 0) continue
    const g = gaps(entries)
    step.push(...g.step)
    append.push(...g.append)
  }
  fs.rmSync(out, { recursive: true, force: true })
  log(`  step -> next step: ${summary(step)}; append -> append: ${summary(append)}`)
  const p99 = percentile(step, 99)
  return [
    row({
      name: "drill: automated step -> next step",
      unit: "ms",
      baseline: percentile(append, 99),
      measured: p99,
      p50: percentile(step, 50),
      p95: percentile(step, 95),
      p99,
      goal: "p99 <= 5",
      met: p99 <= 5
    })
  ]
}

// A journal in memory whose entries feed a live state and a web view, as the CLI does.
const liveRoom = async (runbook: string) => {
  const state = DrillReport.empty()
  const runner = { name: "Ada", user: "bench", via: "library" as const }
  const scope = Effect.runSync(Scope.make())
  const web = await Effect.runPromise(Web.serve({ host: "127.0.0.1", port: 0, state, runner, title: runbook, runbook: null }).pipe(Scope.provide(scope)))
  const served = { web, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
  const journal = await Effect.runPromise(Journal.make({
    runId: "bench",
    onEntry: (e) => {
      DrillReport.step(state, e)
      served.web.changed(e)
    }
  }))
  const append = (event: Journal.Event) => Effect.runSync(journal.append(event))
  return { state, web: served.web, close: served.close, append, runner }
}

const drillStarted = (runner: Journal.Actor, steps: number): Journal.Event => ({
  _tag: "DrillStarted",
  runbook: "bench",
  service: "svc",
  tier: "1",
  objectives: { rtoMs: 60_000, rpoMs: null },
  roles: ["lead"],
  runner,
  steps: Array.from({ length: steps }, (_, i) => ({ stepId: `s${i}`, title: `Step ${i}`, kind: "manual", plannedMs: 60_000, branch: null }))
})

const launch = () => puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] })

const domLatency = async (log: (line: string) => void): Promise<ReadonlyArray<Row>> => {
  const room = await liveRoom("dom latency")
  const browser = await launch()
  try {
    room.append({
      _tag: "RunStarted",
      experiment: "bench",
      dryRun: false,
      hypotheses: [],
      objectives: { rtoMs: null, rpoMs: null },
      rto: null,
      rpo: null,
      abort: []
    })
    room.append(drillStarted(room.runner, 12))
    const page = await browser.newPage()
    await page.goto(room.web.url)
    await page.waitForSelector("#steps tbody tr")
    // The page records when each note is on the event stream and when it is in the DOM.
    await page.evaluate(`(() => {
      const d = document, w = window;
      w.__seen = {}; w.__arrived = {};
      const token = new URLSearchParams(location.hash.slice(1)).get("token");
      const es = new EventSource("/events?token=" + encodeURIComponent(token));
      es.addEventListener("state", (e) => { for (const m of e.data.matchAll(/bench-note-(\\d+)/g)) w.__arrived[m[1]] ??= Date.now(); });
      new MutationObserver(() => { for (const li of d.querySelectorAll("#notes li")) { const m = /bench-note-(\\d+)/.exec(li.textContent); if (m) w.__seen[m[1]] ??= Date.now(); } })
        .observe(d.getElementById("notes"), { childList: true, subtree: true, characterData: true });
    })()`)
    await new Promise((r) => setTimeout(r, 500))
    const sent: Record<number, number> = {}
    for (let i = 0; i < 120; i++) {
      sent[i] = Date.now()
      room.append({ _tag: "DrillNote", stepId: null, actor: room.runner, text: `bench-note-${i}` })
      await new Promise((r) => setTimeout(r, 40 + (i % 7) * 5))
    }
    await new Promise((r) => setTimeout(r, 1000))
    const { seen, arrived } = await page.evaluate(`({ seen: window.__seen, arrived: window.__arrived })`) as {
      seen: Record<string, number>
      arrived: Record<string, number>
    }
    const dom = Object.entries(sent).flatMap(([i, t]) => seen[i] === undefined ? [] : [seen[i]! - t]).slice(10)
    const stream = Object.entries(sent).flatMap(([i, t]) => arrived[i] === undefined ? [] : [arrived[i]! - t]).slice(10)
    log(`  entry -> DOM: ${summary(dom)}; entry -> event stream: ${summary(stream)}; seen ${Object.keys(seen).length}/120`)
    const p95 = percentile(dom, 95)
    return [
      row({
        name: "drill web: journal entry -> browser DOM",
        unit: "ms",
        baseline: percentile(stream, 95),
        measured: p95,
        p50: percentile(dom, 50),
        p95,
        p99: percentile(dom, 99),
        goal: "p95 <= 250",
        met: p95 <= 250 && Object.keys(seen).length === 120
      })
    ]
  } finally {
    await browser.close()
    await room.close()
  }
}

// Folds `minutes` of a drill into the room: a sample a second, a step every 2 minutes, 5 notes a minute.
const simulate = (room: Awaited<ReturnType<typeof liveRoom>>, minutes: number) => {
  let sampleMono = 0
  for (let m = 0; m < minutes; m++) {
    if (m % 2 === 0 && m / 2 < 60) room.append({ _tag: "StepStarted", stepId: `s${m / 2}`, kind: "manual", title: `Step ${m / 2}`, instructions: "do it" })
    for (let s = 0; s < 60; s++) {
      sampleMono += 1000
      room.append({
        _tag: "Sample",
        hypothesis: "serves",
        phase: "during",
        sample: { at: 1_800_000_000_000 + sampleMono, mono: sampleMono, ok: s % 17 !== 0, latencyMs: 3 }
      })
    }
    for (let n = 0; n < 5; n++) room.append({ _tag: "DrillNote", stepId: null, actor: room.runner, text: `note ${m}.${n}` })
    if (m % 2 === 1 && (m - 1) / 2 < 60) {
      room.append({ _tag: "StepEnded", stepId: `s${(m - 1) / 2}`, outcome: "done", actor: room.runner, evidence: {}, approvers: [], detail: "" })
    }
  }
}

const frames = async (room: Awaited<ReturnType<typeof liveRoom>>) => {
  const browser = await launch()
  try {
    const page = await browser.newPage()
    await page.goto(room.web.url)
    await page.waitForSelector("#steps tbody tr")
    await page.evaluate(`(() => { const w = window; w.__frames = []; let last = performance.now();
      const tick = (t) => { w.__frames.push(t - last); last = t; if (w.__frames.length < 100000) requestAnimationFrame(tick); }; requestAnimationFrame(tick); })()`)
    // 5 s of a live drill: 20 entries a second (samples and notes).
    for (let i = 0; i < 100; i++) {
      room.append({ _tag: "DrillNote", stepId: null, actor: room.runner, text: `live ${i}` })
      await new Promise((r) => setTimeout(r, 50))
    }
    const f = await page.evaluate(`window.__frames.slice(1)`) as Array<number>
    const dom = await page.evaluate(`document.getElementsByTagName("*").length`) as number
    const bytes = await page.evaluate(`document.documentElement.outerHTML.length`) as number
    return { f, dom, bytes }
  } finally {
    await browser.close()
  }
}

const longDrill = async (log: (line: string) => void): Promise<ReadonlyArray<Row>> => {
  const results: Array<{ minutes: number; f: Array<number>; dom: number; bytes: number }> = []
  for (const minutes of [5, 120]) {
    const room = await liveRoom(`${minutes} minutes`)
    room.append({
      _tag: "RunStarted",
      experiment: "bench",
      dryRun: false,
      hypotheses: [],
      objectives: { rtoMs: null, rpoMs: null },
      rto: null,
      rpo: null,
      abort: []
    })
    room.append(drillStarted(room.runner, 60))
    simulate(room, minutes)
    const r = await frames(room)
    await room.close()
    results.push({ minutes, ...r })
    log(`  ${minutes} min in: ${room.state.entries} entries folded; frames ${summary(r.f)}; DOM ${r.dom} elements, ${r.bytes} bytes`)
  }
  const [early, late] = [results[0]!, results[1]!]
  const p99 = percentile(late.f, 99)
  return [
    row({
      name: "drill web: 2-hour drill, frame time",
      unit: "ms",
      baseline: percentile(early.f, 99),
      measured: p99,
      p50: percentile(late.f, 50),
      p95: percentile(late.f, 95),
      p99,
      goal: "p99 <= 100",
      met: p99 <= 100
    }),
    row({
      name: "drill web: 2-hour drill, DOM elements",
      unit: "count",
      baseline: early.dom,
      measured: late.dom,
      p50: null,
      p95: null,
      p99: null,
      goal: "<= 5-minute page x 1.5",
      met: late.dom <= early.dom * 1.5
    })
  ]
}

/** Runs (k1)-(k3); the browser rows say why when Chromium is missing. @since 0.1.0 */
export const run = async (options: { readonly log: (line: string) => void }): Promise<ReadonlyArray<Row>> => {
  const rows: Array<Row> = [...await stepOverhead(options.log)]
  if (!fs.existsSync(CHROMIUM)) {
    options.log(`  ${CHROMIUM} is missing: the browser rows are not measured`)
    return rows
  }
  rows.push(...await domLatency(options.log))
  rows.push(...await longDrill(options.log))
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { table } = await import("./stats.ts")
  const rows = await run({ log: (l) => process.stdout.write(`${l}\n`) })
  process.stdout.write(`${table(rows)}\n`)
}
