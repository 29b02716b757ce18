/**
 * JUnit XML: one test case per experiment, hypothesis phase and objective (and the cleanup),
 * failures carrying the reason; every document validated against test/fixtures/junit.xsd with
 * xmllint (Debian's libxml2-utils), from the library and from the CLI (`faultline run --junit`,
 * `faultline report --junit`).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, it } from "vitest"
import * as Html from "../../src/report/Html.ts"
import * as Junit from "../../src/report/Junit.ts"
import { describeWith } from "../integration/require.ts"
import * as Synthetic from "../fixtures/syntheticJournal.ts"

const root = path.resolve(import.meta.dirname, "../..")
const XSD = path.join(root, "test/fixtures/junit.xsd")
const xmllint = spawnSync("xmllint", ["--version"], { encoding: "utf8" })
const missing = xmllint.error ? "xmllint is not installed (Debian package libxml2-utils)" : null
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-junit-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const validate = (xml: string, name: string) => {
  const file = path.join(tmp, `${name}.xml`)
  fs.writeFileSync(file, xml)
  const r = spawnSync("xmllint", ["--noout", "--schema", XSD, file], { encoding: "utf8" })
  assert.strictEqual(r.status, 0, `${file}: ${r.stderr}`)
  return r.stderr
}
const evidenceOf = (spec: Synthetic.Spec) => {
  const f = Html.fold()
  for (const e of Synthetic.entries(spec).entries) f.step(e)
  return f.result()
}
const BASE: Synthetic.Spec = {
  experiment: "kv primary loss",
  durationMs: 8000,
  everyMs: 50,
  fault: { at: 2000, until: 6000 },
  outage: { from: 2100, to: 3000 },
  rpo: { everyMs: 100, lostFrom: 1800, lostTo: 2000 }
}
const node = path.join(root, "node_modules/.bin/node")
const cli = (args: ReadonlyArray<string>) => spawnSync(node, [path.join(root, "bin/faultline.js"), ...args], { cwd: root, encoding: "utf8", timeout: 60_000 })

describeWith("JUnit XML against the XSD (xmllint)", missing, () => {
  it("a passed run: one case per experiment, phase and objective, all passing", () => {
    const xml = Junit.toJunit([evidenceOf(BASE)])
    assert.include(validate(xml, "passed"), "validates")
    const names = Junit.cases(evidenceOf(BASE)).map((c) => c.name)
    assert.deepStrictEqual(names, [
      "experiment kv primary loss",
      "hypothesis api serves — before",
      "hypothesis api serves — during",
      "hypothesis api serves — after",
      "objective RTO",
      "objective RPO",
      "cleanup"
    ])
    assert.notInclude(xml, "<failure")
    assert.match(xml, /<testsuite name="kv primary loss" id="0" package="faultline" tests="7" failures="0"/)
  })

  it("a missed objective and an aborted run fail with their reasons", () => {
    const missed = evidenceOf({ ...BASE, status: "deviated", rtoObjectiveMs: 100, rpo: { ...BASE.rpo!, objectiveMs: 10 } })
    const aborted = evidenceOf({ ...BASE, experiment: "abort <&> \u0001 test", abortAt: 5000 })
    const xml = Junit.toJunit([missed, aborted])
    validate(xml, "failing")
    assert.match(
      xml,
      /<testcase name="objective RTO"[^>]*>\s*<failure type="faultline.failed" message="RTO \d+(\.\d+)? ms \(±50 ms\) against an objective of 100 ms"/
    )
    assert.match(
      xml,
      /<testcase name="objective RPO"[^>]*>\s*<failure[^>]*message="RPO 200 ms \(2 of 80 acknowledged writes lost\) against an objective of 10 ms"/
    )
    assert.include(xml, "message=\"aborted: abort: breach api serves below 0.5 over 3 s\"")
    assert.include(xml, "steady state not met during the method")
    assert.include(xml, "name=\"abort &lt;&amp;&gt; \uFFFD test\"")
    assert.match(xml, /<testsuites name="faultline" tests="14" failures="[4-9]"/)
  })

  it("faultline report --junit and --html print what the runner would write; a journal that is not one exits 2", () => {
    const dir = path.join(tmp, "run")
    const journal = Synthetic.write(dir, BASE)
    const r = cli(["report", journal, "--junit"])
    assert.strictEqual(r.status, 0, r.stderr)
    validate(r.stdout, "cli-report")
    const h = cli(["report", journal, "--html"])
    assert.strictEqual(h.status, 0, h.stderr)
    assert.match(h.stdout, /^<!doctype html>/)
    assert.include(h.stdout, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\"")
    const both = cli(["report", journal, "--html", "--junit"])
    assert.strictEqual(both.status, 2)
    const notJournal = path.join(tmp, "not-a-journal.jsonl")
    fs.writeFileSync(notJournal, "hello\n")
    const bad = cli(["report", notJournal, "--junit"])
    assert.strictEqual(bad.status, 2)
    assert.match(bad.stderr, /^faultline: .*not-a-journal\.jsonl:1: /)
    assert.notInclude(bad.stderr, "    at ")
  })

  it("faultline run --junit FILE writes the run's JUnit beside its report", () => {
    const out = path.join(tmp, "runs")
    const file = path.join(tmp, "run-junit.xml")
    const r = cli(["run", "test/fixtures/kill-one.yaml", "--out", out, "--junit", file])
    assert.strictEqual(r.status, 0, r.stderr)
    validate(fs.readFileSync(file, "utf8"), "cli-run")
    assert.include(fs.readFileSync(file, "utf8"), "<testcase name=\"experiment ")
    assert.match(r.stdout, /report\s+\S+report\.html\s*$/)
    const missingDir = cli(["run", "test/fixtures/kill-one.yaml", "--out", out, "--junit", path.join(tmp, "no/such/dir/j.xml")])
    assert.strictEqual(missingDir.status, 2)
    assert.include(missingDir.stderr, "no/such/dir")
  }, 90_000)
})
