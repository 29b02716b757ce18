// The runbooks in runbooks/ are documents and drills: each decodes strictly, renders as a
// readable document, and every answers file matches its runbook.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Answers from "../../src/drill/Answers.ts"
import * as Drill from "../../src/drill/Drill.ts"
import * as Runbook from "../../src/drill/Runbook.ts"

const env = { FAULTLINE_DNS_ZONE: "Z123", FAULTLINE_EVAC_URL: "http://127.0.0.1:1", FAULTLINE_EVAC_CONTAINER: "kvf-x-primary" }
const files = fs.readdirSync("runbooks").filter((f) => f.endsWith(".md"))

describe("runbooks/", () => {
  it("has the four drills of this machine", () => {
    assert.deepStrictEqual(files.sort(), ["container-evacuation.md", "dependency-outage.md", "dns-failover.md", "pg-failover.md"])
  })
  for (const f of files) {
    it.effect(`${f}: decodes, renders as a document, and its answers file fits`, () =>
      Effect.gen(function*() {
        Object.assign(process.env, env)
        const rb = yield* Runbook.load(path.join("runbooks", f))
        const html = Runbook.toHtml(fs.readFileSync(path.join("runbooks", f), "utf8").replace(/^---[\s\S]*?\n---\n/, ""))
        assert.match(html, /<h1>/)
        assert.match(html, /<pre><code class="language-step">kind: /)
        assert.isAtLeast(rb.steps.length, 10)
        // Steps that people act on are read out: they have prose.
        for (const s of rb.steps) assert.isTrue(s.prose.length > 0 || !["manual", "decision", "inject"].includes(s.spec.kind), `${s.id} has prose`)
        const kinds = new Set(rb.steps.map((s) => s.spec.kind))
        for (const k of ["manual", "approve", "inject", "verify", "decision", "checkpoint"]) assert.isTrue(kinds.has(k as never), `${f} has a ${k} step`)
        assert.isTrue(rb.steps.some((s) => s.branch !== null), "a no-go section")
        const drill = Drill.fromRunbook(rb)
        yield* Answers.load(path.join("runbooks/answers", f.replace(/\.md$/, ".yaml")), drill)
      }))
  }
})

describe("Runbook.decode", () => {
  const head = "---\nname: x\nservice: s\ntier: 1\nroles: { lead: leads }\n---\n\n# X\n\n"
  const bad = (text: string) => Effect.flip(Runbook.decode("x.md", text))
  it.effect("front matter: unknown key with its line", () =>
    Effect.gen(function*() {
      const e = yield* bad(
        "---\nname: x\nservice: s\ntier: 1\nroles: { lead: leads }\nobjectivs: { rto: \"1 minute\" }\n---\n\n## A\n\n```step\nkind: checkpoint\naction: start\n```\n"
      )
      assert.strictEqual(e.message, "x.md:6: front matter: unknown key \"objectivs\" at $; did you mean \"objectives\"?")
    }))
  it.effect("an unknown step kind, a bad duration, an unknown fault", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        (yield* bad(`${head}## A\n\n\`\`\`step\nkind: manul\n\`\`\`\n`)).message,
        "x.md:13: step \"A\": unknown kind \"manul\" at kind; did you mean \"manual\"? known: manual, approve, notify, inject, run, verify, decision, checkpoint"
      )
      assert.match(
        (yield* bad(`${head}## A\n\n\`\`\`step\nkind: checkpoint\naction: start\nplanned: soon\n\`\`\`\n`)).message,
        /^x\.md:15: step "A": expected a duration such as "500 millis" or "2 seconds", got "soon" at planned$/
      )
      assert.match(
        (yield* bad(`${head}## A\n\n\`\`\`step\nkind: inject\nfault: { fault: process.explode, target: { all: true } }\n\`\`\`\n`)).message,
        /^x\.md:14: step "A": unknown fault "process\.explode" at fault\.fault; /
      )
    }))
  it.effect("a missing environment variable names the variable; a default applies", () =>
    Effect.gen(function*() {
      delete process.env.FAULTLINE_TEST_UNSET
      const e = yield* bad(`${head}## A\n\n\`\`\`step\nkind: notify\nurl: "http://\${env.FAULTLINE_TEST_UNSET}/x"\ntext: hi\n\`\`\`\n`)
      assert.strictEqual(e.message, "x.md:14: step \"A\": the environment variable FAULTLINE_TEST_UNSET is not set (${env.FAULTLINE_TEST_UNSET})")
      const ok = yield* Runbook.decode(
        "x.md",
        `${head}## A\n\n\`\`\`step\nkind: notify\nurl: "http://\${env.FAULTLINE_TEST_UNSET:-127.0.0.1:9}/x"\ntext: hi\n\`\`\`\n`
      )
      assert.strictEqual((ok.steps[0]!.spec as { url: string }).url, "http://127.0.0.1:9/x")
    }))
  it.effect("no-go sections: steps under the section a decision names run only on a no-go", () =>
    Effect.gen(function*() {
      const rb = yield* Runbook.decode(
        "x.md",
        `${head}## Go?\n\n\`\`\`step\nkind: decision\nquestion: go?\nnoGo: back-out\n\`\`\`\n\n## Back out\n\nUndo it.\n\n### Undo\n\n\`\`\`step\nkind: manual\nowner: lead\nprompt: undo\n\`\`\`\n`
      )
      assert.deepStrictEqual(rb.steps.map((s) => [s.id, s.branch]), [["go", null], ["undo", "back-out"]])
    }))
})
