/**
 * Dry runs send no mutating AWS call: counted on the wire. A small HTTP forwarder on
 * 127.0.0.1 sits in front of moto and records the operation of every request it passes on;
 * `faultline plan` (the CLI) and `Experiment.run({ dryRun: true })` (the library) are
 * pointed at it. The end state alone cannot tell (a Stop followed by a Start leaves it
 * unchanged); the count can.
 */
import { spawn } from "node:child_process"
import * as http from "node:http"
import type * as net from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { CreateDBClusterCommand, CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds"
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2"
import { Effect, Fiber } from "effect"
import { afterAll, assert, beforeAll, beforeEach, it } from "vitest"
import * as Experiment from "../../../src/core/Experiment.ts"
import * as Fault from "../../../src/core/Fault.ts"
import * as Hypothesis from "../../../src/core/Hypothesis.ts"
import * as Probe from "../../../src/core/Probe.ts"
import * as Selector from "../../../src/core/Selector.ts"
import * as Tolerance from "../../../src/core/Tolerance.ts"
import * as Aws from "../../../src/targets/aws/index.ts"
import { describeWith } from "../../integration/require.ts"
import { dummyCredentials, type Moto, motoMissing, startMoto } from "../../integration/moto.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const node = path.join(root, "node_modules", ".bin", "node")

/** One request the forwarder passed on: the service's operation and whether it reads only. */
interface Seen {
  readonly operation: string
  readonly readOnly: boolean
}

// EC2 and RDS speak the query protocol (`Action=` in the form body); Route 53 is REST, where
// reads are GETs. Reads are Describe*/List*/Get*; anything else changes something.
const classify = (method: string, url: string, body: string): Seen => {
  const action = new URLSearchParams(body).get("Action") ?? new URL(url, "http://x").searchParams.get("Action")
  if (action !== null) return { operation: action, readOnly: /^(Describe|List|Get)/.test(action) }
  return { operation: `${method} ${url}`, readOnly: method === "GET" || method === "HEAD" }
}

/** The counting forwarder: every request to it goes to `upstream`, and is recorded. */
const countingForwarder = async (upstream: string) => {
  const seen: Array<Seen> = []
  const target = new URL(upstream)
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (d: Buffer) => chunks.push(d))
    req.on("end", () => {
      const body = Buffer.concat(chunks)
      seen.push(classify(req.method ?? "GET", req.url ?? "/", body.toString("utf8")))
      const out = http.request({
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers
      }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      out.on("error", (e) => {
        res.writeHead(502)
        res.end(String(e))
      })
      out.end(body)
    })
  })
  const sockets = new Set<net.Socket>()
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const port = (server.address() as net.AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    mutating: () => seen.filter((s) => !s.readOnly).map((s) => s.operation),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      })
  }
}

describeWith("dry runs against moto send no mutating call (counted on the wire)", motoMissing(), () => {
  let moto: Moto
  let counter: Awaited<ReturnType<typeof countingForwarder>>

  beforeAll(async () => {
    dummyCredentials()
    moto = await startMoto()
    counter = await countingForwarder(moto.endpoint)
    // Set up straight against moto, so the counter sees only what the code under test sends.
    const ec2 = new EC2Client({ region: "us-east-1", endpoint: moto.endpoint })
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 2,
        MaxCount: 2,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: "web" }, { Key: "faultline:allow", Value: "true" }] }]
      })
    )
    const rds = new RDSClient({ region: "us-east-1", endpoint: moto.endpoint })
    await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: "orders",
        Engine: "aurora-postgresql",
        MasterUsername: "u",
        MasterUserPassword: "not-a-secret-1",
        Tags: [{ Key: "faultline:allow", Value: "true" }]
      })
    )
    for (const i of ["orders-1", "orders-2"]) {
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: i,
          DBClusterIdentifier: "orders",
          Engine: "aurora-postgresql",
          DBInstanceClass: "db.r5.large",
          Tags: [{ Key: "faultline:allow", Value: "true" }]
        })
      )
    }
  })
  afterAll(async () => {
    await counter?.close()
    await moto?.stop()
  })
  beforeEach(() => {
    counter.seen.length = 0
  })

  it("faultline plan: only Describe/List/Get calls reach AWS, while the plan lists the mutating ones", async () => {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(node, ["src/cli/main.ts", "plan", "test/fixtures/aws-experiment.ts"], {
        cwd: root,
        env: { ...process.env, FAULTLINE_AWS_ENDPOINT: counter.endpoint, AWS_REGION: "us-east-1" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => (stdout += d))
      child.stderr.on("data", (d) => (stderr += d))
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
      child.on("exit", (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /WOULD CALL ec2\.StopInstances/)
    // The plan went through the counter (it looked the instances up)...
    assert.include(counter.seen.map((s) => s.operation), "DescribeInstances")
    // ...and sent nothing that changes anything.
    assert.deepStrictEqual(counter.mutating(), [])
  }, 90_000)

  const ok = Hypothesis.make("ok", { probe: Probe.make("ok", Effect.succeed(1)), every: "10 millis", samples: 1, tolerance: Tolerance.all() })
  const experiment = Experiment.make({
    name: "stop web and fail orders over",
    hypothesis: ok,
    method: Effect.gen(function*() {
      yield* Fault.inject(Aws.ec2.stop({ target: Selector.label("app", "web") }))
      yield* Fault.inject(Aws.rds.failoverCluster({ target: Selector.id("orders"), targetInstance: "orders-2" }))
    }),
    guards: Aws.defaultGuards
  })
  const runThroughCounter = (dryRun: boolean) =>
    Effect.runPromise(
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Experiment.run(experiment, { dryRun }))
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(Aws.AwsDriver.layerConfig({ region: "us-east-1", endpoint: counter.endpoint })))
    )

  it("Experiment.run with dryRun: EC2 and RDS faults planned, no mutating call on the wire", async () => {
    const r = await runThroughCounter(true)
    assert.strictEqual(r.verdict.status, "planned", r.verdict.reason)
    const planned = r.entries.flatMap((e) => e.event._tag === "CallsPlanned" ? e.event.calls.filter((c) => c.mutating).map((c) => c.operation) : [])
    assert.includeMembers(planned, ["StopInstances", "StartInstances", "FailoverDBCluster"])
    const ops = counter.seen.map((s) => s.operation)
    assert.include(ops, "DescribeInstances")
    assert.include(ops, "DescribeDBClusters")
    assert.deepStrictEqual(counter.mutating(), [])
  }, 60_000)

  it("the counter sees mutating calls when there are some: the same experiment run for real", async () => {
    const r = await runThroughCounter(false)
    assert.strictEqual(r.verdict.cleanup, "ok", r.verdict.reason)
    assert.includeMembers(counter.mutating(), ["StopInstances", "StartInstances", "FailoverDBCluster"])
  }, 60_000)
})
