/**
 * (h) Start-up, where users feel it: `faultline --version`, and `faultline run` of a YAML
 * experiment up to its first probe reaching a local HTTP server — each against `node -e 0`
 * (and a bare `fetch` from a fresh node) measured alternately in the same run. Times are
 * spawn → exit, and spawn → the server's first request, on this process' clock.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { percentile, type Row, row, summary } from "./stats.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const node = process.execPath
const bin = path.join(root, "bin", "faultline.js")

const exited = (args: ReadonlyArray<string>) =>
  new Promise<number>((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(node, [...args], { cwd: root, stdio: "ignore" })
    child.on("error", reject)
    child.on("exit", () => resolve(performance.now() - t0))
  })

// Spawn → first request at `server`; the child is stopped once it has been heard.
const firstRequest = (server: { next: () => Promise<number> }, args: ReadonlyArray<string>) =>
  new Promise<number>((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(node, [...args], { cwd: root, stdio: "ignore" })
    child.on("error", reject)
    const limit = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`no request within 30 s: ${args.join(" ")}`))
    }, 30_000)
    server.next().then((at) => {
      clearTimeout(limit)
      // SIGTERM: the run reverts (nothing to revert here) and exits.
      child.kill("SIGTERM")
      child.once("exit", () => resolve(at - t0))
    })
  })

const listen = async () => {
  let waiting: ((at: number) => void) | null = null
  const server = http.createServer((_, res) => {
    const at = performance.now()
    waiting?.(at)
    waiting = null
    res.end("ok")
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const port = (server.address() as { port: number }).port
  return {
    port,
    next: () => new Promise<number>((r) => void (waiting = r)),
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
}

/** Runs the start-up rows. */
export const run = async (options: { readonly trials: number; readonly log: (line: string) => void }): Promise<ReadonlyArray<Row>> => {
  const { trials, log } = options
  const version: Array<number> = []
  const bare: Array<number> = []
  for (let i = 0; i < trials + 1; i++) {
    const a = await exited([bin, "--version"])
    const b = await exited(["-e", "0"])
    if (i > 0) {
      version.push(a)
      bare.push(b)
    }
  }
  log(`  faultline --version: ${summary(version)}; node -e 0: ${summary(bare)}`)

  const server = await listen()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-startup-"))
  const file = path.join(dir, "first-probe.yaml")
  fs.writeFileSync(
    file,
    [
      "name: first probe",
      "hypothesis:",
      "  - name: answers",
      `    probe: { http: { url: "http://127.0.0.1:${server.port}/" } }`,
      "    every: 10 millis",
      "    samples: 1",
      "    tolerance: [{ _tag: SuccessRatio, atLeast: 0, confidence: 0 }]",
      "method:",
      "  - sleep: 10 millis"
    ].join("\n") + "\n"
  )
  const probe: Array<number> = []
  const fetchOnly: Array<number> = []
  for (let i = 0; i < trials + 1; i++) {
    const a = await firstRequest(server, [bin, "run", file, "--out", path.join(dir, "runs")])
    const b = await firstRequest(server, ["-e", `fetch("http://127.0.0.1:${server.port}/").then(() => setTimeout(() => {}, 5000))`])
    if (i > 0) {
      probe.push(a)
      fetchOnly.push(b)
    }
  }
  await server.close()
  fs.rmSync(dir, { recursive: true, force: true })
  log(`  faultline run → first probe: ${summary(probe)}; node fetch → first request: ${summary(fetchOnly)}`)
  const p50 = (xs: ReadonlyArray<number>) => percentile(xs, 50)
  return [
    row({
      name: "faultline --version (spawn to exit)",
      unit: "ms",
      baseline: p50(bare),
      measured: p50(version),
      p50: p50(version),
      p95: percentile(version, 95),
      p99: percentile(version, 99),
      goal: "p50 <= 200 ms (baseline: node -e 0)",
      met: p50(version) <= 200
    }),
    row({
      name: "faultline run (YAML) to its first probe",
      unit: "ms",
      baseline: p50(fetchOnly),
      measured: p50(probe),
      p50: p50(probe),
      p95: percentile(probe, 95),
      p99: percentile(probe, 99),
      goal: "p50 <= 500 ms (baseline: a fresh node's first fetch)",
      met: p50(probe) <= 500
    })
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run({ trials: Number(process.argv[2] ?? 10), log: (l) => process.stdout.write(`${l}\n`) }).then((rows) => {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`)
  })
}
