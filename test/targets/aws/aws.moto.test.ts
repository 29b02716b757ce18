import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CreateHealthCheckCommand, CreateHostedZoneCommand, ChangeResourceRecordSetsCommand, ChangeTagsForResourceCommand } from "@aws-sdk/client-route-53"
import { RunInstancesCommand } from "@aws-sdk/client-ec2"
import { CreateDBClusterCommand, CreateDBInstanceCommand } from "@aws-sdk/client-rds"
import { Effect, Layer } from "effect"
import { afterAll, assert, beforeAll, it } from "vitest"
import * as Experiment from "../../../src/core/Experiment.ts"
import * as Fault from "../../../src/core/Fault.ts"
import * as Hypothesis from "../../../src/core/Hypothesis.ts"
import * as Probe from "../../../src/core/Probe.ts"
import { Run, layerTest } from "../../../src/core/Run.ts"
import * as Selector from "../../../src/core/Selector.ts"
import * as FileLedger from "../../../src/run/FileLedger.ts"
import * as Integrations from "../../../src/integrations.ts"
import * as Runner from "../../../src/run/Runner.ts"
import * as Aws from "../../../src/targets/aws/index.ts"
import { make } from "../../../src/targets/aws/AwsLive.ts"
import { describeWith } from "../../integration/require.ts"
import { dummyCredentials, type Moto, motoMissing, startMoto } from "../../integration/moto.ts"

const MUTATING =
  /^(ec2\.(Stop|Start|Reboot|Terminate)Instances|rds\.(FailoverDBCluster|RebootDBInstance)|route53\.(ChangeResourceRecordSets|UpdateHealthCheck))$/

describeWith("AWS against moto", motoMissing(), () => {
  let moto: Moto
  let driver: Aws.AwsDriver["Service"]
  const sent: Array<string> = []
  const count = (client: any, service: string) =>
    client.middlewareStack.add((next: any, ctx: any) => (args: any) => {
      sent.push(`${service}.${String(ctx.commandName).replace(/Command$/, "")}`)
      return next(args)
    }, { step: "initialize", name: `count-${service}` })
  const mutations = () => sent.filter((s) => MUTATING.test(s))
  const layer = () => Layer.succeed(Aws.AwsDriver, driver)
  const inRun = <A, E>(eff: Effect.Effect<A, E, Aws.AwsDriver | Run | import("effect").Scope.Scope>, guards = Aws.defaultGuards, irreversible = false) =>
    Effect.runPromise(Effect.scoped(eff).pipe(Effect.provide(Layer.merge(layer(), layerTest({ guards, irreversible })))) as Effect.Effect<A, E>)
  const ids: Record<string, Array<string>> = {}
  const state = async (id: string) => Effect.runPromise(Effect.provide(Probe.sample(Aws.probes.ec2InstanceState(id)), layer()))

  beforeAll(async () => {
    dummyCredentials()
    moto = await startMoto()
    driver = make({ region: "us-east-1", endpoint: moto.endpoint })
    count(driver.clients.ec2, "ec2")
    count(driver.clients.rds, "rds")
    count(driver.clients.route53, "route53")
    const run = async (az: string, n: number, allow: boolean, key: string) => {
      const r = await driver.clients.ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12c6146b",
          MinCount: n,
          MaxCount: n,
          Placement: { AvailabilityZone: az },
          TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: key }, ...(allow ? [{ Key: "faultline:allow", Value: "true" }] : [])] }]
        })
      )
      ids[key] = r.Instances!.map((i) => i.InstanceId!)
    }
    await run("us-east-1a", 3, true, "web-a")
    await run("us-east-1b", 2, true, "web-b")
    await run("us-east-1a", 1, false, "locked")
  })
  afterAll(async () => {
    await moto?.stop()
  })

  it("aws.ec2.stop of one AZ: one StopInstances for every id, guards pass, the scope starts them again", async () => {
    sent.length = 0
    await inRun(Effect.gen(function*() {
      yield* Fault.inject(Aws.ec2.stop({ target: Selector.label("app", "web-a"), az: "us-east-1a" }))
      for (const id of ids["web-a"]!) assert.strictEqual((yield* Effect.promise(() => state(id))).value, "stopped")
      for (const id of ids["web-b"]!) assert.strictEqual((yield* Effect.promise(() => state(id))).value, "running")
    }))
    assert.deepStrictEqual(sent.filter((s) => s === "ec2.StopInstances"), ["ec2.StopInstances"])
    assert.strictEqual(sent.filter((s) => s === "ec2.StartInstances").length, 3)
    for (const id of ids["web-a"]!) assert.strictEqual((await state(id)).value, "running")
  })

  it("targets carry tags and the AZ as labels; percent and count pick from them", async () => {
    const targets = await Effect.runPromise(driver.discover(Aws.ec2.stop({ target: Selector.all })))
    const t = targets.find((x) => x.id === ids["web-b"]![0])!
    assert.strictEqual(t.labels["aws:az"], "us-east-1b")
    assert.strictEqual(t.labels["faultline:allow"], "true")
    sent.length = 0
    await inRun(Effect.gen(function*() {
      const injs = yield* Fault.inject(Aws.ec2.reboot({ target: Selector.percent(Selector.label("faultline:allow", "true"), 40) }))
      assert.strictEqual(injs.length, 2) // 40 % of 5, rounded up
      const one = yield* Fault.inject(Aws.ec2.reboot({ target: Selector.count(Selector.label("app", "web-b"), 1) }))
      assert.strictEqual(one.length, 1)
    }))
    assert.deepStrictEqual(mutations(), ["ec2.RebootInstances", "ec2.RebootInstances"])
  })

  it("the default guard refuses an instance without faultline:allow=true before any call that changes it", async () => {
    sent.length = 0
    const exit = await inRun(Effect.exit(Fault.inject(Aws.ec2.stop({ target: Selector.label("app", "locked") }))))
    assert.strictEqual(exit._tag, "Failure")
    assert.match(String((exit as any).cause), /GuardRejected|lacks label faultline:allow=true/)
    assert.deepStrictEqual(mutations(), [])
    assert.strictEqual((await state(ids["locked"]![0]!)).value, "running")
  })

  it("aws.ec2.terminate is refused as irreversible before any call unless the experiment acknowledges it", async () => {
    sent.length = 0
    const fault = new Aws.Ec2Terminate({ target: Selector.label("app", "web-b") })
    const exit = await inRun(Effect.exit(Fault.inject(fault)))
    assert.strictEqual(exit._tag, "Failure")
    assert.match(String((exit as any).cause), /irreversible/)
    assert.deepStrictEqual(mutations(), [])
    const direct = await Effect.runPromise(Effect.flip(
      Effect.provide(
        Effect.flatMap(Aws.AwsDriver, (d) => d.prepare!(fault, (d as any) && ({ kind: "ec2-instance", id: "i-1", name: "i-1", labels: {} } as any))),
        layer()
      )
    ))
    assert.strictEqual(direct.reason, "Irreversible")
  })

  it("aws.ec2.terminate acknowledged by the fault and the experiment (irreversible: true) terminates; the experiment alone must also say so", async () => {
    const r = await driver.clients.ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: "doomed" }, { Key: "faultline:allow", Value: "true" }] }]
      })
    )
    const id = r.Instances![0]!.InstanceId!
    sent.length = 0
    // Refused by the core while the experiment has not acknowledged irreversible faults too.
    const refused = await inRun(Fault.inject(Aws.ec2.terminate({ target: Selector.label("app", "doomed") }))).then(() => null, (e) => String(e))
    assert.include(refused ?? "", "irreversible")
    assert.deepStrictEqual(mutations(), [])
    await inRun(Fault.inject(Aws.ec2.terminate({ target: Selector.label("app", "doomed") })), Aws.defaultGuards, true)
    assert.deepStrictEqual(mutations(), ["ec2.TerminateInstances"])
    assert.strictEqual((await state(id)).value, "terminated")
  })

  it("aws.rds.failoverCluster to a target instance: the writer probe times the failover; rebootWithFailover sends ForceFailover", async () => {
    await driver.clients.rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: "orders",
        Engine: "aurora-postgresql",
        MasterUsername: "u",
        MasterUserPassword: "not-a-secret-1",
        Tags: [{ Key: "faultline:allow", Value: "true" }]
      })
    )
    for (const i of ["orders-1", "orders-2"]) {
      await driver.clients.rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: i,
          DBClusterIdentifier: "orders",
          Engine: "aurora-postgresql",
          DBInstanceClass: "db.r5.large",
          Tags: [{ Key: "faultline:allow", Value: "true" }]
        })
      )
    }
    const writer = () => Effect.runPromise(Effect.provide(Aws.probes.clusterStatus("orders"), layer()))
    assert.strictEqual((await writer()).writer, "orders-1")
    sent.length = 0
    await inRun(Effect.gen(function*() {
      yield* Fault.inject(Aws.rds.failoverCluster({ target: Selector.id("orders"), targetInstance: "orders-2", failBack: true }))
      const s = yield* Probe.sample(Aws.probes.rdsCluster("orders", { writer: "orders-2" }))
      assert.isTrue(s.ok)
      yield* Fault.inject(Aws.rds.rebootWithFailover({ target: Selector.id("orders-2") }))
    }))
    // failBack: the revert failed back to the previous writer
    assert.strictEqual((await writer()).writer, "orders-1")
    assert.deepStrictEqual(mutations(), ["rds.FailoverDBCluster", "rds.RebootDBInstance", "rds.FailoverDBCluster"])
  })

  it("aws.route53.setWeight: the revert restores the previous record set exactly; GetChange reaches INSYNC", async () => {
    const zone = await driver.clients.route53.send(new CreateHostedZoneCommand({ Name: "shop.test", CallerReference: `z${Math.random()}` }))
    const zoneId = zone.HostedZone!.Id!.replace("/hostedzone/", "")
    await driver.clients.route53.send(
      new ChangeTagsForResourceCommand({ ResourceType: "hostedzone", ResourceId: zoneId, AddTags: [{ Key: "faultline:allow", Value: "true" }] })
    )
    const rec = (id: string, w: number, ip: string) => ({
      Name: "api.shop.test.",
      Type: "A" as const,
      SetIdentifier: id,
      Weight: w,
      TTL: 30,
      ResourceRecords: [{ Value: ip }]
    })
    await driver.clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [{ Action: "CREATE", ResourceRecordSet: rec("blue", 90, "10.0.0.1") }, { Action: "CREATE", ResourceRecordSet: rec("green", 10, "10.0.0.2") }]
        }
      })
    )
    const list = async () =>
      (await driver.clients.route53.send(new (await import("@aws-sdk/client-route-53")).ListResourceRecordSetsCommand({ HostedZoneId: zoneId })))
        .ResourceRecordSets!.filter((r) => r.SetIdentifier)
    const before = JSON.stringify(await list())
    sent.length = 0
    await inRun(Effect.gen(function*() {
      const [inj] = yield* Fault.inject(
        Aws.route53.setWeight({ target: Selector.regex("blue$"), hostedZoneId: zoneId, recordName: "api.shop.test", recordType: "A", weight: 0 })
      )
      const during = yield* Effect.promise(list)
      assert.strictEqual(during.find((r) => r.SetIdentifier === "blue")!.Weight, 0)
      const polls = yield* Aws.probes.awaitInsync(String(inj!.revert.data.changeId), { every: "10 millis" })
      assert.isAtLeast(polls, 1)
    }))
    assert.strictEqual(JSON.stringify(await list()), before)
    assert.deepStrictEqual(mutations(), ["route53.ChangeResourceRecordSets", "route53.ChangeResourceRecordSets"])
  })

  it("aws.route53.invertHealthCheck inverts and un-inverts; reverting twice is a no-op", async () => {
    const hc = await driver.clients.route53.send(
      new CreateHealthCheckCommand({
        CallerReference: `h${Math.random()}`,
        HealthCheckConfig: { Type: "HTTP", IPAddress: "10.0.0.1", Port: 80, ResourcePath: "/" }
      })
    )
    const id = hc.HealthCheck!.Id!
    await driver.clients.route53.send(
      new ChangeTagsForResourceCommand({
        ResourceType: "healthcheck",
        ResourceId: id,
        AddTags: [{ Key: "faultline:allow", Value: "true" }, { Key: "Name", Value: "api-hc" }]
      })
    )
    const inverted = async () =>
      (await driver.clients.route53.send(new (await import("@aws-sdk/client-route-53")).GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!
        .HealthCheckConfig!.Inverted
    sent.length = 0
    await inRun(Effect.gen(function*() {
      const [inj] = yield* Fault.inject(Aws.route53.invertHealthCheck({ target: Selector.name("api-hc") }))
      assert.isTrue(yield* Effect.promise(inverted))
      yield* Fault.revert(inj!)
      yield* Fault.revert(inj!)
      yield* Effect.orDie(driver.revert(inj!.revert)) // a second, direct revert: nothing to undo
    }))
    assert.isFalse(await inverted())
    assert.deepStrictEqual(mutations(), ["route53.UpdateHealthCheck", "route53.UpdateHealthCheck"])
  })

  it("a dry run lists every call (stop and its revert start) and sends no mutating call", async () => {
    sent.length = 0
    const exp = Experiment.make({
      name: "plan",
      hypothesis: Hypothesis.make("ok", { probe: Probe.make("ok", Effect.succeed(1)), every: "10 millis", samples: 1 }),
      method: Effect.gen(function*() {
        yield* Fault.inject(Aws.ec2.stop({ target: Selector.label("app", "web-a") }))
        yield* Fault.inject(Aws.route53.invertHealthCheck({ target: Selector.name("api-hc") }))
      }),
      guards: Aws.defaultGuards
    })
    const r = await Effect.runPromise(Effect.provide(Experiment.run(exp, { dryRun: true }), layer()))
    assert.strictEqual(r.verdict.status, "planned")
    const calls = r.entries.flatMap((e) => e.event._tag === "CallsPlanned" ? e.event.calls : [])
    const ops = calls.map((c) => `${c.phase} ${c.service}.${c.operation}`)
    assert.include(ops, "inject ec2.StopInstances")
    assert.include(ops, "revert ec2.StartInstances")
    assert.include(ops, "inject route53.UpdateHealthCheck")
    assert.deepStrictEqual((calls.find((c) => c.operation === "StopInstances")!.params as any).InstanceIds.sort(), [...ids["web-a"]!].sort())
    assert.deepStrictEqual(mutations(), [])
    assert.isAbove(sent.length, 0) // read-only look-ups were made
  })

  it("the out-of-process reverter starts a stopped instance from a ledger record (region + endpoint, no credentials)", async () => {
    const id = ids["web-b"]![0]!
    await driver.clients.ec2.send(new (await import("@aws-sdk/client-ec2")).StopInstancesCommand({ InstanceIds: [id] }))
    assert.strictEqual((await state(id)).value, "stopped")
    const record = {
      runId: "r",
      faultId: "r/f1",
      driver: "aws",
      connection: driver.connection!,
      fault: "aws.ec2.stop",
      state: "injected" as const,
      target: { kind: "ec2-instance", id, name: id, labels: {} } as any,
      revert: { driver: "aws", fault: "aws.ec2.stop", target: { kind: "ec2-instance", id, name: id, labels: {} } as any, data: { instanceId: id } }
    }
    // No module path in the record: the reverter is looked up by driver name in the list.
    assert.deepStrictEqual(Object.keys(driver.connection!).sort(), ["endpoint", "region"])
    const revert = await Effect.runPromise(Integrations.reverterFor(record.driver))
    await Effect.runPromise(revert(record))
    await Effect.runPromise(revert(record))
    assert.strictEqual((await state(id)).value, "running")
  })

  it("no credential reaches the journal, report, ledger or logs (canary secret and session token)", async () => {
    const canary = "CANARY-secret-6f1e2d"
    process.env.AWS_SECRET_ACCESS_KEY = canary
    process.env.AWS_SESSION_TOKEN = `${canary}-token`
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-canary-"))
    const logs: Array<string> = []
    const orig = [process.stdout.write, process.stderr.write]
    process.stdout.write = ((c: any, ...a: any[]) => (logs.push(String(c)), (orig[0] as any).call(process.stdout, c, ...a))) as any
    process.stderr.write = ((c: any, ...a: any[]) => (logs.push(String(c)), (orig[1] as any).call(process.stderr, c, ...a))) as any
    try {
      const fresh = make({ region: "us-east-1", endpoint: moto.endpoint })
      const exp = Experiment.make({
        name: "canary",
        hypothesis: Hypothesis.make("ec2", { probe: Aws.probes.ec2InstanceState(ids["web-b"]![1]!, { expect: "running" }), every: "5 millis", samples: 40 }),
        method: Effect.gen(function*() {
          yield* Fault.inject(Aws.ec2.stop({ target: Selector.label("app", "web-a") }))
          yield* Effect.sleep("50 millis")
        }),
        guards: Aws.defaultGuards
      })
      const o = await Effect.runPromise(
        Runner.run(exp, { out, onEntry: (e) => logs.push(JSON.stringify(e)) }).pipe(
          Effect.provide(Layer.merge(Layer.succeed(Aws.AwsDriver, fresh), FileLedger.layer({ dir: path.join(out, "ledger"), watchdog: false } as any)))
        )
      )
      assert.strictEqual(o.result.verdict.status, "passed", o.result.verdict.reason)
    } finally {
      process.stdout.write = orig[0] as any
      process.stderr.write = orig[1] as any
      process.env.AWS_SECRET_ACCESS_KEY = "testing"
      delete process.env.AWS_SESSION_TOKEN
    }
    const files: Array<string> = []
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name))
        else files.push(path.join(d, e.name))
      }
    }
    walk(out)
    assert.isAtLeast(files.length, 4) // journal, report.json, report.md, ledger records
    assert.isTrue(files.some((f) => f.includes("ledger")))
    for (const f of files) assert.notInclude(fs.readFileSync(f, "utf8"), canary, f)
    assert.isAbove(logs.length, 0)
    for (const l of logs) assert.notInclude(l, canary)
    for (const id of ids["web-a"]!) assert.strictEqual((await state(id)).value, "running")
  })
})
