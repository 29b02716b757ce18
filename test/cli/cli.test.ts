/**
 * End-to-end tests of the built `faultline` command: exit codes, error output and the run
 * folder it writes. These spawn real processes (the CLI, and the processes the fixture
 * experiments declare); every wait is bounded.
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const binDir = path.join(root, "node_modules", ".bin")
const node = path.join(binDir, "node")
// node_modules/.bin first: `node` inside fixtures and npm scripts is then Node 24.
const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}` }

interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

interface Running {
  readonly child: ReturnType<typeof spawn>
  readonly stdout: () => string
  readonly stderr: () => string
  readonly done: Promise<Result>
}

// Asks the CLI to stop (it cleans up on SIGTERM); kills it if it is still there 5 s later.
const stop = (child: ReturnType<typeof spawn>) => {
  child.kill("SIGTERM")
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  }, 5_000).unref()
}

const start = (args: ReadonlyArray<string>, timeoutMs = 45_000): Running => {
  const child = spawn(node, ["bin/faultline.js", ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (c: string) => void (stdout += c))
  child.stderr!.setEncoding("utf8").on("data", (c: string) => void (stderr += c))
  const done = new Promise<Result>((resolve, reject) => {
    const timer = setTimeout(() => {
      // SIGTERM first, so the CLI reverts its faults and stops the processes it started.
      stop(child)
      reject(new Error(`faultline ${args.join(" ")} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    child.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

const cli = (args: ReadonlyArray<string>, timeoutMs?: number) => start(args, timeoutMs).done

// Resolves once `pred` holds, polling every 25 ms; rejects after `timeoutMs`.
const waitFor = async (what: string, pred: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

// Node prints stack frames as lines starting with four spaces and "at ".
const assertNoStack = (text: string) => {
  assert.notMatch(text, /^\s{4}at /m, `unexpected stack trace in:\n${text}`)
}

const tmpDirs: Array<string> = []
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-cli-"))
  tmpDirs.push(d)
  return d
}

// The one run folder a run wrote under `out` (beside it: the ledger, every run closed).
const runDir = (out: string) => {
  const dirs = fs.readdirSync(out).filter((d) => d !== "ledger" && fs.statSync(path.join(out, d)).isDirectory())
  assert.strictEqual(dirs.length, 1, `expected one run folder in ${out}, found ${dirs.join(", ")}`)
  const ledger = path.join(out, "ledger", "runs", `${dirs[0]}.jsonl`)
  assert.isTrue(fs.existsSync(ledger), `the run's ledger ${ledger} exists`)
  assert.include(fs.readFileSync(ledger, "utf8"), "\"type\":\"run-closed\"")
  return path.join(out, dirs[0]!)
}

// Whether a process whose command line contains `marker` is still running after up to 5 s.
const stillRunning = async (marker: string) => {
  const deadline = Date.now() + 5_000
  while (running(marker)) {
    if (Date.now() > deadline) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return false
}

// Whether a process whose command line contains `marker` is running.
// pgrep exits 1 when nothing matches; any other failure (pgrep missing, a bad pattern,
// exit 2 or 3) is an error of the check itself and must fail the test, not read as "gone".
const running = (marker: string) => {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim() !== ""
  } catch (e) {
    if ((e as { status?: number | null }).status === 1) return false
    throw e
  }
}

beforeAll(() => {
  execFileSync("npm", ["run", "build"], { cwd: root, env, stdio: "pipe" })
}, 120_000)

afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true })
})

describe("faultline run: bad input exits 2 without a stack trace", () => {
  it("a file with a bad signal names the file and the field", async () => {
    const r = await cli(["run", "test/fixtures/bad-signal.yaml"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "test/fixtures/bad-signal.yaml")
    assert.include(r.stderr, `method[0].inject.signal`)
    assert.include(r.stderr, "SIGKILL") // the allowed signals are listed
    assertNoStack(r.stderr)
    assert.strictEqual(r.stdout.trim(), "")
  })

  it("a file that does not exist", async () => {
    const r = await cli(["run", "does-not-exist.yaml"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "does-not-exist.yaml")
    assertNoStack(r.stderr)
  })

  it("a file of an unknown kind (even one that exists)", async () => {
    assert.isTrue(fs.existsSync(path.join(root, "test/fixtures/x.txt")))
    const r = await cli(["run", "test/fixtures/x.txt"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "test/fixtures/x.txt")
    assertNoStack(r.stderr)
  })

  it("a .ts module whose default export is not an Experiment", async () => {
    const r = await cli(["run", "test/fixtures/not-an-experiment.ts"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "not-an-experiment.ts")
    assert.include(r.stderr, "not an Experiment")
    assertNoStack(r.stderr)
  })

  it("a .ts module that does not exist", async () => {
    const r = await cli(["run", "test/fixtures/missing-module.ts"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "missing-module.ts")
    assertNoStack(r.stderr)
  })

  it("a declared process that exits before it is ready", async () => {
    const out = tmp()
    const r = await cli(["run", "test/fixtures/not-ready.yaml", "--out", out])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "quitter")
    assert.include(r.stderr, "before ready")
    assertNoStack(r.stderr)
    // Nothing ran, so no run folder was written.
    assert.deepStrictEqual(fs.readdirSync(out), [])
  })

  it("an unknown flag", async () => {
    const r = await cli(["demo", "--nope"])
    assert.strictEqual(r.code, 2, r.stderr)
    assertNoStack(r.stderr)
    assertNoStack(r.stdout)
  })

  // Regression: with renderErrors: false the CLI once printed ShowHelp's message ("Help
  // requested") instead of the parse errors it carries.
  it("an unknown flag is named in the error", async () => {
    const r = await cli(["demo", "--nope"])
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "--nope")
  })

  // Regression: an invalid regular expression once passed decoding and the run died with a
  // SyntaxError stack trace (exit 1).
  it("a file with an invalid regular expression", async () => {
    const out = tmp()
    const r = await cli(["run", "test/fixtures/bad-regex.yaml", "--out", out])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "pattern")
    assertNoStack(r.stderr)
  })
})

describe("faultline run: a real experiment", () => {
  it("kills a started process, restarts it on revert, passes, and writes the run folder", async () => {
    const out = tmp()
    const r = await cli(["run", "test/fixtures/kill-one.yaml", "--out", out])
    assert.strictEqual(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`)
    assert.include(r.stdout, "PASSED")
    assert.include(r.stderr, "injected process.kill into victim")
    const dir = runDir(out)
    for (const f of ["journal.jsonl", "report.json", "report.md", "report.html"]) assert.isTrue(fs.existsSync(path.join(dir, f)), f)
    const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"))
    assert.strictEqual(report.status, "passed")
    assert.strictEqual(report.cleanup, "ok")
    assert.strictEqual(report.experiment, "kill one process")
    assert.strictEqual(report.faults.length, 1)
    const [fault] = report.faults
    assert.strictEqual(fault.fault, "process.kill")
    assert.strictEqual(fault.target.name, "victim")
    assert.isString(fault.injectedAt)
    assert.isString(fault.revertedAt)
    assert.isTrue(Date.parse(fault.revertedAt) >= Date.parse(fault.injectedAt))
    // The method slept 200 ms between injection and revert.
    assert.isAtLeast(Date.parse(fault.revertedAt) - Date.parse(fault.injectedAt), 150)
    assert.isNull(fault.injectError)
    assert.isNull(fault.revertError)
    for (const phase of ["before", "after"]) assert.isTrue(report.hypothesis["probe succeeds"][phase].met, phase)
    // The journal ends with the verdict; the Markdown report carries it too.
    const lines = fs.readFileSync(path.join(dir, "journal.jsonl"), "utf8").trim().split("\n")
    assert.strictEqual(JSON.parse(lines.at(-1)!).event._tag, "RunEnded")
    assert.strictEqual(report.journal.entries, lines.length)
    assert.include(fs.readFileSync(path.join(dir, "report.md"), "utf8"), "PASSED")
    // The process the run started (and restarted) does not outlive the CLI.
    assert.isFalse(await stillRunning("faultline-fixture-kill-one"), "the fixture process outlived the CLI")
  })

  it("a probe naming ${svc.port} follows a process restarted on another port (--port 0)", async () => {
    const out = tmp()
    const r = await cli(["run", "test/fixtures/restart-port.yaml", "--json", "--out", out])
    const report = JSON.parse(r.stdout)
    const dir = runDir(out)
    const entries = fs.readFileSync(path.join(dir, "journal.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    // The restart really moved the server: the pid the fault killed is not the one serving after.
    const injected = entries.find((e) => e.event._tag === "FaultInjected")!.event
    assert.strictEqual(injected.revert.data.died, true)
    const after = entries.filter((e) => e.event._tag === "Sample" && e.event.phase === "after")
    assert.isAtLeast(after.length, 3)
    assert.isTrue(after.every((e) => e.event.sample.ok), JSON.stringify(after.map((e) => e.event.sample)))
    assert.strictEqual(report.hypothesis["svc answers"].before.met, true, r.stderr)
    assert.strictEqual(report.hypothesis["svc answers"].after.met, true, r.stderr)
    // The outage itself (the server down until the revert restarts it) is observed, not
    // judged (`during: observe`): the run passes on the steady state before and after.
    assert.strictEqual(report.status, "passed", report.reason)
    assert.strictEqual(r.code, 0, r.stderr)
    // The journal names the template, not one port.
    assert.include(JSON.stringify(entries[0].event.hypotheses[0]), "${svc.port}")
    assert.isFalse(await stillRunning("faultline-fixture-restart-port"), "the server outlived the CLI")
  })

  it("--json prints the report on stdout and nothing live on stderr", async () => {
    const out = tmp()
    const r = await cli(["run", "test/fixtures/kill-one.yaml", "--json", "--out", out])
    assert.strictEqual(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.strictEqual(report.status, "passed")
    assert.deepStrictEqual(report, JSON.parse(fs.readFileSync(path.join(runDir(out), "report.json"), "utf8")))
    assert.notInclude(r.stderr, "injected")
  })

  it("SIGINT during a run reverts the fault, writes an interrupted report and exits 130", async () => {
    const out = tmp()
    const p = start(["run", "test/fixtures/pause-long.yaml", "--out", out], 45_000)
    try {
      await waitFor("the live line `injected`", () => p.stderr().includes("injected process.pause into sleeper"), 20_000)
    } catch (e) {
      stop(p.child)
      throw e
    }
    assert.isTrue(running("faultline-fixture-pause-long"))
    const sentAt = Date.now()
    p.child.kill("SIGINT")
    const r = await p.done
    assert.strictEqual(r.code, 130, r.stderr)
    // It stopped promptly, not after the 30-second sleep.
    assert.isBelow(Date.now() - sentAt, 15_000)
    const report = JSON.parse(fs.readFileSync(path.join(runDir(out), "report.json"), "utf8"))
    assert.strictEqual(report.status, "interrupted")
    assert.strictEqual(report.cleanup, "ok")
    assert.strictEqual(report.faults.length, 1)
    assert.strictEqual(report.faults[0].fault, "process.pause")
    assert.isString(report.faults[0].injectedAt)
    assert.isString(report.faults[0].revertedAt)
    assert.isNotNull(report.faults[0].revertedAt)
    assert.isFalse(await stillRunning("faultline-fixture-pause-long"), "the paused process outlived the CLI")
    // The report rebuilt from this journal keeps the verdict, and `faultline report` exits as
    // the run did: 130 for an interrupted run (in JSON and in Markdown).
    const journal = path.join(runDir(out), "journal.jsonl")
    const rebuilt = await cli(["report", journal, "--json"])
    assert.strictEqual(JSON.parse(rebuilt.stdout).status, "interrupted")
    assert.strictEqual(rebuilt.code, 130, rebuilt.stderr)
    const md = await cli(["report", journal])
    assert.strictEqual(md.code, 130, md.stderr)
    assert.include(md.stdout, "INTERRUPTED")
  })
})

describe("faultline report", () => {
  // A journal whose events were all written by the engine, from a dry run: no probe samples.
  const dryRunJournal = async () => {
    const out = tmp()
    const r = await cli(["run", "test/fixtures/kill-one.yaml", "--dry-run", "--json", "--out", out])
    const dir = runDir(out)
    return { file: path.join(dir, "journal.jsonl"), report: JSON.parse(r.stdout), code: r.code }
  }

  it("rebuilds the report of a run from its journal; the exit code follows the verdict", async () => {
    const { code, file, report: original } = await dryRunJournal()
    const r = await cli(["report", file, "--json"])
    const rebuilt = JSON.parse(r.stdout)
    for (const k of ["status", "cleanup", "rto", "rpo", "faults", "hypothesis"]) assert.property(rebuilt, k)
    assert.deepStrictEqual(rebuilt, original)
    // A dry run of kill-one.yaml is planned, never passed (its probes are not sampled): exit 0 from both.
    assert.strictEqual(rebuilt.status, "planned")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.strictEqual(code, 0)
    // The Markdown form names the experiment and the verdict.
    const md = await cli(["report", file])
    assert.strictEqual(md.code, 0)
    assert.include(md.stdout, "kill one process")
    assert.include(md.stdout, "DRY RUN")
    assert.include(md.stdout, "PLANNED")
    assert.notInclude(md.stdout, "PASSED")
  })

  it("refuses an edited journal, naming the line", async () => {
    const { file } = await dryRunJournal()
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    assert.isAtLeast(lines.length, 3)
    const entry = JSON.parse(lines[1]!)
    entry.at = entry.at + 1000
    lines[1] = JSON.stringify(entry)
    fs.writeFileSync(file, lines.join("\n") + "\n")
    const r = await cli(["report", file, "--json"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, `${file}:2:`)
    assert.include(r.stderr, "hash chain")
    assertNoStack(r.stderr)
    assert.strictEqual(r.stdout.trim(), "")
  })

  it("refuses a journal with a line that is not JSON, naming the line", async () => {
    const { file } = await dryRunJournal()
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    lines.splice(2, 0, "garbage")
    fs.writeFileSync(file, lines.join("\n") + "\n")
    const r = await cli(["report", file])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, `${file}:3:`)
    assertNoStack(r.stderr)
  })

  it("a journal cut before RunEnded exits 2 naming its last line; --allow-incomplete prints it as INCOMPLETE and exits 1", async () => {
    const { file } = await dryRunJournal()
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    // The journal alone, as a runner that died with no watchdog leaves it: no report.json beside.
    const cut = path.join(tmp(), "journal.jsonl")
    fs.writeFileSync(cut, lines.slice(0, -1).join("\n") + "\n")
    const refused = await cli(["report", cut])
    assert.strictEqual(refused.code, 2, refused.stderr)
    assert.include(refused.stderr, `ends at line ${lines.length - 1} without RunEnded`)
    assert.include(refused.stderr, "--allow-incomplete")
    assertNoStack(refused.stderr)
    assert.strictEqual(refused.stdout.trim(), "")
    const md = await cli(["report", cut, "--allow-incomplete"])
    assert.strictEqual(md.code, 1, md.stderr)
    assert.strictEqual(md.stdout.split("\n")[0], "# DRY RUN: kill one process — INCOMPLETE")
    const json = await cli(["report", cut, "--allow-incomplete", "--json"])
    assert.strictEqual(json.code, 1, json.stderr)
    const r = JSON.parse(json.stdout)
    assert.strictEqual(r.complete, false)
    assert.strictEqual(r.lastLine, lines.length - 1)
  })

  it("a torn last line (a write never finished) is refused, or read up to the line before with --allow-incomplete", async () => {
    const { file } = await dryRunJournal()
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    const torn = path.join(tmp(), "journal.jsonl")
    fs.writeFileSync(torn, lines.slice(0, -1).join("\n") + "\n" + lines.at(-1)!.slice(0, 30))
    const refused = await cli(["report", torn])
    assert.strictEqual(refused.code, 2, refused.stderr)
    assert.include(refused.stderr, `${torn}:${lines.length}:`)
    const allowed = await cli(["report", torn, "--allow-incomplete", "--json"])
    assert.strictEqual(allowed.code, 1, allowed.stderr)
    assert.strictEqual(JSON.parse(allowed.stdout).lastLine, lines.length - 1)
    assert.include(allowed.stderr, "torn last line")
  })

  it("checks the lastHash of the report.json beside the journal, naming both hashes", async () => {
    const { file } = await dryRunJournal()
    const beside = path.join(path.dirname(file), "report.json")
    const written = JSON.parse(fs.readFileSync(beside, "utf8"))
    const real = written.journal.lastHash as string
    fs.writeFileSync(beside, JSON.stringify({ ...written, journal: { ...written.journal, lastHash: "f".repeat(64) } }))
    const r = await cli(["report", file, "--json"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "f".repeat(64))
    assert.include(r.stderr, real)
    assert.include(r.stderr, beside)
    assertNoStack(r.stderr)
    // A journal cut after its report was written disagrees with it too, even with --allow-incomplete.
    fs.writeFileSync(beside, JSON.stringify(written))
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    fs.writeFileSync(file, lines.slice(0, -1).join("\n") + "\n")
    const cut = await cli(["report", file, "--allow-incomplete"])
    assert.strictEqual(cut.code, 2, cut.stderr)
    assert.include(cut.stderr, real)
  })

  it("a journal that does not exist", async () => {
    const r = await cli(["report", path.join(tmp(), "nope.jsonl")])
    assert.strictEqual(r.code, 2, r.stderr)
    assertNoStack(r.stderr)
  })

  // Every journal of a real run holds probe samples, whose keys the engine writes in another
  // order than the Sample schema decodes them: verifying the chain must not depend on it.
  it("rebuilds the report of a real run from its journal", async () => {
    const out = tmp()
    const run = await cli(["run", "test/fixtures/kill-one.yaml", "--json", "--out", out])
    assert.strictEqual(run.code, 0, run.stderr)
    const original = JSON.parse(run.stdout)
    const r = await cli(["report", path.join(runDir(out), "journal.jsonl"), "--json"])
    assert.strictEqual(r.code, 0, r.stderr)
    const rebuilt = JSON.parse(r.stdout)
    for (const k of ["status", "cleanup", "rto", "rpo", "faults", "hypothesis"]) assert.property(rebuilt, k)
    assert.deepStrictEqual(rebuilt, original)
  })
})

describe("faultline demo", () => {
  it("runs the kv-failover demo and reports RTO and RPO as JSON", async () => {
    const out = tmp()
    const r = await cli(["demo", "--json", "--out", out], 50_000)
    assert.strictEqual(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.strictEqual(report.status, "passed")
    assert.strictEqual(report.cleanup, "ok")
    assert.isNumber(report.rto.measuredMs)
    assert.isAtLeast(report.rto.measuredMs, 0)
    assert.isAtMost(report.rto.measuredMs, 2000)
    assert.isNumber(report.rpo.lostWrites)
    assert.isAtLeast(report.rpo.ackedWrites, report.rpo.lostWrites)
    assert.isTrue(fs.existsSync(path.join(runDir(out), "report.json")))
    // The latency phase (through the embedded proxy) comes before the kill; both reverted.
    const faults = JSON.stringify(report.faults)
    assert.include(faults, "network.latency")
    assert.include(faults, "process.kill")
    assert.isBelow(faults.indexOf("network.latency"), faults.indexOf("process.kill"))
  }, 60_000)

  it("refuses a negative --lag-ms", async () => {
    const r = await cli(["demo", "--lag-ms", "-5", "--out", tmp()])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "lag-ms")
    assertNoStack(r.stderr)
  })
})

describe("faultline proxy", () => {
  for (const bad of ["nonsense", "127.0.0.1:99999", "127.0.0.1:abc", "999.1.1.1:80", "127.0.0.1"]) {
    it(`a bad --listen ${JSON.stringify(bad)} exits 2 with a clear message`, async () => {
      const r = await cli(["proxy", "--listen", bad])
      assert.strictEqual(r.code, 2, r.stderr)
      assert.include(r.stderr, "--listen")
      assertNoStack(r.stderr)
    })
  }

  it("serves the Toxiproxy API on the given address until stopped", async () => {
    const tokenFile = path.join(tmp(), "proxy.token")
    const p = start(["proxy", "--listen", "127.0.0.1:0", "--token-file", tokenFile])
    await waitFor("the proxy to listen", () => /listening on (http:\S+)/.test(p.stdout()) && fs.existsSync(tokenFile), 20_000)
    const url = /listening on (http:\S+)/.exec(p.stdout())![1]!
    const r = await fetch(`${url}/proxies`)
    assert.strictEqual(r.status, 200)
    assert.deepStrictEqual(await r.json(), {})
    const created = await fetch(`${url}/proxies`, {
      method: "POST",
      headers: { Authorization: `Bearer ${fs.readFileSync(tokenFile, "utf8").trim()}` },
      body: JSON.stringify({ name: "x", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" })
    })
    assert.strictEqual(created.status, 201)
    stop(p.child)
    const done = await p.done
    assert.notStrictEqual(done.signal, "SIGKILL")
  })
})
