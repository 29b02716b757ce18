/**
 * Mutation testing as a figure: `npm run mutate` (Node 24, TypeScript run directly).
 *
 *   npm run mutate               src/core against the fast tests (stryker.config.mjs, vitest.unit.config.ts)
 *   npm run mutate -- --all      all of src against every test (stryker.all.config.mjs; long, not in CI)
 *   npm run mutate -- --force    any other argument goes to `stryker run` (--force: ignore the incremental file)
 *
 * Runs Stryker, lists every surviving mutant as file:line:column with its mutator and replacement,
 * and writes the score into bench/results.json (and bench/mutation.json, which `npm run bench`
 * carries into its own results.json). Score = killed + timed out over all mutants that ran or
 * had no covering test; compile errors (rejected by the TypeScript checker) and ignored ones do not count.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { record } from "./mutation.ts"
import { type Row, row, table } from "./stats.ts"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const RESULTS = fileURLToPath(new URL("./results.json", import.meta.url))
const STRYKER = path.join(ROOT, "node_modules/@stryker-mutator/core/bin/stryker.js")
const TYPESCRIPT5 = path.join(ROOT, "bench/typescript5.mjs")
const GOAL = 85
const log = (line: string) => process.stdout.write(`${line}\n`)

interface Position {
  readonly line: number
  readonly column: number
}
interface Mutant {
  readonly mutatorName: string
  readonly replacement?: string
  readonly status: string
  readonly location: { readonly start: Position; readonly end: Position }
}
interface Report {
  readonly files: Record<string, { readonly source: string; readonly mutants: ReadonlyArray<Mutant> }>
}

const DETECTED = new Set(["Killed", "Timeout"])
const UNDETECTED = new Set(["Survived", "NoCoverage"])

interface Score {
  readonly detected: number
  readonly undetected: number
  readonly score: number
}

const score = (mutants: ReadonlyArray<Mutant>): Score => {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length
  return { detected, undetected, score: detected + undetected === 0 ? Number.NaN : (100 * detected) / (detected + undetected) }
}

/** The mutated source text, on one line and cut short. */
const original = (source: string, m: Mutant): string => {
  const lines = source.split("\n")
  const { start, end } = m.location
  const text = start.line === end.line
    ? lines[start.line - 1]!.slice(start.column - 1, end.column - 1)
    : [lines[start.line - 1]!.slice(start.column - 1), ...lines.slice(start.line, end.line - 1), lines[end.line - 1]!.slice(0, end.column - 1)].join("\n")
  return short(text)
}
const short = (text: string): string => {
  const one = text.replace(/\s+/g, " ").trim()
  return one.length > 70 ? `${one.slice(0, 67)}...` : one
}

const scoreRow = (name: string, s: Score, goal: boolean): Row =>
  row({
    name,
    unit: "% killed",
    baseline: null,
    measured: s.score,
    p50: null,
    p95: null,
    p99: null,
    goal: goal ? `>= ${GOAL}` : null,
    met: goal ? s.score >= GOAL : null
  })

const main = () => {
  const args = process.argv.slice(2)
  const all = args.includes("--all")
  const config = all ? "stryker.all.config.mjs" : "stryker.config.mjs"
  const reportFile = path.join(ROOT, "reports/mutation", all ? "all.json" : "core.json")
  // A failed run must not be reported with the previous run's figures.
  fs.rmSync(reportFile, { force: true })

  const t0 = performance.now()
  log(`stryker run ${config} ${args.filter((a) => a !== "--all").join(" ")}`.trimEnd())
  const run = spawnSync(process.execPath, ["--import", TYPESCRIPT5, STRYKER, "run", config, ...args.filter((a) => a !== "--all")], {
    cwd: ROOT,
    stdio: "inherit"
  })
  const seconds = (performance.now() - t0) / 1000
  if (run.status !== 0 || !fs.existsSync(reportFile)) {
    process.stderr.write(`mutate: stryker exited with ${run.status ?? run.signal}; no score written\n`)
    process.exitCode = 1
    return
  }

  const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report
  const files = Object.entries(report.files).map(([file, f]) => ({
    file: path.relative(ROOT, path.resolve(ROOT, file)).split(path.sep).join("/"),
    ...f
  }))

  const survivors = files.flatMap((f) =>
    f.mutants
      .filter((m) => UNDETECTED.has(m.status))
      .map((m) => ({ file: f.file, m, text: original(f.source, m) }))
  ).sort((a, b) => a.file.localeCompare(b.file) || a.m.location.start.line - b.m.location.start.line || a.m.location.start.column - b.m.location.start.column)

  log(`\nsurviving mutants (${survivors.length}):`)
  for (const { file, m, text } of survivors) {
    const where = `${file}:${m.location.start.line}:${m.location.start.column}`
    const status = m.status === "NoCoverage" ? "  (no test covers it)" : ""
    log(`  ${where}  ${m.mutatorName}  ${JSON.stringify(text)} -> ${JSON.stringify(short(m.replacement ?? ""))}${status}`)
  }

  const byFile = new Map<string, number>()
  for (const s of survivors) byFile.set(s.file, (byFile.get(s.file) ?? 0) + 1)
  log("\nsurvivors by file:")
  for (const [file, n] of [...byFile].sort((a, b) => b[1] - a[1])) log(`  ${String(n).padStart(4)}  ${file}`)

  const core = score(files.filter((f) => f.file.startsWith("src/core/")).flatMap((f) => f.mutants))
  const rows: Array<Row> = all
    ? [
      scoreRow("mutation score, src (all tests)", score(files.flatMap((f) => f.mutants)), false),
      scoreRow("mutation score, src/core (all tests)", core, false)
    ]
    : [scoreRow("mutation score, src/core (fast tests)", core, true)]
  record(rows, RESULTS)

  log(`\n${table(rows)}\n`)
  const s = all ? score(files.flatMap((f) => f.mutants)) : core
  log(`${s.detected} detected, ${s.undetected} undetected; stryker took ${(seconds / 60).toFixed(1)} min; wrote ${RESULTS}`)
}

main()
