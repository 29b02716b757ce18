/**
 * The FIS export: which faults become which FIS actions, in what order, with what targets,
 * and everything FIS cannot express named with its path. Pure: no AWS here (the template is
 * sent to moto's FIS API in test/targets/aws/fis.moto.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Guard from "../../src/core/Guard.ts"
import * as Selector from "../../src/core/Selector.ts"
import * as Aws from "../../src/targets/aws/Faults.ts"
import { type FisStep, isoDuration, ROLE_PLACEHOLDER, toTemplate } from "../../src/targets/aws/Fis.ts"

const inject = (fault: FisStep & { _tag: "Inject" } extends { fault: infer F } ? F : never, path: string): FisStep => ({ _tag: "Inject", fault, path })
const sleep = (millis: number, path: string): FisStep => ({ _tag: "Sleep", millis, path })
const reasons = (r: ReturnType<typeof toTemplate>) => r.unsupported.map((u) => `${u.path}: ${u.reason}`)

describe("FIS export", () => {
  it("keeps the method's order: a sleep is an aws:fis:wait and later actions start after it", () => {
    const r = toTemplate({
      name: "two faults",
      steps: [
        inject(Aws.ec2.stop({ target: Selector.count(Selector.label("team", "web"), 2) }), "method[0].inject"),
        sleep(90_000, "method[1].sleep"),
        inject(Aws.rds.rebootWithFailover({ target: Selector.label("tier", "db") }), "method[2].inject"),
        sleep(30_000, "method[3].sleep")
      ],
      roleArn: "arn:aws:iam::123456789012:role/fis"
    })
    const t = r.template!
    assert.deepStrictEqual(Object.keys(t.actions), ["inject-0", "wait-1", "inject-2", "wait-3"])
    assert.strictEqual(t.actions["inject-0"]!.actionId, "aws:ec2:stop-instances")
    assert.strictEqual(t.actions["inject-0"]!.startAfter, undefined)
    // Stopped from its injection to the end of the method (90 s + 30 s), as faultline reverts.
    assert.deepStrictEqual(t.actions["inject-0"]!.parameters, { startInstancesAfterDuration: "PT120S" })
    assert.deepStrictEqual(t.actions["wait-1"]!.parameters, { duration: "PT90S" })
    assert.deepStrictEqual(t.actions["inject-2"]!.startAfter, ["wait-1"])
    assert.deepStrictEqual(t.actions["inject-2"]!.parameters, { forceFailover: "true" })
    assert.deepStrictEqual(t.actions["wait-3"]!.startAfter, ["wait-1"])
    assert.deepStrictEqual(t.targets["Instances-0"], {
      resourceType: "aws:ec2:instance",
      selectionMode: "COUNT(2)",
      resourceTags: { team: "web", "faultline:allow": "true" }
    })
    assert.strictEqual(t.targets["DBInstances-2"]!.resourceType, "aws:rds:db")
    assert.strictEqual(t.targets["DBInstances-2"]!.selectionMode, "ALL")
    assert.deepStrictEqual(t.stopConditions, [{ source: "none" }])
    assert.deepStrictEqual(r.exported, ["method[0].inject", "method[2].inject"])
    assert.include(reasons(r).join("\n"), "method[2].inject.target.cap: FIS selects ALL")
  })

  it("maps selection modes, EC2 filters and zones; names what it cannot map", () => {
    const r = toTemplate({
      name: "modes",
      steps: [
        inject(
          Aws.ec2.reboot({
            target: Selector.percent(Selector.label("aws:az", "us-east-1a"), 25),
            filters: [{ name: "instance-type", values: ["t3.micro"] }, { name: "owner-id", values: ["1"] }]
          }),
          "m[0]"
        ),
        inject(Aws.ec2.terminate({ target: Selector.random(Selector.label("team", "batch"), 3, 42), az: "us-east-1b" }), "m[1]"),
        inject(Aws.ec2.reboot({ target: Selector.regex("^web-") }), "m[2]")
      ]
    })
    const t = r.template!
    assert.deepStrictEqual(t.targets["Instances-0"], {
      resourceType: "aws:ec2:instance",
      selectionMode: "PERCENT(25)",
      resourceTags: { "faultline:allow": "true" },
      filters: [{ path: "Placement.AvailabilityZone", values: ["us-east-1a"] }, { path: "InstanceType", values: ["t3.micro"] }]
    })
    assert.strictEqual(t.targets["Instances-1"]!.selectionMode, "COUNT(3)")
    assert.deepStrictEqual(t.targets["Instances-1"]!.filters, [{ path: "Placement.AvailabilityZone", values: ["us-east-1b"] }])
    assert.strictEqual(t.actions["inject-1"]!.actionId, "aws:ec2:terminate-instances")
    assert.notProperty(t.targets, "Instances-2")
    const why = reasons(r).join("\n")
    assert.include(why, "m[0].filters[1]: the EC2 filter owner-id has no FIS filter path")
    assert.include(why, "m[1].target.pick: FIS picks 3 at random itself; the seed 42 is not kept")
    assert.include(why, "m[2].target: FIS has no regular-expression selection")
    assert.include(why, `roleArn: no IAM role given (--role-arn): the template says ${ROLE_PLACEHOLDER}`)
  })

  it("writes ARNs for ids only with a region and an account, and says the allow tag is then not checked", () => {
    const fault = Aws.rds.failoverCluster({ target: Selector.id("orders"), failBack: true })
    const without = toTemplate({ name: "ids", steps: [inject(fault, "m[0]")] })
    assert.isNull(without.template)
    assert.include(reasons(without).join("\n"), "m[0].target: selection by id needs --region and --account")
    const withArns = toTemplate({ name: "ids", steps: [inject(fault, "m[0]")], region: "eu-west-1", account: "123456789012" })
    assert.deepStrictEqual(withArns.template!.targets["Clusters-0"], {
      resourceType: "aws:rds:cluster",
      selectionMode: "ALL",
      resourceArns: ["arn:aws:rds:eu-west-1:123456789012:cluster:orders"]
    })
    const why = reasons(withArns).join("\n")
    assert.include(why, "m[0].target: FIS does not check the tag faultline:allow=true on resources named by ARN")
    assert.include(why, "m[0].failBack: FIS does not fail back to the previous writer")
  })

  it("keeps the experiment's allow guards as tags, drops the default one when replaced, and lists the guards FIS lacks", () => {
    const r = toTemplate({
      name: "guards",
      steps: [inject(Aws.ec2.stop({ target: Selector.label("team", "web") }), "m[0]"), sleep(120_000, "m[1]")],
      guards: [Guard.allowLabel("chaos", "yes"), Guard.maxTargets(2)],
      replaceDefaultGuards: true,
      stopAlarms: ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:5xx"]
    })
    assert.deepStrictEqual(r.template!.targets["Instances-0"]!.resourceTags, { team: "web", chaos: "yes" })
    assert.deepStrictEqual(r.template!.stopConditions, [{ source: "aws:cloudwatch:alarm", value: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:5xx" }])
    assert.include(reasons(r).join("\n"), "guards[1]: FIS has no MaxTargets guard")
  })

  it("exports nothing when FIS runs none of the faults, and says why for each", () => {
    const r = toTemplate({
      name: "dns only",
      steps: [inject(Aws.route53.invertHealthCheck({ target: Selector.all }), "method[0].inject")]
    })
    assert.isNull(r.template)
    assert.deepStrictEqual(r.exported, [])
    assert.deepStrictEqual(reasons(r), ["method[0].inject: FIS has no action for aws.route53.invertHealthCheck"])
  })

  it("an EC2 stop shorter than FIS's minimum restart delay is said so, and rounded up", () => {
    const r = toTemplate({ name: "short", steps: [inject(Aws.ec2.stop({ target: Selector.label("a", "b") }), "m[0]"), sleep(5_000, "m[1]")] })
    assert.deepStrictEqual(r.template!.actions["inject-0"]!.parameters, { startInstancesAfterDuration: "PT60S" })
    assert.include(reasons(r).join("\n"), "m[0]: FIS restarts stopped instances after at least 1 minute; the method leaves them stopped 5000 ms")
    assert.strictEqual(isoDuration(1), "PT1S")
    assert.strictEqual(isoDuration(61_500), "PT62S")
  })
})
