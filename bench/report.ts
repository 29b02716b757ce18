/**
 * (j) Reports of long runs: the HTML report of a 1-hour run (a probe every 10 ms: 336 000
 * journal entries) — its size, the time to fold the journal file into every report, and its
 * render time in headless Chromium (Debian's, through puppeteer-core), each beside a baseline
 * measured in the same run: a 12-second run's report, and the JSON/Markdown report folded alone.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect } from "effect"
import puppeteer from "puppeteer-core"
import * as Report from "../src/report/Report.ts"
import * as FileJournal from "../src/run/FileJournal.ts"
import * as Runner from "../src/run/Runner.ts"
import * as Synthetic from "../test/fixtures/syntheticJournal.ts"
import { percentile, type Row, row, summary } from "./stats.ts"

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const HOUR: Synthetic.Spec = {
  runId: "one-hour",
  durationMs: 3_600_000,
  everyMs: 10,
  fault: { at: 600_000, until: 1_200_000 },
  outage: { from: 605_000, to: 640_000 },
  rpo: { everyMs: 100, lostFrom: 590_000, lostTo: 600_000 }
}
const SHORT: Synthetic.Spec = { runId: "short", durationMs: 12_000, everyMs: 10, fault: { at: 3000, until: 9000 }, outage: { from: 3300, to: 4600 } }

const timed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}

export const run = async (options: { readonly trials: number; readonly log: (line: string) => void }): Promise<Array<Row>> => {
  const { log } = options
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-report-"))
  const provide = <A, E>(e: Effect.Effect<A, E, any>) => Effect.runPromise(e.pipe(Effect.provide(NodeFileSystem.layer)) as Effect.Effect<A, E>)
  try {
    Synthetic.write(path.join(dir, "hour"), HOUR)
    Synthetic.write(path.join(dir, "short"), SHORT)
    const journal = path.join(dir, "hour", "journal.jsonl")
    log(`  1-hour journal: ${(fs.statSync(journal).size / 1e6).toFixed(1)} MB`)
    const folds: Array<number> = []
    const alone: Array<number> = []
    for (let i = 0; i < 3; i++) {
      alone.push(await timed(() => provide(FileJournal.fold(journal, Report.fold()))))
      folds.push(await timed(() => provide(Runner.writeReport(path.join(dir, "hour")))))
    }
    await provide(Runner.writeReport(path.join(dir, "short")))
    log(`  fold + write json, md, html: ${summary(folds)}; JSON/Markdown fold alone: ${summary(alone)}`)
    const size = fs.statSync(path.join(dir, "hour", "report.html")).size
    const shortSize = fs.statSync(path.join(dir, "short", "report.html")).size
    log(`  report.html: ${size} bytes (12-second run: ${shortSize} bytes)`)
    const rows: Array<Row> = [
      row({
        name: "HTML report size, 1-hour run (10 ms probe)",
        unit: "bytes",
        baseline: shortSize,
        measured: size,
        p50: null,
        p95: null,
        p99: null,
        goal: "< 2 MB",
        met: size < 2 * 1024 * 1024
      }),
      row({
        name: "reports folded from the 1-hour journal file (json+md+html)",
        unit: "ms",
        baseline: percentile(alone, 50),
        measured: percentile(folds, 50),
        p50: percentile(folds, 50),
        p95: percentile(folds, 95),
        p99: null,
        goal: null,
        met: null
      })
    ]
    if (!fs.existsSync(CHROMIUM)) {
      log(`  ${CHROMIUM} is not installed: no render row`)
      return rows
    }
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const render = async (file: string) => {
        const page = await browser.newPage()
        await page.setViewport({ width: 1280, height: 900 })
        const ms = await timed(async () => {
          await page.goto(pathToFileURL(file).href, { waitUntil: "load" })
          await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        })
        await page.close()
        return ms
      }
      await render(path.join(dir, "short", "report.html"))
      const hour: Array<number> = []
      const short: Array<number> = []
      for (let i = 0; i < options.trials; i++) {
        short.push(await render(path.join(dir, "short", "report.html")))
        hour.push(await render(path.join(dir, "hour", "report.html")))
      }
      log(`  render (load + 2 frames): 1-hour ${summary(hour)}; 12-second ${summary(short)}`)
      rows.push(row({
        name: "HTML report render in Chromium, 1-hour run",
        unit: "ms",
        baseline: percentile(short, 50),
        measured: percentile(hour, 50),
        p50: percentile(hour, 50),
        p95: percentile(hour, 95),
        p99: percentile(hour, 99),
        goal: "< 1000 ms",
        met: percentile(hour, 95) < 1000
      }))
    } finally {
      await browser.close()
    }
    return rows
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// `node bench/report.ts`: this section alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  run({ trials: 10, log: (l) => process.stdout.write(`${l}\n`) }).then((rows) => process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`))
}
