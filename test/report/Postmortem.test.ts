import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as Postmortem from "../../src/report/Postmortem.ts"
import * as Synthetic from "../fixtures/syntheticJournal.ts"

const root = path.resolve(import.meta.dirname, "../..")
const node = path.join(root, "node_modules/.bin/node")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-postmortem-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
const cli = (args: ReadonlyArray<string>) => spawnSync(node, [path.join(root, "bin/faultline.js"), ...args], { cwd: root, encoding: "utf8", timeout: 60_000 })

const SPEC: Synthetic.Spec = {
  experiment: "kv primary loss",
  durationMs: 8000,
  everyMs: 50,
  fault: { at: 2000, until: 6000 },
  outage: { from: 2150, to: 3500 },
  rpo: { everyMs: 100, lostFrom: 1800, lostTo: 2000, objectiveMs: 50 },
  status: "deviated",
  rtoObjectiveMs: 1000
}
const draftOf = (spec: Synthetic.Spec) => {
  const f = Postmortem.fold()
  for (const e of Synthetic.entries(spec).entries) f.step(e)
  return Postmortem.toMarkdown(f.result())
}

describe("postmortem drafts", () => {
  it("an experiment: every section, figures from the journal, deviations become action items", () => {
    const md = draftOf(SPEC)
    for (
      const h of [
        "# Postmortem (draft): kv primary loss",
        "## Summary",
        "## Impact window",
        "## Timeline",
        "## Detection and recovery",
        "## What deviated and why",
        "## Contributing faults",
        "## Action items",
        "## Evidence"
      ]
    ) {
      assert.include(md, h)
    }
    assert.include(md, "- from 2026-11-29T10:00:02.150Z (+2150 ms)")
    assert.include(md, "| 2026-11-29T10:00:02.000Z | +2000 ms | fault injected: process.kill on process kv-primary |")
    assert.include(md, "- time to detect: 150 ms (probe every 50 ms)")
    assert.match(md, /\| RTO \| \d+ ms \(±50 ms\) \| 1000 ms \| NOT met \|/)
    assert.include(md, "| RPO | 200 ms, 2/80 writes lost | 50 ms | NOT met |")
    assert.match(md, /- RTO \d+ ms \(±50 ms\) missed its objective of 1000 ms\. Why: _cause_/)
    assert.match(md, /\| 1 \| Follow up: .* \| _owner_ \| _YYYY-MM-DD_ \| open \|/)
    assert.notInclude(md, "## Drill steps")
  })

  it("a drill: its steps with actors, and it says drill", () => {
    const md = draftOf({ ...SPEC, steps: [{ id: "s1", name: "promote the standby", actor: "bob", from: 2600, to: 3300 }] })
    assert.include(md, "- what: drill **kv primary loss**")
    assert.include(md, "| promote the standby | bob | +2600 ms | 700 ms | done |")
    assert.include(md, "step started: promote the standby (bob)")
  })

  it("faultline postmortem RUN writes RUN/postmortem.md once, and refuses a journal that is not one", () => {
    const dir = path.join(tmp, "run")
    Synthetic.write(dir, SPEC)
    const r = cli(["postmortem", dir])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(fs.readFileSync(path.join(dir, "postmortem.md"), "utf8"), "## Action items")
    const again = cli(["postmortem", dir])
    assert.strictEqual(again.status, 2)
    assert.include(again.stderr, "postmortem.md: a draft is already there")
    const bad = path.join(tmp, "bad.jsonl")
    fs.writeFileSync(bad, "{\"seq\":0}\n")
    const b = cli(["postmortem", bad, "--stdout"])
    assert.strictEqual(b.status, 2)
    assert.match(b.stderr, /^faultline: .*bad\.jsonl:1: /)
  })
})
