// The web live view in real headless Chromium (Debian's package, driven by puppeteer-core):
// step changes appear without a reload, an approval clicked in the page is journaled with its
// actor, a write without the token or from a foreign Origin is refused, no console errors.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import puppeteer, { type Browser } from "puppeteer-core"
import { afterAll, beforeAll, expect, it } from "vitest"
import { describeWith } from "../integration/require.ts"
import { journalOf } from "./helpers.ts"

const CHROMIUM = "/usr/bin/chromium"
const root = path.resolve(import.meta.dirname, "../..")

export const launch = () => puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] })

describeWith("Chromium (web live view)", fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install chromium)`, () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it("drives a drill from the page: complete, approve (journaled with its actor), abort; token and Origin enforced; no console errors", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-web-"))
    const child = spawn(process.execPath, [
      "src/cli/main.ts",
      "drill",
      "runbooks/dependency-outage.md",
      "--serve",
      "127.0.0.1:0",
      "--name",
      "Ada",
      "--out",
      out
    ], {
      cwd: root,
      env: { ...process.env, KV_PORT: "47431", KV_PROXY_PORT: "47432" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stderr = ""
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)))
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no web view link: ${stderr}`)), 30_000)
      child.stderr.setEncoding("utf8").on("data", (c: string) => {
        stderr += c
        const m = /web view: (\S+)/.exec(stderr)
        if (m) {
          clearTimeout(t)
          resolve(m[1]!)
        }
      })
    })
    try {
      const origin = new URL(url).origin
      const token = new URL(url).hash.replace("#token=", "")
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text())
      })
      page.on("pageerror", (e) => errors.push(String(e)))
      page.on("dialog", (d) => void d.accept())
      await page.goto(url)
      // The first step waits for people: the page shows it without a reload.
      await page.waitForSelector("tr.running[data-step='brief-the-room']", { timeout: 30_000 })
      await page.type("#name", "Ada")
      await page.click("input[name='bridge-open']")
      await page.click("#complete")
      // Steady state is checked (2 s), the notify fails (no webhook set), then the approval waits.
      await page.waitForSelector("tr.running[data-step='approve-the-faults']", { timeout: 30_000 })
      expect(await page.$eval("tr[data-step='brief-the-room']", (r) => r.className)).toBe("done")
      // The runner cannot approve: the page says why.
      await page.click("#approve")
      await page.waitForFunction(() => (globalThis as any).document.getElementById("message").textContent.includes("two-person rule"))
      await page.$eval("#name", (e) => (e as any).value = "")
      await page.type("#name", "Grace")
      await page.click("#approve")
      await page.waitForSelector("tr.approved[data-step='approve-the-faults']", { timeout: 10_000 })
      await page.waitForSelector("tr.running[data-step='detect-the-outage']", { timeout: 10_000 })
      expect(await page.$eval("#faults", (e) => e.textContent)).toMatch(/network\.down on toxiproxy kv/)
      expect(await page.$eval("#timeline svg", (e) => e.id)).toBe("timeline-svg")
      // Writes need the token (403) and the page's own Origin (403).
      const noToken = await fetch(`${origin}/api/respond`, { method: "POST", body: JSON.stringify({ action: "note", name: "Mallory", text: "x" }) })
      expect(noToken.status).toBe(403)
      const foreign = await fetch(`${origin}/api/respond`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, origin: "http://evil.example" },
        body: JSON.stringify({ action: "abort", name: "Mallory", reason: "x" })
      })
      expect(foreign.status).toBe(403)
      expect((await fetch(`${origin}/events`)).status).toBe(403)
      expect(errors).toEqual([])
      await page.click("#abort")
      expect(await exited).toBe(1)
      const { events, drill } = journalOf(out)
      const approval = events.find((e) => e._tag === "StepApproval" && e.approved)
      expect(approval.actor).toEqual({ name: "Grace", user: null, via: "web" })
      expect(drill.steps.find((s: any) => s.stepId === "brief-the-room").actor).toMatchObject({ name: "Ada", via: "web" })
      expect(drill.reason).toMatch(/aborted by Grace \(via web\)/)
      expect(events.filter((e) => e._tag === "FaultInjected")).toHaveLength(2)
      expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(2)
      expect(events.some((e) => e._tag === "StepApproval" && e.actor.name === "Mallory")).toBe(false)
      await page.close()
    } finally {
      child.kill("SIGTERM")
    }
  })
})
