/**
 * `faultline plan` and `faultline run` on an AWS experiment against moto, through the CLI
 * (run from source), including the runner's death: the watchdog reverts the AWS fault.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2"
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { afterAll, assert, beforeAll, it } from "vitest"
import * as Experiment from "../../../src/core/Experiment.ts"
import * as Stopwatch from "../../../src/core/Stopwatch.ts"
import { ProcessDriver } from "../../../src/targets/process/ProcessDriver.ts"
import { describeWith } from "../../integration/require.ts"
import { dummyCredentials, type Moto, motoMissing, startMoto } from "../../integration/moto.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const node = path.join(root, "node_modules", ".bin", "node")
const CANARY = "CANARY-cli-secret-91ab"

describeWith("faultline plan/run on AWS (moto)", motoMissing(), () => {
  let moto: Moto
  let ec2: EC2Client
  let ids: Array<string> = []
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-aws-cli-"))

  const states = async () => {
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))
    return r.Reservations!.flatMap((x) => x.Instances!.map((i) => i.State!.Name!)).sort()
  }
  const cli = (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}, onStderr?: (text: string, kill: () => void) => void) =>
    new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(node, ["src/cli/main.ts", ...args], {
        cwd: root,
        env: { ...process.env, FAULTLINE_AWS_ENDPOINT: moto.endpoint, AWS_REGION: "us-east-1", ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => (stdout += d))
      child.stderr.on("data", (d) => {
        stderr += d
        onStderr?.(stderr, () => child.kill("SIGKILL"))
      })
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
      child.on("exit", (code, signal) => {
        clearTimeout(timer)
        resolve({ code, signal, stdout, stderr })
      })
    })

  beforeAll(async () => {
    dummyCredentials()
    moto = await startMoto()
    ec2 = new EC2Client({ region: "us-east-1", endpoint: moto.endpoint })
    const r = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 2,
        MaxCount: 2,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: "web" }, { Key: "faultline:allow", Value: "true" }] }]
      })
    )
    ids = r.Instances!.map((i) => i.InstanceId!)
  })
  afterAll(async () => {
    await moto?.stop()
  })

  it("faultline plan prints every call (operation + parameters) and changes nothing", async () => {
    const r = await cli(["plan", "test/fixtures/aws-experiment.ts"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /WOULD CALL ec2\.StopInstances \{"InstanceIds":\[/)
    assert.match(r.stdout, /revert\s+WOULD CALL ec2\.StartInstances/)
    for (const id of ids) assert.include(r.stdout, id)
    assert.deepStrictEqual(await states(), ["running", "running"])
    const json = await cli(["plan", "test/fixtures/aws-experiment.ts", "--json"])
    const plan = JSON.parse(json.stdout)
    assert.deepStrictEqual(plan.calls.filter((c: any) => c.mutating).map((c: any) => `${c.phase} ${c.operation}`), [
      "inject StopInstances",
      "revert StartInstances",
      "revert StartInstances"
    ])
    assert.deepStrictEqual(await states(), ["running", "running"])
  })

  it("faultline run stops and restarts the instances; no canary credential in any file or output", async () => {
    const dir = path.join(out, "run")
    const r = await cli(["run", "test/fixtures/aws-experiment.ts", "--out", dir], { AWS_SECRET_ACCESS_KEY: CANARY, AWS_SESSION_TOKEN: `${CANARY}-token` })
    assert.strictEqual(r.code, 0, r.stderr + r.stdout)
    assert.deepStrictEqual(await states(), ["running", "running"])
    const files: Array<string> = []
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name))
        else files.push(path.join(d, e.name))
      }
    }
    walk(dir)
    assert.isTrue(files.some((f) => f.endsWith("journal.jsonl")) && files.some((f) => f.includes(`${path.sep}ledger${path.sep}`)))
    for (const f of files) assert.notInclude(fs.readFileSync(f, "utf8"), CANARY, f)
    assert.notInclude(r.stdout + r.stderr, CANARY)
  })

  it("the runner SIGKILLed while the instances are stopped: the watchdog starts them again", async () => {
    const dir = path.join(out, "crash")
    const r = await cli(
      ["run", "test/fixtures/aws-experiment.ts", "--out", dir],
      { FAULTLINE_TEST_HOLD_MS: "30000", AWS_SECRET_ACCESS_KEY: CANARY },
      (text, kill) => {
        if (/injected aws\.ec2\.stop/.test(text) && text.match(/injected aws\.ec2\.stop/g)!.length >= 2) kill()
      }
    )
    assert.strictEqual(r.signal, "SIGKILL")
    let s = await states()
    for (let i = 0; i < 200 && s.some((x) => x !== "running"); i++) {
      await new Promise((res) => setTimeout(res, 50))
      s = await states()
    }
    assert.deepStrictEqual(s, ["running", "running"])
    // It was the watchdog (a separate process that loaded the AWS reverter from the ledger record).
    const runDir = fs.readdirSync(dir).find((d) => d !== "ledger")!
    let journal = ""
    for (let i = 0; i < 100 && !/RunEnded/.test(journal); i++) {
      await new Promise((res) => setTimeout(res, 50))
      journal = fs.readFileSync(path.join(dir, runDir, "journal.jsonl"), "utf8")
    }
    assert.match(journal, /watchdog: run .* is gone; reverting 2 open faults/)
    assert.strictEqual((journal.match(/"FaultReverted"/g) ?? []).length, 2)
    const ledger = fs.readdirSync(path.join(dir, "ledger"), { recursive: true }).map(String)
    for (const f of ledger) {
      const p = path.join(dir, "ledger", f)
      if (fs.statSync(p).isFile()) assert.notInclude(fs.readFileSync(p, "utf8"), CANARY)
    }
  })

  it("experiments/aws-az-outage.ts passes against moto: AZ stopped, cluster failed over, RTO measured", async () => {
    process.env.FAULTLINE_AWS_ENDPOINT = moto.endpoint
    try {
      const mod = await import("../../../experiments/aws-az-outage.ts")
      const r = await Effect.runPromise(
        Effect.scoped(Effect.gen(function*() {
          yield* mod.setup
          const exp = yield* mod.default
          return yield* Experiment.run(exp)
        })).pipe(Effect.provide(Layer.mergeAll(mod.layer, ProcessDriver.layer.pipe(Layer.provideMerge(NodeServices.layer))))) as Effect.Effect<
          Experiment.RunResult
        >
      )
      assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
      const rto = Stopwatch.computeRto(r.entries)
      assert.isNotNull(rto?.measuredMs)
      assert.isAbove(rto!.measuredMs!, 0)
      const injected = r.entries.filter((e) => e.event._tag === "FaultInjected").map((e) => (e.event as any).fault)
      assert.deepStrictEqual(injected, ["aws.ec2.stop", "aws.ec2.stop", "aws.ec2.stop", "aws.rds.failoverCluster"])
    } finally {
      delete process.env.FAULTLINE_AWS_ENDPOINT
    }
  })
})
