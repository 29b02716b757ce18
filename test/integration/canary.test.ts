/**
 * Secrets never reach a file: experiments touching every target available here (processes,
 * the embedded proxy, AWS on moto, Docker) carry a canary secret in environments, URLs,
 * arguments, headers and API tokens; every file faultline wrote (journal, report.json/md,
 * ledger, CLI output) is searched for it.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { RunInstancesCommand } from "@aws-sdk/client-ec2"
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { afterAll, assert, describe, it } from "vitest"
import { Experiment, Fault, Hypothesis, Probe, Process, Selector, Tolerance } from "../../src/index.ts"
import * as Probes from "../../src/probes/index.ts"
import * as EmbeddedProxy from "../../src/proxy/EmbeddedProxy.ts"
import * as FileLedger from "../../src/run/FileLedger.ts"
import * as Runner from "../../src/run/Runner.ts"
import * as Aws from "../../src/targets/aws/index.ts"
import * as Docker from "../../src/targets/docker/index.ts"
import * as Toxiproxy from "../../src/targets/toxiproxy/index.ts"
import { dockerMissing, type Session, startSession } from "./docker/fixture.ts"
import { dummyCredentials, type Moto, motoMissing, startMoto } from "./moto.ts"
import { REQUIRED } from "./require.ts"

const CANARY = "CANARY9f3e71c2"
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const binDir = path.join(root, "node_modules", ".bin")
const dirs: Array<string> = []
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-canary-"))
  dirs.push(d)
  return d
}

// Every file under `dir` holding the canary, with the line around it.
const leaks = (dir: string): Array<string> =>
  (fs.readdirSync(dir, { recursive: true, encoding: "utf8" }) as Array<string>).flatMap((f) => {
    const p = path.join(dir, f)
    if (!fs.lstatSync(p).isFile()) return []
    const text = fs.readFileSync(p, "utf8")
    const i = text.indexOf(CANARY)
    return i < 0 ? [] : [`${f}: …${text.slice(Math.max(0, i - 120), i + 40)}…`]
  })

// The forms a credential takes on a command line.
const secretArgs = [`--password=${CANARY}`, `-p${CANARY}`, "--token", CANARY, `AUTH=Bearer ${CANARY}`, `SECRET_KEY=${CANARY}`, `PGPASSWORD=${CANARY}`]
const secretUrl = (port: number) => `http://app:${CANARY}@127.0.0.1:${port}/health?api_key=${CANARY}&token=${CANARY}&X-Amz-Signature=${CANARY}&ok=1`

let moto: Moto | null = null
let session: Session | null = null
const servers: Array<http.Server> = []
afterAll(async () => {
  await moto?.stop()
  await session?.cleanup()
  for (const s of servers) s.close()
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
}, 120_000)

const httpServer = () =>
  new Promise<number>((resolve) => {
    const s = http.createServer((_req, res) => res.writeHead(200).end("ok"))
    servers.push(s)
    s.listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port))
  })

const ok = (name: string, probe: Probe.Probe<any>) =>
  Hypothesis.make(name, { probe, every: "50 millis", samples: 2, tolerance: Tolerance.successRatio({ atLeast: 0.5, confidence: 0.5 }) })

describe("canary: no secret reaches any file faultline writes", () => {
  it("process, embedded proxy, AWS (moto) and Docker faults in one run", { timeout: 300_000 }, async () => {
    const why = { aws: motoMissing(), docker: await dockerMissing() }
    if (REQUIRED) { for (const [k, v] of Object.entries(why)) assert.isNull(v, `${k} is required here`) }
    const covered: Array<string> = ["process", "toxiproxy"]
    const port = await httpServer()

    // AWS: the SDK's secret key is the canary (moto accepts any credentials).
    let awsLayer = Layer.empty as unknown as Layer.Layer<any, any>
    if (why.aws === null) {
      dummyCredentials()
      process.env.AWS_SECRET_ACCESS_KEY = CANARY
      moto = await startMoto()
      const driver = Aws.make({ region: "us-east-1", endpoint: moto.endpoint })
      await driver.clients.ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12c6146b",
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: "canary" }, { Key: "faultline:allow", Value: "true" }] }]
        })
      )
      awsLayer = Layer.succeed(Aws.AwsDriver, driver) as Layer.Layer<any, any>
      covered.push("aws")
    }
    // Docker: a container whose environment and labels carry the canary.
    let dockerLayer = Layer.empty as unknown as Layer.Layer<any, any>
    if (why.docker === null) {
      session = await startSession("faultline-canary")
      await session.start(`${session.id}-canary`, { env: [`DB_PASSWORD=${CANARY}`], labels: { "app.token": CANARY } })
      dockerLayer = Docker.DockerDriver.layer as Layer.Layer<any, any>
      covered.push("docker")
    }

    const out = tmp()
    const program = Effect.gen(function*() {
      // The embedded proxy, its API token the canary, given in the driver's base URL.
      const proxy = yield* EmbeddedProxy.start("127.0.0.1:0", { token: CANARY })
      const toxiproxy = Toxiproxy.ToxiproxyDriver.layerConfig({ url: `${proxy.url}/token/${CANARY}` })
      return yield* Effect.gen(function*() {
        const api = yield* Toxiproxy.ToxiproxyDriver
        yield* api.createProxy({ name: "canary-svc", upstream: `127.0.0.1:${port}` })
        const processes = yield* Process.ProcessDriver
        yield* processes.start({
          name: "canary-victim",
          command: process.execPath,
          args: ["-e", "console.log('READY'); setInterval(() => {}, 1000)", "--", ...secretArgs, secretUrl(port)],
          env: { DB_PASSWORD: CANARY, PLAIN_LOOKING: CANARY },
          ready: "READY"
        })
        const exp = Experiment.make({
          name: "canary",
          hypothesis: [
            ok(
              "http with secrets",
              Probes.http(secretUrl(port), { headers: { Authorization: `Bearer ${CANARY}`, "X-Api-Key": CANARY }, timeout: "2 seconds" })
            ),
            ok("command with secrets", Probes.command(process.execPath, ["-e", "0", "--", ...secretArgs]))
          ],
          method: Effect.gen(function*() {
            yield* Fault.inject(Process.kill({ target: Selector.name("canary-victim"), signal: "SIGKILL" }))
            yield* Fault.inject(Toxiproxy.latency({ target: Selector.name("canary-svc"), latency: 10 }))
            if (why.aws === null) yield* Fault.inject(Aws.ec2.stop({ target: Selector.label("app", "canary") }))
            if (why.docker === null) yield* Fault.inject(Docker.pause({ target: Selector.name(`${session!.id}-canary`) }))
            yield* Effect.sleep("200 millis")
          })
        })
        return yield* Runner.run(exp as Experiment.Experiment<any>, { out, runId: "canary-run", keepEntries: true })
      }).pipe(Effect.provide(toxiproxy))
    })
    const outcome = await Effect.runPromise(
      Effect.scoped(program).pipe(
        Effect.provide(Layer.mergeAll(
          Process.ProcessDriver.layer.pipe(Layer.provideMerge(NodeServices.layer)),
          awsLayer,
          dockerLayer,
          FileLedger.layer({ dir: path.join(out, "ledger"), watchdog: false })
        ))
      ) as Effect.Effect<Runner.Outcome>
    )
    // The run really did what the canary is about: every fault injected and reverted.
    const events = outcome.result.entries.map((e) => e.event)
    assert.strictEqual(outcome.result.verdict.cleanup, "ok", outcome.result.verdict.reason)
    const injected = events.flatMap((e) => e._tag === "FaultInjected" ? [e.fault.split(".")[0]] : [])
    const checks = JSON.stringify(events.filter((e) => e._tag === "HypothesisChecked" || e._tag === "MethodEnded"))
    assert.deepStrictEqual([...new Set(injected)].sort(), covered.map((c) => c === "toxiproxy" ? "network" : c).sort(), checks)
    for (const f of ["journal.jsonl", "report.json", "report.md"]) assert.isTrue(fs.existsSync(path.join(outcome.dir, f)), f)
    assert.isTrue(fs.existsSync(path.join(out, "ledger", "runs", "canary-run.jsonl")))
    // The names are kept (so a reader knows what was there), the values are not.
    const ledger = fs.readFileSync(path.join(out, "ledger", "runs", "canary-run.jsonl"), "utf8")
    assert.include(ledger, "DB_PASSWORD")
    assert.deepStrictEqual(leaks(out), [])
  })

  it("a YAML run through the CLI: journal, reports, ledger and its output on stdout/stderr", { timeout: 120_000 }, () => {
    const dir = tmp()
    const file = path.join(dir, "canary.yaml")
    fs.writeFileSync(
      file,
      `name: canary cli
processes:
  - name: victim
    command: node
    args: ${JSON.stringify(["-e", "console.log('READY'); setInterval(() => {}, 1000)", "--", ...secretArgs])}
    env: { DB_PASSWORD: ${CANARY}, PLAIN_LOOKING: ${CANARY} }
    ready: READY
hypothesis:
  - name: command with secrets
    probe: { command: { command: node, args: ${JSON.stringify(["-e", "0", "--", ...secretArgs])} } }
    samples: 2
    every: 50 millis
    tolerance: [{ _tag: Regex, pattern: "" }]
method:
  - inject: { fault: process.kill, target: { name: [victim] }, signal: SIGKILL }
  - sleep: 100 millis
`
    )
    const out = path.join(dir, "out")
    const r = spawnSync(path.join(binDir, "node"), [path.join(root, "bin/faultline.js"), "run", file, "--out", out], {
      cwd: root,
      env: { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}` },
      encoding: "utf8",
      timeout: 90_000
    })
    assert.strictEqual(r.status, 0, r.stdout + r.stderr)
    assert.notInclude(r.stdout + r.stderr, CANARY)
    assert.isTrue(fs.existsSync(path.join(out, "ledger")))
    assert.deepStrictEqual(leaks(out), [])
  })
})
