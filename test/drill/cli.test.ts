// `faultline drill` end to end: a real CLI process, the real kv store of examples/kv-failover
// behind the embedded fault proxy, a local webhook receiver; scripted answers.
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

import { faultline, journalOf } from "./helpers.ts"

let out = ""
let hooks: Array<unknown> = []
let receiver: http.Server
let hookUrl = ""

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c) => body += c)
    req.on("end", () => {
      hooks.push({ path: req.url, type: req.headers["content-type"], body: JSON.parse(body) })
      res.end("ok")
    })
  })
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()))
  hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/services/T000/B000/secret`
})
afterAll(() => receiver.close())

const fresh = () => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-drill-"))
  hooks = []
  return out
}

const ports = { KV_PORT: "47421", KV_PROXY_PORT: "47422" }

const writeAnswers = (text: string) => {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "answers-")), "answers.yaml")
  fs.writeFileSync(f, text)
  return f
}

describe("faultline drill runbooks/dependency-outage.md --answers", () => {
  it("runs end to end: faults through the embedded proxy, the outage seen, every fault reverted, objectives met, the channel told", async () => {
    const r = await faultline(["drill", "runbooks/dependency-outage.md", "--answers", "runbooks/answers/dependency-outage.yaml", "--out", fresh()], {
      ...ports,
      FAULTLINE_DRILL_WEBHOOK: hookUrl
    })
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const { events, drill } = journalOf(out)
    expect(drill.status).toBe("passed")
    const injected = events.filter((e) => e._tag === "FaultInjected").map((e) => e.fault)
    expect(injected).toEqual(["network.latency", "network.down"])
    expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(2)
    // The faults landed: clients were failing while the dependency was cut off.
    const downAt = events.findIndex((e) => e._tag === "FaultInjected" && e.fault === "network.down")
    const restoreAt = events.findIndex((e) => e._tag === "StepStarted" && e.stepId === "restore-the-dependency")
    expect(events.slice(downAt, restoreAt).some((e) => e._tag === "Sample" && !e.sample.ok)).toBe(true)
    // Every step that waited for people is journaled with who, and the approval with its approver.
    const approve = drill.steps.find((s: any) => s.stepId === "approve-the-faults")
    expect(approve.status).toBe("approved")
    expect(approve.approvers.map((a: any) => a.name)).toEqual(["Grace"])
    const detect = drill.steps.find((s: any) => s.stepId === "detect-the-outage")
    expect(detect.actor.name).toBe("Linus")
    expect(detect.evidence["alert-link"]).toBe("http://127.0.0.1/alerts/kv")
    expect(drill.steps.find((s: any) => s.stepId === "roll-back").status).toBe("pending")
    // A Slack-compatible payload; the webhook's URL (a secret) is named by its variable only.
    expect(hooks).toEqual([{
      path: "/services/T000/B000/secret",
      type: "application/json",
      body: { text: expect.stringContaining("[dependency-outage] Game day"), username: "faultline" }
    }])
    const journal = fs.readFileSync(path.join(journalOf(out).dir, "journal.jsonl"), "utf8")
    expect(journal).not.toContain("secret")
    expect(journal).toContain("$FAULTLINE_DRILL_WEBHOOK")
    expect(fs.readFileSync(path.join(journalOf(out).dir, "drill.md"), "utf8")).toMatch(/\| 8 \| Detect the outage \| manual \| done \| 2m 00s \|/)
  })

  it("an abort while the dependency is cut off reverts every fault and exits 1", async () => {
    const answers = writeAnswers(
      fs.readFileSync("runbooks/answers/dependency-outage.yaml", "utf8").replace(
        /detect-the-outage: .*/,
        "detect-the-outage: { by: Linus, abort: \"real incident elsewhere\" }"
      )
    )
    const r = await faultline(["drill", "runbooks/dependency-outage.md", "--answers", answers, "--out", fresh()], ports)
    expect(r.code, r.stderr + r.stdout).toBe(1)
    const { events, drill } = journalOf(out)
    expect(drill.status).toBe("aborted")
    expect(drill.reason).toMatch(/aborted by Linus .*real incident elsewhere/)
    expect(events.filter((e) => e._tag === "FaultInjected")).toHaveLength(2)
    expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(2)
    expect(drill.steps.find((s: any) => s.stepId === "detect-the-outage").status).toBe("aborted")
  })

  it("a refused approval ends the drill before any fault, journaled with who refused", async () => {
    const answers = writeAnswers(
      fs.readFileSync("runbooks/answers/dependency-outage.yaml", "utf8").replace(
        /approve-the-faults: .*/,
        "approve-the-faults: { approvals: [{ by: Grace, approved: false, reason: \"release freeze\" }] }"
      )
    )
    const r = await faultline(["drill", "runbooks/dependency-outage.md", "--answers", answers, "--out", fresh()], ports)
    expect(r.code).toBe(1)
    const { events, drill } = journalOf(out)
    expect(drill.reason).toMatch(/approval refused at step approve-the-faults by Grace.*release freeze/)
    expect(events.filter((e) => e._tag === "FaultInjected")).toHaveLength(0)
    expect(events.find((e) => e._tag === "StepApproval")).toMatchObject({ approved: false, actor: { name: "Grace", via: "answers" } })
  })
})

describe("faultline drill: bad input exits 2 naming file:line and the field", () => {
  const runbook = (text: string) => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rb-")), "bad.md")
    fs.writeFileSync(f, text)
    return f
  }
  const head = "---\nname: x\nservice: s\ntier: 1\nroles: { lead: leads }\n---\n\n# X\n\n## Brief\n\n"
  it("an unknown key in a step", async () => {
    const f = runbook(`${head}\`\`\`step\nkind: manual\nowner: lead\npromt: hello\n\`\`\`\n`)
    const r = await faultline(["drill", f, "--answers", "/dev/null", "--out", fresh()])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`faultline: ${f}:15: step "Brief": unknown key "promt" at $; did you mean "prompt"?\n`)
  })
  it("a role the front matter does not declare", async () => {
    const f = runbook(`${head}\`\`\`step\nkind: approve\nrole: boss\n\`\`\`\n`)
    const r = await faultline(["drill", f, "--answers", "/dev/null", "--out", fresh()])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`faultline: ${f}:13: step "brief": no role "boss" at role; roles: lead\n`)
  })
  it("an answer for a step the runbook does not have", async () => {
    const a = writeAnswers("steps:\n  brief-teh-room: { by: Ada }\n")
    const r = await faultline(["drill", "runbooks/dependency-outage.md", "--answers", a, "--out", fresh()])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`faultline: ${a}: no step "brief-teh-room" at steps.brief-teh-room; did you mean "brief-the-room"?\n`)
  })
})

describe("faultline drill: a run step", () => {
  it("runs an experiment file as one step, with its own run folder under the drill's", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rb-run-"))
    const f = path.join(dir, "run-step.md")
    // pause-kv.yaml on a port of its own (the docs test runs the original at the same time), its
    // latency bound relaxed: this test is about the step, not about the machine being idle.
    fs.writeFileSync(
      path.join(dir, "pause-kv.yaml"),
      fs.readFileSync("experiments/pause-kv.yaml", "utf8").replaceAll("47311", "47451").replace("maxMs: 50", "maxMs: 2000").replace(
        /examples\//,
        `${path.resolve("examples")}/`
      )
    )
    fs.writeFileSync(
      f,
      [
        "---",
        "name: run-step",
        "service: kv",
        "tier: 3",
        "roles: { facilitator: runs it }",
        "objectives: { rto: \"1 minute\" }",
        "---",
        "",
        "# An experiment inside a drill",
        "",
        "## Start the clock",
        "",
        "```step",
        "kind: checkpoint",
        "action: start",
        "```",
        "",
        "## Pause the store",
        "",
        "The pause-kv experiment, as one step.",
        "",
        "```step",
        "kind: run",
        "experiment: pause-kv.yaml",
        "```",
        "",
        "## Stop the clock",
        "",
        "```step",
        "kind: checkpoint",
        "action: stop",
        "```",
        ""
      ].join("\n")
    )
    const r = await faultline(["drill", f, "--answers", writeAnswers("steps: {}\n"), "--out", fresh()])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const { dir: runDir, drill } = journalOf(out)
    const step = drill.steps.find((s: any) => s.stepId === "pause-the-store")
    expect(step.status).toBe("done")
    expect(step.detail).toMatch(/pause-kv\.yaml: passed — .*run folder /)
    const nested = fs.readdirSync(path.join(runDir, "steps"))
    expect(nested).toHaveLength(1)
    expect(fs.existsSync(path.join(runDir, "steps", nested[0]!, "journal.jsonl"))).toBe(true)
  })
})
