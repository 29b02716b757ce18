/**
 * The HTML report in a real browser: Debian's Chromium, headless, driven by puppeteer-core
 * (no browser download). The page of a 1-hour run loads with no console error and no
 * request beyond itself; the fault bars and the RTO bracket sit where the journal's times
 * put them (element boxes against the times); it renders well under a second; a screenshot
 * is written to test-output/ (and to docs/report-screenshot.png with FAULTLINE_UPDATE_DOCS=1).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect } from "effect"
import puppeteer, { type Browser, type Page } from "puppeteer-core"
import { afterAll, assert, beforeAll, it } from "vitest"
import * as Html from "../../src/report/Html.ts"
import * as Runner from "../../src/run/Runner.ts"
import { describeWith } from "../integration/require.ts"
import * as Synthetic from "../fixtures/syntheticJournal.ts"

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const missing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (Debian package chromium)`
const OUTPUT = path.resolve("test-output")

// One hour, a probe every 10 ms, a fault in place for 10 minutes with a 40 s outage, 10 s of
// acknowledged writes lost: 336 000 journal entries.
export const HOUR: Synthetic.Spec = {
  runId: "one-hour",
  experiment: "primary loss, one hour",
  durationMs: 3_600_000,
  everyMs: 10,
  fault: { at: 600_000, until: 1_200_000 },
  outage: { from: 605_000, to: 640_000 },
  rpo: { everyMs: 100, lostFrom: 590_000, lostTo: 600_000 },
  rtoObjectiveMs: 30_000
}

const SHORT: Synthetic.Spec = {
  runId: "20261129T100000Z-demo01",
  experiment: "kv primary loss",
  durationMs: 12_000,
  everyMs: 20,
  fault: { at: 3000, until: 9000 },
  outage: { from: 3300, to: 4600 },
  rpo: { everyMs: 50, lostFrom: 2850, lostTo: 3000 }
}

const open = async (browser: Browser, file: string, scheme: "light" | "dark" = "light") => {
  const page = await browser.newPage()
  const errors: Array<string> = []
  const requests: Array<string> = []
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()))
  page.on("pageerror", (e) => errors.push(String(e)))
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`))
  page.on("request", (r) => requests.push(r.url()))
  await page.setViewport({ width: 1280, height: 900 })
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }])
  const t0 = performance.now()
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" })
  // Rendered: layout done and a frame painted.
  await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
  const renderMs = performance.now() - t0
  return { page, errors, requests, renderMs }
}

// Where a time should land on the page: the svg's plot edges (in its units) scaled to its box.
const expectedX = async (page: Page, ms: number): Promise<number> =>
  page.evaluate(`(() => {
    const svg = document.querySelector("#timeline")
    const box = svg.getBoundingClientRect()
    const x0 = Number(svg.dataset.x0), x1 = Number(svg.dataset.x1), span = Number(svg.dataset.spanMs), width = Number(svg.dataset.width)
    return box.left + (x0 + (${ms} / span) * (x1 - x0)) * (box.width / width)
  })()`) as Promise<number>
const boxOf = async (page: Page, selector: string) =>
  page.$eval(selector, (el) => {
    const b = el.getBoundingClientRect()
    return { left: b.left, right: b.right, width: b.width }
  })

describeWith("HTML report in Chromium", missing, () => {
  let browser: Browser
  let dir: string
  let journal: Array<{ t: number; tag: string; event: any }>
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-html-"))
    Synthetic.write(path.join(dir, "one-hour"), HOUR)
    journal = Synthetic.events(HOUR).map((e) => ({ t: e.t, tag: e.event._tag, event: e.event }))
    // Exactly what the runner does at the end of a run: fold the journal file, write the reports.
    await Effect.runPromise(Runner.writeReport(path.join(dir, "one-hour")).pipe(Effect.provide(NodeFileSystem.layer)))
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("the 1-hour run's report is under 2 MB, loads with no console error and fetches nothing", async () => {
    const file = path.join(dir, "one-hour", "report.html")
    assert.isBelow(fs.statSync(file).size, 2 * 1024 * 1024)
    const { page, errors, requests, renderMs } = await open(browser, file)
    assert.deepStrictEqual(errors, [])
    assert.deepStrictEqual(requests.filter((u) => !u.startsWith("file:")), [])
    // The goal is 1 s (bench/report.ts measures it); the bound here allows for a loaded CI machine.
    assert.isBelow(renderMs, 5000)
    const headings = await page.$$eval("h1, h2", (hs) => hs.map((h) => h.textContent))
    assert.includeMembers(headings, ["Timeline", "Verdict and why", "Objectives vs measured", "Phases", "Faults", "Environment", "Experiment definition"])
    // Accessible: a language, a labelled drawing, captioned tables with column headers, labelled marks.
    const a11y = await page.evaluate(`({
      lang: document.documentElement.lang,
      svgLabel: document.querySelector("#timeline").getAttribute("aria-labelledby").split(" ").map((id) => document.getElementById(id)?.textContent ?? null),
      tables: document.querySelectorAll("table").length,
      captioned: document.querySelectorAll("table > caption").length,
      headed: [...document.querySelectorAll("table")].every((t) => t.querySelector("th[scope=col]") !== null),
      unlabelledMarks: [...document.querySelectorAll(".fault-bar, .rto-bracket, .rpo-window, .abort-marker")].filter((g) => !g.getAttribute("aria-label")).length,
      untitledRects: [...document.querySelectorAll("#timeline rect")].filter((r) => r.querySelector("title") === null && !r.closest("pattern")).length
    })`) as { lang: string; svgLabel: Array<string | null>; tables: number; captioned: number; headed: boolean; unlabelledMarks: number; untitledRects: number }
    assert.strictEqual(a11y.lang, "en")
    assert.isTrue(a11y.svgLabel.every((t) => t !== null && t.length > 0))
    assert.strictEqual(a11y.captioned, a11y.tables)
    assert.isTrue(a11y.headed)
    assert.strictEqual(a11y.unlabelledMarks, 0)
    assert.strictEqual(a11y.untitledRects, 0)
    fs.mkdirSync(OUTPUT, { recursive: true })
    await page.screenshot({ path: path.join(OUTPUT, "report-one-hour.png"), fullPage: true })
    await page.close()
  })

  it("fault bars and the RTO bracket sit where the journal's times put them", async () => {
    const { page } = await open(browser, path.join(dir, "one-hour", "report.html"))
    const at = (tag: string) => journal.find((e) => e.tag === tag)!.t
    const report = JSON.parse(fs.readFileSync(path.join(dir, "one-hour", "report.json"), "utf8"))
    const injected = at("FaultInjected")
    const reverted = at("FaultReverted")
    const fault = await boxOf(page, ".fault-bar rect")
    assert.closeTo(fault.left, await expectedX(page, injected), 1.5)
    assert.closeTo(fault.right, await expectedX(page, reverted), 1.5)
    // RTO: from the injection, detect up to the first bad sample, recover up to recovery.
    const detect = await boxOf(page, ".rto-bracket [data-part=\"detect\"]")
    const recover = await boxOf(page, ".rto-bracket [data-part=\"recover\"]")
    assert.closeTo(detect.left, await expectedX(page, injected), 1.5)
    assert.closeTo(detect.right, await expectedX(page, injected + report.rto.detectMs), 1.5)
    assert.closeTo(recover.left, await expectedX(page, injected + report.rto.detectMs), 1.5)
    assert.closeTo(recover.right, await expectedX(page, injected + report.rto.measuredMs), 1.5)
    assert.isAbove(recover.width, detect.width)
    await page.close()
  })

  it("an aborted run shows its abort marker at the journal's time; dark mode and print work", async () => {
    const d = path.join(dir, "aborted")
    Synthetic.write(d, { ...SHORT, runId: "aborted", abortAt: 7000 })
    await Effect.runPromise(Runner.writeReport(d).pipe(Effect.provide(NodeFileSystem.layer)))
    const light = await open(browser, path.join(d, "report.html"))
    const dark = await open(browser, path.join(d, "report.html"), "dark")
    assert.deepStrictEqual([...light.errors, ...dark.errors], [])
    const abortAt = Synthetic.events({ ...SHORT, abortAt: 7000 }).find((e) => e.event._tag === "AbortFired")!.t
    const line = await dark.page.$eval(".abort-marker line", (el) => el.getBoundingClientRect().left)
    assert.closeTo(line, await expectedX(dark.page, abortAt), 1.5)
    const bg = (p: Page) => p.evaluate("getComputedStyle(document.body).backgroundColor")
    assert.notStrictEqual(await bg(light.page), await bg(dark.page))
    assert.strictEqual(await dark.page.$eval(".verdict", (el) => el.textContent), "ABORTED")
    const pdf = await light.page.pdf({ format: "A4", printBackground: false })
    assert.isAbove(pdf.length, 1000)
    await light.page.close()
    await dark.page.close()
  })

  it("a synthetic run's report renders with no console error", async () => {
    const d = path.join(dir, "short")
    Synthetic.write(d, SHORT)
    await Effect.runPromise(Runner.writeReport(d).pipe(Effect.provide(NodeFileSystem.layer)))
    const { page, errors } = await open(browser, path.join(d, "report.html"))
    assert.deepStrictEqual(errors, [])
    fs.mkdirSync(OUTPUT, { recursive: true })
    await page.screenshot({ path: path.join(OUTPUT, "report-synthetic.png"), fullPage: true })
    await page.close()
  })

  it("faultline demo ends with the path of its report.html, which is the screenshot people look at", async () => {
    const out = path.join(dir, "demo")
    const r = spawnSync(path.resolve("node_modules/.bin/node"), ["src/cli/main.ts", "demo", "--out", out], { encoding: "utf8", timeout: 120_000 })
    assert.include([0, 1], r.status, r.stderr)
    const last = r.stdout.trim().split("\n").at(-1)!
    const m = /^\s*report\s+(\S+report\.html)$/.exec(last)
    assert.isNotNull(m, last)
    assert.isTrue(fs.existsSync(m![1]!))
    const { page, errors } = await open(browser, m![1]!)
    assert.deepStrictEqual(errors, [])
    await page.setViewport({ width: 1100, height: 900 })
    fs.mkdirSync(OUTPUT, { recursive: true })
    const shot = path.join(OUTPUT, "report-screenshot.png")
    await page.screenshot({ path: shot, fullPage: true })
    assert.isAbove(fs.statSync(shot).size, 10_000)
    if (process.env.FAULTLINE_UPDATE_DOCS === "1") fs.copyFileSync(shot, path.resolve("docs/report-screenshot.png"))
    await page.close()
  })
})

// Keep the module importable by the bench without running a browser.
export const _html = Html
