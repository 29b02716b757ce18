/**
 * The path `.ci/run` relies on: a suite whose component is missing FAILS under
 * FAULTLINE_REQUIRE_INTEGRATION=1 and is SKIPPED, with the reason in its name, otherwise.
 * Tested end to end: a separate vitest runs the real Toxiproxy suite with TOXIPROXY_SERVER
 * pointing at a path that does not exist (an explicit TOXIPROXY_SERVER is the only place
 * the suite looks, so the component reads as missing whatever is installed here).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { describeWith } from "./require.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs")
const reason = "the toxiproxy-server binary was not found"
const tmpDirs: Array<string> = []

interface Assertion {
  readonly status: string
  readonly fullName: string
  readonly failureMessages: ReadonlyArray<string>
}
interface Outcome {
  readonly code: number | null
  readonly stdout: string
  readonly json: {
    readonly numTotalTests: number
    readonly numPassedTests: number
    readonly numFailedTests: number
    readonly numPendingTests: number
    readonly testResults: ReadonlyArray<{ readonly assertionResults: ReadonlyArray<Assertion> }>
  }
}

// Runs test/integration/toxiproxy.test.ts in its own vitest with the component missing.
const runMissing = (required: boolean) =>
  new Promise<Outcome>((resolve, reject) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-require-"))
    tmpDirs.push(dir)
    const out = path.join(dir, "results.json")
    // Not this worker's vitest state: the child is a fresh run of its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "TINYPOOL_WORKER_ID"))
    const child = spawn(
      process.execPath,
      [vitest, "run", "test/integration/toxiproxy.test.ts", "--reporter=verbose", "--reporter=json", `--outputFile=${out}`],
      {
        cwd: root,
        env: { ...env, FAULTLINE_REQUIRE_INTEGRATION: required ? "1" : "0", TOXIPROXY_SERVER: path.join(dir, "no-such-toxiproxy-server"), NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    let stdout = ""
    child.stdout.on("data", (c) => (stdout += c))
    child.stderr.on("data", (c) => (stdout += c))
    child.on("error", reject)
    child.on("close", (code) => {
      try {
        resolve({ code, stdout, json: JSON.parse(fs.readFileSync(out, "utf8")) })
      } catch (e) {
        reject(new Error(`no JSON results from the child vitest (exit ${code}): ${(e as Error).message}\n${stdout}`))
      }
    })
  })

afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true })
})

describe("a missing component (Toxiproxy, in a child vitest)", () => {
  it("FAULTLINE_REQUIRE_INTEGRATION=1: the suite fails, naming what is missing", { timeout: 120_000 }, async () => {
    const r = await runMissing(true)
    expect(r.code, r.stdout).toBe(1)
    const tests = r.json.testResults.flatMap((f) => f.assertionResults)
    expect(tests.length).toBeGreaterThan(0)
    expect(r.json.numFailedTests).toBe(r.json.numTotalTests)
    expect(r.json.numPassedTests).toBe(0)
    expect(r.json.numPendingTests).toBe(0)
    for (const t of tests) {
      expect(t.status).toBe("failed")
      expect(t.failureMessages.join("\n")).toContain(reason)
    }
  })

  it("otherwise: the suite is skipped (exit 0), the reason printed in every skipped test's name", { timeout: 120_000 }, async () => {
    const r = await runMissing(false)
    expect(r.code, r.stdout).toBe(0)
    const tests = r.json.testResults.flatMap((f) => f.assertionResults)
    expect(tests.length).toBeGreaterThan(0)
    expect(r.json.numPendingTests).toBe(r.json.numTotalTests)
    expect(r.json.numFailedTests).toBe(0)
    expect(r.json.numPassedTests).toBe(0)
    for (const t of tests) {
      expect(t.status).toBe("skipped")
      expect(t.fullName).toContain(`skipped: ${reason}`)
    }
    expect(r.stdout).toContain(`— skipped: ${reason}`)
  })
})

// A present component runs its suite: the test below sees that the one above ran (vitest
// runs a file's tests in order), which a skipped suite would not.
let ran = 0
describeWith("always-present component", null, () => {
  it("runs", () => {
    ran++
  })
})
describe("a present component", () => {
  it("had its suite's test run, not skipped", () => {
    expect(ran).toBe(1)
  })
})
