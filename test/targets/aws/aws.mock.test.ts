import * as dgram from "node:dgram"
import { EC2Client, DescribeInstancesCommand, StopInstancesCommand } from "@aws-sdk/client-ec2"
import { mockClient } from "aws-sdk-client-mock"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, assert, describe, it } from "vitest"
import * as Fault from "../../../src/core/Fault.ts"
import * as Guard from "../../../src/core/Guard.ts"
import * as Probe from "../../../src/core/Probe.ts"
import { layerTest } from "../../../src/core/Run.ts"
import * as Selector from "../../../src/core/Selector.ts"
import * as Aws from "../../../src/targets/aws/index.ts"
import { make } from "../../../src/targets/aws/AwsLive.ts"

describe("AWS driver (aws-sdk-client-mock)", () => {
  const ec2 = mockClient(EC2Client)
  afterEach(() => ec2.reset())
  process.env.AWS_ACCESS_KEY_ID ??= "testing"
  process.env.AWS_SECRET_ACCESS_KEY ??= "testing"

  const instances = (n: number) => ({
    Reservations: [{
      Instances: Array.from({ length: n }, (_, i) => ({
        InstanceId: `i-${String(i).padStart(8, "0")}`,
        State: { Name: "running" as const },
        Placement: { AvailabilityZone: "us-east-1a" },
        Tags: [{ Key: "faultline:allow", Value: "true" }]
      }))
    }]
  })
  const driverLayer = () => Layer.succeed(Aws.AwsDriver, make({ region: "us-east-1", endpoint: "http://127.0.0.1:9" }))

  it("2,500 instances are stopped in 3 StopInstances calls of at most 1000 ids (aws-sdk-client-mock: too many instances to create in moto quickly)", async () => {
    ec2.on(DescribeInstancesCommand).resolves(instances(2500))
    ec2.on(StopInstancesCommand).resolves({})
    const sel = Selector.cap(Selector.label("faultline:allow", "true"), 5000)
    await Effect.runPromise(
      Effect.scoped(Effect.gen(function*() {
        const injs = yield* Fault.inject(Aws.ec2.stop({ target: sel }))
        assert.strictEqual(injs.length, 2500)
        // leave the scope without reverting for real: the mock answers DescribeInstances "running"
      })).pipe(
        Effect.provide(
          Layer.merge(driverLayer(), layerTest({ guards: [Guard.allowLabel(Aws.ALLOW_TAG, "true"), Guard.maxTargets(5000)], replaceDefaultGuards: true }))
        )
      )
    )
    const sizes = ec2.commandCalls(StopInstancesCommand).map((c) => c.args[0].input.InstanceIds!.length)
    assert.deepStrictEqual(sizes, [1000, 1000, 500])
  })

  it("throttling is retried with exponential backoff and jitter, then succeeds (aws-sdk-client-mock: moto cannot throttle)", async () => {
    const throttle = Object.assign(new Error("Rate exceeded"), { name: "RequestLimitExceeded", $metadata: { httpStatusCode: 503 } })
    ec2.on(StopInstancesCommand).rejectsOnce(throttle).rejectsOnce(throttle).resolves({})
    const d = make({ region: "us-east-1", endpoint: "http://127.0.0.1:9" })
    const calls = () => ec2.commandCalls(StopInstancesCommand).length
    // The mocked SDK answers through promises: let the event loop run them (no time passes).
    const settle = Effect.promise(async () => {
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
    })
    // On the TestClock, in 1 ms steps: the backoffs are 100 ms then 200 ms, each scaled by a
    // jitter factor in [0.8, 1.2]. Each call is stamped with the clock time it was seen at.
    await Effect.runPromise(
      Effect.gen(function*() {
        const f = yield* Effect.forkChild(d.call("ec2", "StopInstances", { InstanceIds: ["i-1"] }, "i-1"))
        const seenAt: Array<number> = []
        for (let ms = 0; ms <= 1000 && seenAt.length < 3; ms++) {
          yield* settle
          while (seenAt.length < calls()) seenAt.push(ms)
          yield* TestClock.adjust("1 millis")
        }
        assert.strictEqual(calls(), 3)
        assert.strictEqual(seenAt[0], 0)
        const [first, second] = [seenAt[1]! - seenAt[0]!, seenAt[2]! - seenAt[1]!]
        assert.isTrue(first >= 80 && first <= 120, `first backoff ${first} ms, expected 100 ms +/- 20 %`)
        assert.isTrue(second >= 160 && second <= 240, `second backoff ${second} ms, expected 200 ms +/- 20 %`)
        yield* Fiber.join(f)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    // when throttling persists, the typed error says so
    ec2.reset()
    ec2.on(StopInstancesCommand).rejects(throttle)
    // On the TestClock: every backoff is a Clock sleep, so no real time passes here.
    const e = await Effect.runPromise(
      Effect.gen(function*() {
        const f = yield* Effect.forkChild(Effect.flip(d.call("ec2", "StopInstances", { InstanceIds: ["i-1"] }, "i-1")))
        for (let i = 0; i < 20 && f.pollUnsafe() === undefined; i++) {
          yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
          yield* TestClock.adjust("10 seconds")
        }
        return yield* Fiber.join(f)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    assert.strictEqual(e.reason, "Throttled")
    assert.strictEqual(ec2.commandCalls(StopInstancesCommand).length, 1 + Aws.THROTTLE_RETRIES)
  })

  it("a failed batch injection undoes what may have landed and fails typed (aws-sdk-client-mock: moto cannot fail on demand)", async () => {
    ec2.on(DescribeInstancesCommand).resolves(instances(2))
    ec2.on(StopInstancesCommand).rejects(Object.assign(new Error("bad state"), { name: "IncorrectInstanceState", $metadata: { httpStatusCode: 400 } }))
    const exit = await Effect.runPromise(
      Effect.exit(Effect.scoped(Fault.inject(Aws.ec2.stop({ target: Selector.all })))).pipe(
        Effect.provide(Layer.merge(driverLayer(), layerTest({ guards: Aws.defaultGuards })))
      )
    )
    assert.strictEqual(exit._tag, "Failure")
    assert.match(String((exit as any).cause), /InjectionFailed[\s\S]*InvalidState/)
    // the prepared reverts looked (DescribeInstances) and found nothing stopped: no StartInstances
    assert.strictEqual(ec2.commandCalls(StopInstancesCommand).length, 1)
  })

  it("AWS exceptions map to AwsError reasons at the boundary (aws-sdk-client-mock: moto cannot fail on demand)", async () => {
    const d = make({ region: "us-east-1", endpoint: "http://127.0.0.1:9" })
    const cases: Array<[string, number, string]> = [
      ["InvalidInstanceID.NotFound", 400, "NotFound"],
      ["UnauthorizedOperation", 403, "AccessDenied"],
      ["IncorrectInstanceState", 400, "InvalidState"],
      ["InternalError", 500, "Unavailable"]
    ]
    for (const [name, status, reason] of cases) {
      ec2.reset()
      ec2.on(StopInstancesCommand).rejects(Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } }))
      const e = await Effect.runPromise(Effect.flip(d.call("ec2", "StopInstances", { InstanceIds: ["i-1"] }, "i-1")))
      assert.strictEqual(e._tag, "AwsError")
      assert.strictEqual(e.reason, reason, name)
      assert.strictEqual(e.operation, "ec2.StopInstances")
    }
  })

  it("the connection never carries credentials, even from an endpoint with user-info", () => {
    const d = make({ region: "eu-west-1", endpoint: "http://user:s3cret@127.0.0.1:9" })
    assert.notInclude(JSON.stringify(d.connection), "s3cret")
    assert.strictEqual((d.connection as any).endpoint, "http://127.0.0.1:9")
  })
})

// A tiny DNS responder: answers every A question with one address.
const dnsServer = (address: string) =>
  new Promise<{ port: number; close: () => void; queries: Array<string> }>((resolve) => {
    const sock = dgram.createSocket("udp4")
    const queries: Array<string> = []
    sock.on("message", (msg, rinfo) => {
      let i = 12
      const labels: Array<string> = []
      while (msg[i] !== 0) {
        labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString())
        i += msg[i]! + 1
      }
      queries.push(labels.join("."))
      const question = msg.subarray(12, i + 5)
      const header = Buffer.from([msg[0]!, msg[1]!, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0])
      const answer = Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]), Buffer.from(address.split(".").map(Number))])
      sock.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address)
    })
    sock.bind(0, "127.0.0.1", () => resolve({ port: sock.address().port, close: () => sock.close(), queries }))
  })

describe("DNS answer probe against a local UDP responder", () => {
  it("resolves through the given resolver and checks the expected answer", async () => {
    const srv = await dnsServer("10.1.2.3")
    try {
      const good = await Effect.runPromise(Probe.sample(Aws.dns("api.shop.test", { servers: [`127.0.0.1:${srv.port}`], expect: ["10.1.2.3"] })))
      assert.isTrue(good.ok)
      assert.deepStrictEqual(good.value, ["10.1.2.3"])
      const bad = await Effect.runPromise(Probe.sample(Aws.dns("api.shop.test", { servers: [`127.0.0.1:${srv.port}`], expect: ["10.9.9.9"] })))
      assert.isFalse(bad.ok)
      assert.include(srv.queries, "api.shop.test")
    } finally {
      srv.close()
    }
  })
})
