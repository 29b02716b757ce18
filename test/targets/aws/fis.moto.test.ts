/**
 * AWS FIS against moto's FIS API (CreateExperimentTemplate, StartExperiment, GetExperiment,
 * StopExperiment, DeleteExperimentTemplate): the template `export fis` writes is accepted,
 * and `faultline run --engine fis` starts it, watches it to its end, stops it on abort, and
 * its watchdog stops it when the runner is killed. moto runs no FIS action: the tests check
 * what faultline asks of FIS and what it journals, not EC2 side effects.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { RunInstancesCommand, EC2Client } from "@aws-sdk/client-ec2"
import { FisClient, GetExperimentCommand, ListExperimentTemplatesCommand, ListExperimentsCommand } from "@aws-sdk/client-fis"
import { afterAll, assert, beforeAll, it } from "vitest"
import { describeWith } from "../../integration/require.ts"
import { dummyCredentials, type Moto, motoMissing, startMoto } from "../../integration/moto.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const node = path.join(root, "node_modules", ".bin", "node")
const ROLE = "arn:aws:iam::123456789012:role/fis"

// moto serves FIS experiments (start/get/stop) from 5.2.5 on; older versions only templates.
const fisMissing = (): string | null => {
  const m = motoMissing()
  if (m !== null) return m
  const r = spawnSync("python3", ["-c", "import moto.fis.responses as r; assert hasattr(r.FISResponse, 'start_experiment')"], { encoding: "utf8" })
  return r.status === 0 ? null : "moto is older than 5.2.5 and has no FIS experiments (python3 -m pip install \"moto[server]>=5.2.5\")"
}

describeWith("AWS FIS engine (moto)", fisMissing(), () => {
  let moto: Moto
  let fis: FisClient
  let server: http.Server
  let url = ""
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-fis-"))

  const cli = (args: ReadonlyArray<string>, onStdout?: (text: string, kill: () => void) => void) =>
    new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(node, ["bin/faultline.js", ...args], {
        cwd: root,
        env: { ...process.env, FAULTLINE_AWS_ENDPOINT: moto.endpoint, AWS_REGION: "us-east-1" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => {
        stdout += d
        onStdout?.(stdout + stderr, () => child.kill("SIGKILL"))
      })
      child.stderr.on("data", (d) => {
        stderr += d
        onStdout?.(stdout + stderr, () => child.kill("SIGKILL"))
      })
      const timer = setTimeout(() => child.kill("SIGKILL"), 90_000)
      child.on("exit", (code, signal) => {
        clearTimeout(timer)
        resolve({ code, signal, stdout, stderr })
      })
    })
  const file = (name: string, lines: ReadonlyArray<string>) => {
    const f = path.join(out, name)
    fs.writeFileSync(f, lines.join("\n") + "\n")
    return f
  }
  const experiment = (name: string, extra: ReadonlyArray<string> = []) =>
    file(`${name}.yaml`, [
      `name: ${name}`,
      "hypothesis:",
      "  - name: site answers",
      `    probe: { http: { url: "${url}" } }`,
      "    every: 10 millis",
      "method:",
      "  - inject: { fault: aws.ec2.stop, target: { label: { key: app, value: web }, count: 1 } }",
      "  - sleep: 2 minutes",
      ...extra
    ])
  const journalOf = (dir: string) => {
    const runDir = fs.readdirSync(dir).find((d) => d !== "ledger")!
    return fs.readFileSync(path.join(dir, runDir, "journal.jsonl"), "utf8")
  }
  // moto moves an experiment one state on every `times`-th read of it.
  const setTransition = (times: number) =>
    fetch(`${moto.endpoint}/moto-api/state-manager/set-transition`, {
      method: "POST",
      body: JSON.stringify({ model_name: "fis::experiment", transition: { progression: "manual", times } })
    })
  const templates = async () => (await fis.send(new ListExperimentTemplatesCommand({}))).experimentTemplates ?? []

  beforeAll(async () => {
    dummyCredentials()
    moto = await startMoto()
    fis = new FisClient({ region: "us-east-1", endpoint: moto.endpoint })
    const ec2 = new EC2Client({ region: "us-east-1", endpoint: moto.endpoint })
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 2,
        MaxCount: 2,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: "web" }, { Key: "faultline:allow", Value: "true" }] }]
      })
    )
    server = http.createServer((_, res) => res.end("ok"))
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  })
  afterAll(async () => {
    await moto?.stop()
    await new Promise((r) => server?.close(r))
    fs.rmSync(out, { recursive: true, force: true })
  })

  it("run --engine fis: the plan checks targets first, FIS runs the template to completion, the template is deleted", async () => {
    await setTransition(2)
    const dir = path.join(out, "done")
    const r = await cli(["run", experiment("fis completes"), "--engine", "fis", "--role-arn", ROLE, "--out", dir, "--json"])
    assert.strictEqual(r.code, 0, r.stderr + r.stdout)
    const report = JSON.parse(r.stdout)
    assert.strictEqual(report.status, "passed")
    const journal = journalOf(dir)
    // faultline resolved the EC2 targets and checked the allow tag and cap before FIS was asked.
    assert.match(journal, /"TargetsResolved","fault":"aws.ec2.stop"/)
    assert.match(journal, /"FaultInjected","faultId":"[^"]+","fault":"aws.fis.experiment"/)
    assert.match(journal, /FIS experiment [0-9a-f]+: completed/)
    assert.match(journal, /"FaultReverted"/)
    // The selection difference is said: FIS picks its own random instance.
    assert.notMatch(journal, /FIS engine: roleArn/)
    const experiments = (await fis.send(new ListExperimentsCommand({}))).experiments ?? []
    assert.isTrue(experiments.some((e) => e.state?.status === "completed"))
    assert.deepStrictEqual(await templates(), [])
  })

  it("an abort condition stops the FIS experiment (StopExperiment) and deletes its template", async () => {
    await setTransition(100000)
    const dir = path.join(out, "abort")
    const r = await cli([
      "run",
      experiment("fis aborted", ["abort:", "  - maxDuration: 3 seconds"]),
      "--engine",
      "fis",
      "--role-arn",
      ROLE,
      "--out",
      dir,
      "--json"
    ])
    assert.strictEqual(JSON.parse(r.stdout).status, "aborted", r.stderr)
    const journal = journalOf(dir)
    const id = /FIS experiment ([0-9a-f]+):/.exec(journal)![1]!
    const state = (await fis.send(new GetExperimentCommand({ id }))).experiment?.state?.status
    assert.include(["stopping", "stopped"], state)
    assert.deepStrictEqual(await templates(), [])
  })

  it("the runner SIGKILLed while FIS runs: its watchdog stops the FIS experiment from the ledger", async () => {
    await setTransition(100000)
    const dir = path.join(out, "crash")
    const r = await cli(["run", experiment("fis crash"), "--engine", "fis", "--role-arn", ROLE, "--out", dir], (text, kill) => {
      if (/injected aws\.fis\.experiment/.test(text)) kill()
    })
    assert.strictEqual(r.signal, "SIGKILL", r.stdout + r.stderr)
    let journal = ""
    for (let i = 0; i < 200 && !/RunEnded/.test(journal); i++) {
      await new Promise((res) => setTimeout(res, 50))
      journal = journalOf(dir)
    }
    assert.match(journal, /watchdog: run .* is gone; reverting 1 open fault/)
    const id = /"experimentId":"([0-9a-f]+)"/.exec(journal)![1]!
    const state = (await fis.send(new GetExperimentCommand({ id }))).experiment?.state?.status
    assert.include(["stopping", "stopped"], state)
    assert.deepStrictEqual(await templates(), [])
  })

  it("exits 2 before asking FIS anything when a fault is not FIS's, or for a module", async () => {
    const before = (await fis.send(new ListExperimentsCommand({}))).experiments?.length ?? 0
    const f = experiment("fis mixed", ["  - inject: { fault: aws.route53.invertHealthCheck, target: { all: true } }"])
    const r = await cli(["run", f, "--engine", "fis", "--out", path.join(out, "mixed")])
    assert.strictEqual(r.code, 2)
    assert.match(r.stderr, /--engine fis cannot run every fault: method\[2\]\.inject: FIS has no action for aws\.route53\.invertHealthCheck/)
    const m = await cli(["run", "experiments/aws-az-outage.ts", "--engine", "fis", "--out", path.join(out, "mod")])
    assert.strictEqual(m.code, 2)
    assert.match(m.stderr, /--engine fis runs YAML\/JSON experiment files/)
    assert.strictEqual((await fis.send(new ListExperimentsCommand({}))).experiments?.length ?? 0, before)
  })
})
