/**
 * `faultline export fis` through the built CLI: the template on stdout, what FIS cannot
 * express on stderr, and bad input as one line with exit 2.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const node = path.join(root, "node_modules", ".bin", "node")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-fis-cli-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const cli = (...args: Array<string>) => {
  const r = spawnSync(node, ["bin/faultline.js", ...args], { cwd: root, encoding: "utf8", timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const file = (name: string, text: string) => {
  const f = path.join(dir, name)
  fs.writeFileSync(f, text)
  return f
}

const hypothesis = [
  "hypothesis:",
  "  - name: answers",
  "    probe: { http: { url: \"http://127.0.0.1:9/health\" } }"
]

describe("faultline export fis", () => {
  it("prints the template and names what FIS cannot express; --out writes it", () => {
    const f = file(
      "web.yaml",
      [
        "name: web loses an instance",
        ...hypothesis,
        "method:",
        "  - inject: { fault: aws.ec2.stop, target: { label: { key: team, value: web }, count: 1 } }",
        "  - sleep: 2 minutes",
        "  - inject: { fault: aws.route53.setWeight, target: { all: true }, hostedZoneId: Z1, recordName: a.example.com, recordType: A, weight: 0 }",
        "objectives: { rto: 30 seconds }"
      ].join("\n")
    )
    const r = cli("export", "fis", f, "--stop-alarm", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:5xx", "--role-arn", "arn:aws:iam::123456789012:role/fis")
    assert.strictEqual(r.code, 0, r.stderr)
    const t = JSON.parse(r.stdout)
    assert.strictEqual(t.actions["inject-0"].actionId, "aws:ec2:stop-instances")
    assert.deepStrictEqual(t.stopConditions, [{ source: "aws:cloudwatch:alarm", value: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:5xx" }])
    assert.strictEqual(t.roleArn, "arn:aws:iam::123456789012:role/fis")
    assert.include(r.stderr, "method[2].inject: FIS has no action for aws.route53.setWeight")
    assert.include(r.stderr, "hypothesis[0]: FIS has no steady-state hypothesis")
    assert.include(r.stderr, "objectives.rto: FIS judges no RTO objective")

    const out = path.join(dir, "template.json")
    const w = cli("export", "fis", f, "--out", out)
    assert.strictEqual(w.code, 0, w.stderr)
    assert.strictEqual(w.stdout, "")
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(out, "utf8")).actions["inject-0"].targets, { Instances: "Instances-0" })
  })

  it("exits 2 with one line when nothing can be exported, for modules, bad ARNs and malformed files", () => {
    const dnsOnly = file(
      "dns.yaml",
      [
        "name: dns only",
        ...hypothesis,
        "method:",
        "  - inject: { fault: aws.route53.invertHealthCheck, target: { all: true } }"
      ].join("\n")
    )
    const nothing = cli("export", "fis", dnsOnly)
    assert.strictEqual(nothing.code, 2)
    assert.strictEqual(nothing.stdout, "")
    assert.match(nothing.stderr, /faultline: .*dns\.yaml: nothing to export: FIS runs none of its faults/)
    assert.notInclude(nothing.stderr, "    at ")

    const mod = cli("export", "fis", "experiments/aws-az-outage.ts")
    assert.strictEqual(mod.code, 2)
    assert.match(mod.stderr, /export fis reads YAML\/JSON experiment files/)

    const web = file(
      "ok.yaml",
      [
        "name: ok",
        ...hypothesis,
        "method:",
        "  - inject: { fault: aws.ec2.reboot, target: { label: { key: team, value: web } } }"
      ].join("\n")
    )
    const arn = cli("export", "fis", web, "--stop-alarm", "my-alarm")
    assert.strictEqual(arn.code, 2)
    assert.match(arn.stderr, /--stop-alarm my-alarm: not a CloudWatch alarm ARN/)

    const typo = file(
      "typo.yaml",
      [
        "name: typo",
        ...hypothesis,
        "method:",
        "  - inject: { fault: aws.ec2.reboot, target: { label: { key: team, value: web } }, hibernat: true }"
      ].join("\n")
    )
    const bad = cli("export", "fis", typo)
    assert.strictEqual(bad.code, 2)
    assert.match(bad.stderr, /typo\.yaml: .*hibernat.*method\[0\]\.inject/)
    assert.strictEqual(bad.stderr.trim().split("\n").length, 1)
  })
})
