/**
 * Bad input is refused with one line naming the file, the path and the most specific cause,
 * exit 2, before anything starts (issue: honest verdicts and strict inputs). The CLI runs
 * from source; every wait is bounded.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const root = path.resolve(import.meta.dirname, "../..")
const binDir = path.join(root, "node_modules", ".bin")
const node = path.join(binDir, "node")
const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}` }
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-strict-"))

const cli = (...args: ReadonlyArray<string>) => {
  const r = spawnSync(node, [path.join(root, "src/cli/main.ts"), ...args], { cwd: tmp, env, encoding: "utf8", timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const file = (name: string, text: string) => {
  const p = path.join(tmp, name)
  fs.writeFileSync(p, text)
  return p
}

const base = (extra: { top?: string; hyp?: string; method?: string; processes?: string } = {}) =>
  [
    "name: strict",
    ...(extra.processes ? [extra.processes] : []),
    "hypothesis:",
    "  - name: h",
    "    probe: { command: { command: node, args: [\"-e\", \"0\"] } }",
    ...(extra.hyp ? [extra.hyp] : []),
    "method:",
    extra.method ?? "  - sleep: 1 millis",
    ...(extra.top ? [extra.top] : [])
  ].join("\n") + "\n"

// One line on stderr, exit 2, no stack trace, nothing written to --out.
const refused = (r: ReturnType<typeof cli>, pattern: RegExp) => {
  assert.strictEqual(r.code, 2, r.stderr)
  const lines = r.stderr.trim().split("\n")
  assert.strictEqual(lines.length, 1, r.stderr)
  assert.match(lines[0]!, pattern)
  assert.notMatch(r.stderr, /\n\s+at |Error: /)
}

describe("unknown keys are refused at any depth, with the nearest known key", () => {
  const cases: ReadonlyArray<[string, string, RegExp]> = [
    ["top level", base({ top: "objectivez: { rto: \"1 second\" }" }), /unknown key "objectivez" at \$; did you mean "objectives"\?/],
    ["hypothesis", base({ hyp: "    tolerence: [{ _tag: Regex, pattern: x }]" }), /unknown key "tolerence" at hypothesis\[0\]; did you mean "tolerance"\?/],
    ["abort (top level)", base({ top: "abrot: [{ maxDuration: \"1 minute\" }]" }), /unknown key "abrot" at \$; did you mean "abort"\?/],
    [
      "stopwatch",
      base({ top: "stopwatches: { rto: { hypothesis: h, stablefor: 3 } }" }),
      /unknown key "stablefor" at stopwatches\.rto; did you mean "stableFor"\?/
    ],
    [
      "tolerance",
      base({ hyp: "    tolerance: [{ _tag: Regex, patern: x }]" }),
      /unknown key "patern" at hypothesis\[0\]\.tolerance\[0\]; did you mean "pattern"\?/
    ],
    ["guards", base({ top: "guards: [{ _tag: MaxTargets, n: 2, m: 3 }]" }), /unknown key "m" at guards\[0\]/],
    [
      "abort condition",
      base({ top: "abort: [{ breach: { hypothesis: h, below: 0.5, over: \"1 second\", ovr: 2 } }]" }),
      /unknown key "ovr" at abort\[0\]\.breach/
    ],
    [
      "fault",
      base({ method: "  - inject: { fault: network.latency, target: { name: [p] }, latency: 10, strem: upstream }" }),
      /unknown key "strem" at method\[0\]\.inject; did you mean "stream"\?/
    ],
    ["step", base({ method: "  - injekt: { fault: process.kill, target: { name: [p] } }" }), /unknown key "injekt" at method\[0\]; did you mean "inject"\?/]
  ]
  for (const [where, text, pattern] of cases) {
    it(`in ${where}`, () => {
      const f = file(`unknown-${where.replace(/\W/g, "-")}.yaml`, text)
      const r = cli("run", f, "--out", path.join(tmp, "runs"))
      refused(r, pattern)
      assert.include(r.stderr, f)
      assert.isFalse(fs.existsSync(path.join(tmp, "runs", "ledger")), "nothing started")
    })
  }

  it("in JSON files too", () => {
    const f = file(
      "unknown.json",
      JSON.stringify({ name: "j", hypothesis: [{ name: "h", probe: { command: { command: "node" } } }], method: [], objectivez: {} })
    )
    refused(cli("run", f), /unknown key "objectivez" at \$; did you mean "objectives"\?/)
  })
})

describe("one line, the real cause", () => {
  it("an unknown fault names the fault, its path and the known ones, and nothing about other union members", () => {
    const f = file("explode.yaml", base({ method: "  - inject: { fault: process.explode, target: { name: [p] } }" }))
    const r = cli("run", f)
    refused(r, /unknown fault "process\.explode" at method\[0\]\.inject\.fault; known: process\.kill, /)
    assert.notInclude(r.stderr, "Missing key")
    assert.notInclude(r.stderr, "sleep")
  })

  it("a bad value names its path", () => {
    const f = file("negative.yaml", base({ method: "  - inject: { fault: network.latency, target: { name: [p] }, latency: -3 }" }))
    refused(cli("run", f), /method\[0\]\.inject\.latency/)
  })

  it("a bad `ready` regular expression", () => {
    const f = file("ready.yaml", base({ processes: "processes:\n  - { name: p, command: node, args: [\"-e\", \"0\"], ready: \"(unclosed\" }" }))
    refused(cli("run", f), /not a valid regular expression.* at processes\[0\]\.ready/)
  })

  it("--out to a folder that cannot be written, with the errno", () => {
    const f = file("fine.yaml", base())
    refused(cli("run", f, "--out", "/etc/passwd/runs"), /--out \/etc\/passwd\/runs: cannot write there \(ENOTDIR/)
  })

  it("a .ts module whose default export has the wrong shape", () => {
    refused(cli("run", path.join(root, "test/fixtures/bad-shape.ts")), /bad-shape\.ts: hypothesis\[0\] is not a Hypothesis/)
  })

  it("objectives.rpo without a heartbeat writer is refused at load (module and file)", () => {
    refused(cli("run", path.join(root, "test/fixtures/rpo-without-writer.ts")), /objectives\.rpo needs an RPO stopwatch/)
    refused(cli("run", file("rpo.yaml", base({ top: "objectives: { rpo: \"1 second\" }" }))), /an RPO objective needs a heartbeat writer.* at objectives\.rpo/)
  })

  it("a target that matches nothing is found at plan time, before any probe or fault, and the file's processes are stopped", () => {
    const marker = `faultline-strict-${process.pid}-nomatch`
    const f = file(
      "nomatch.yaml",
      base({
        processes:
          `processes:\n  - { name: victim, command: node, args: ["-e", "console.log('READY'); setInterval(() => {}, 1000)", "${marker}"], ready: READY }`,
        method: "  - inject: { fault: process.kill, target: { name: [victum] } }"
      })
    )
    const out = path.join(tmp, "nomatch-runs")
    const r = cli("run", f, "--out", out)
    refused(r, /no target matches .*victum.* at method\[0\]\.inject\.target/)
    // No run folder: nothing was journaled, no probe ran. (The ledger may hold the record of
    // the file's set-up processes, written as they started so that a crash cannot leak them.)
    assert.deepStrictEqual(fs.existsSync(out) ? fs.readdirSync(out).filter((d) => d !== "ledger") : [], [])
    const left = spawnSync("pgrep", ["-f", marker])
    assert.strictEqual(left.status, 1, `a process of the file is still running: ${left.stdout}`)
  })
})

describe("recovery never answers a typo with all clear", () => {
  it("a missing ledger path exits 2", () => {
    refused(cli("recover", "--ledger", path.join(tmp, "no-such-ledger")), /no ledger at .*no-such-ledger/)
  })
  it("a ledger path that is a file exits 2", () => {
    refused(cli("recover", "--ledger", file("ledger-file", "x")), /no ledger at .*ledger-file \(not a folder\)/)
  })
})

describe("CLI conventions", () => {
  it("bare `faultline` prints help and exits 0", () => {
    const r = cli()
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /USAGE/)
    assert.match(r.stdout, /\brun\b/)
  })
  it("`faultline help run` prints the help of run, with defaults, and exits 0", () => {
    const r = cli("help", "run")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /faultline run/)
    assert.match(r.stdout, /--out.*\(default: faultline-runs\)/)
  })
  it("`faultline plan experiments/pause-kv.ts` — the README's example — plans without running its set-up", () => {
    const r = cli("plan", path.join(root, "experiments/pause-kv.ts"))
    assert.strictEqual(r.code, 0, r.stderr + r.stdout)
    assert.match(r.stdout, /process\.pause name\(kv\): 0 targets/)
    assert.match(r.stdout, /a dry run runs no set-up/)
    assert.notMatch(r.stdout + r.stderr, /weak map key|plan failed/)
  })

  it("plan has no --out (it keeps nothing) and accepts YAML", () => {
    assert.notMatch(cli("help", "plan").stdout, /--out/)
    const r = cli(
      "plan",
      file(
        "plan.yaml",
        base({
          processes: "processes:\n  - { name: p, command: node, args: [\"-e\", \"console.log('READY'); setInterval(() => {}, 1000)\"], ready: READY }",
          method: "  - inject: { fault: process.pause, target: { name: [p] } }"
        })
      )
    )
    assert.match(r.stdout, /process\.pause/, r.stderr)
    assert.isFalse(fs.existsSync(path.join(tmp, "faultline-runs")), "plan wrote a run folder")
  })
})
