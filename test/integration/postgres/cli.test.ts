/**
 * `faultline run` of experiment files with PostgreSQL faults against a real cluster named in
 * `$FAULTLINE_POSTGRES_CLUSTERS`: a passing run, and bad input (a "standby" that is not in
 * recovery, wrong credentials, an unreachable server) refused at plan time with exit 2 and
 * nothing touched. The cluster's password is a canary: no file faultline writes, nor its
 * output, may hold it.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Experiment, Fault, Hypothesis, Selector, Tolerance } from "../../../src/index.ts"
import * as FileLedger from "../../../src/run/FileLedger.ts"
import * as Runner from "../../../src/run/Runner.ts"
import { afterAll, assert, beforeAll, it } from "vitest"
import * as Postgres from "../../../src/targets/postgres/index.ts"
import { describeWith } from "../require.ts"
import { pgMissing } from "./fixture.ts"

const CANARY = "CANARYpg7d41e9"
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const node = path.join(root, "node_modules", ".bin", "node")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-pg-cli-"))

const leaks = (dir: string): Array<string> =>
  (fs.readdirSync(dir, { recursive: true, encoding: "utf8" }) as Array<string>).flatMap((f) => {
    const p = path.join(dir, f)
    if (!fs.lstatSync(p).isFile()) return []
    return fs.readFileSync(p, "utf8").includes(CANARY) ? [f] : []
  })

describeWith("PostgreSQL through the CLI (cluster file, plan-time refusals, canary)", pgMissing(), () => {
  let rt: ManagedRuntime.ManagedRuntime<Postgres.PgCluster | Postgres.PostgresDriver, Postgres.PostgresError>
  let c: Postgres.PgCluster["Service"]
  const clusters = (port1: number, port2: number, passwordEnv = "PG_CANARY_PASSWORD") => {
    const file = path.join(tmp, `clusters-${port1}-${passwordEnv}.json`)
    const n = (name: string, port: number) => ({
      name,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      passwordEnv,
      ...(port === c.primary.port || port === c.standby.port ? { dataDir: c.node(name).dataDir, socketDir: c.node(name).socketDir } : {})
    })
    fs.writeFileSync(file, JSON.stringify({ clusters: [{ name: "orders", allow: true, nodes: [n("pg1", port1), n("pg2", port2)] }] }))
    return file
  }
  const yaml = (name: string, fault: string, target: string) => {
    const file = path.join(tmp, `${name}.yaml`)
    fs.writeFileSync(
      file,
      [
        `name: ${name}`,
        "hypothesis:",
        "  - name: primary answers",
        `    probe: { tcp: { host: "127.0.0.1", port: ${c.primary.port} } }`,
        "    every: \"50 millis\"",
        "    samples: 4",
        "    tolerance: [{ _tag: SuccessRatio, atLeast: 0.5, confidence: 0.5 }]",
        "method:",
        `  - inject: { fault: ${fault}, target: { name: [${target}] } }`,
        "  - sleep: \"300 millis\"",
        "abort: [{ maxDuration: \"1 minute\" }]"
      ].join("\n")
    )
    return file
  }
  const cli = (file: string, clusterFile: string, env: Record<string, string> = { PG_CANARY_PASSWORD: CANARY }) => {
    const out = path.join(tmp, `out-${path.basename(file)}-${Math.random().toString(36).slice(2, 6)}`)
    const r = spawnSync(node, [path.join(root, "src/cli/main.ts"), "run", file, "--out", out], {
      encoding: "utf8",
      timeout: 90_000,
      env: { ...process.env, FAULTLINE_POSTGRES_CLUSTERS: clusterFile, ...env }
    })
    return { ...r, out }
  }
  const readOnlyNow = () =>
    rt.runPromise(Effect.map(Postgres.Sql.query<{ v: string }>(c.primary, "select current_setting('default_transaction_read_only') as v"), (r) => r[0]!.v))

  beforeAll(async () => {
    rt = ManagedRuntime.make(Postgres.layer({ name: "clitest", password: CANARY }))
    c = await rt.runPromise(Effect.gen(function*() {
      return yield* Postgres.PgCluster
    }))
  }, 120_000)
  afterAll(async () => {
    await rt?.dispose()
    fs.rmSync(tmp, { recursive: true, force: true })
  }, 60_000)

  it("a run with postgres.readOnly passes, reverts, and writes no password anywhere", () => {
    const r = cli(yaml("readonly", "postgres.readOnly", "pg1"), clusters(c.primary.port, c.standby.port))
    assert.strictEqual(r.status, 0, r.stdout + r.stderr)
    assert.notInclude(r.stdout + r.stderr, CANARY)
    assert.deepStrictEqual(leaks(r.out), [])
    const journal = fs.readdirSync(r.out, { recursive: true, encoding: "utf8" }).find((f) => f.endsWith("journal.jsonl"))!
    const text = fs.readFileSync(path.join(r.out, journal), "utf8")
    assert.include(text, "FaultReverted")
    assert.include(text, "PG_CANARY_PASSWORD", "the variable's name is kept")
    return readOnlyNow().then((v) => assert.strictEqual(v, "off"))
  })

  it("bad input exits 2 at plan time with one line naming the cause, nothing touched", () => {
    const notStandby = cli(yaml("pause-primary", "postgres.pauseReplay", "pg1"), clusters(c.primary.port, c.standby.port))
    assert.strictEqual(notStandby.status, 2, notStandby.stdout + notStandby.stderr)
    assert.match(notStandby.stderr, /NotInRecovery/)
    assert.notMatch(notStandby.stderr, /\n\s+at /, "no stack trace")
    const wrong = cli(yaml("wrong-password", "postgres.readOnly", "pg1"), clusters(c.primary.port, c.standby.port), { PG_CANARY_PASSWORD: "not-it" })
    assert.strictEqual(wrong.status, 2, wrong.stdout + wrong.stderr)
    assert.match(wrong.stderr, /AuthFailed/)
    const unreachable = cli(yaml("unreachable", "postgres.readOnly", "pg1"), clusters(1, 2))
    assert.strictEqual(unreachable.status, 2, unreachable.stdout + unreachable.stderr)
    assert.match(unreachable.stderr, /Unreachable/)
    for (const r of [notStandby, wrong, unreachable]) {
      assert.notInclude(r.stdout + r.stderr, CANARY)
      assert.isFalse(fs.existsSync(r.out) && leaks(r.out).length > 0)
    }
    const badFile = path.join(tmp, "bad-clusters.json")
    fs.writeFileSync(
      badFile,
      JSON.stringify({ clusters: [{ name: "x", allow: true, nodes: [{ name: "pg1", url: `postgres://postgres:${CANARY}@127.0.0.1:5432/postgres` }] }] })
    )
    const inline = cli(yaml("inline-password", "postgres.readOnly", "pg1"), badFile)
    assert.strictEqual(inline.status, 2, inline.stdout + inline.stderr)
    assert.match(inline.stderr, /holds a password/)
    assert.notInclude(inline.stdout + inline.stderr, CANARY)
    return readOnlyNow().then((v) => assert.strictEqual(v, "off"))
  })

  it("canary: a library run with postgres faults, probes and the heartbeat writes no password to journal, report or ledger", { timeout: 120_000 }, async () => {
    const out = path.join(tmp, "canary-run")
    const app = Postgres.appPath(c.primary)
    const hb = Postgres.heartbeat(app, { every: "20 millis" })
    const holder = Postgres.Sql.session(c.primary, { applicationName: "canary-app" })
    await rt.runPromise(Effect.andThen(hb.setup, holder.query("select 1")))
    const url = Postgres.fromUrl("clitest", "pg1", `postgres://postgres:${CANARY}@127.0.0.1:${c.primary.port}/postgres`)
    const exp = Experiment.make({
      name: "pg canary",
      hypothesis: Hypothesis.make("connects", {
        probe: Postgres.Probes.connect(url),
        every: "50 millis",
        samples: 3,
        tolerance: Tolerance.successRatio({ atLeast: 0.5, confidence: 0.5 })
      }),
      method: Effect.gen(function*() {
        yield* Fault.inject(Postgres.terminateConnections({ target: Selector.name("pg1"), applicationName: "canary-app" }))
        yield* Fault.inject(Postgres.pauseReplay({ target: Selector.name("pg2") }))
        yield* Fault.inject(Postgres.readOnly({ target: Selector.name("pg1") }))
        yield* Effect.sleep("200 millis")
      }),
      stopwatches: { rpo: hb.heartbeat }
    })
    const outcome = await rt.runPromise(
      Runner.run(exp as Experiment.Experiment<any>, { out, runId: "pg-canary", keepEntries: true }).pipe(
        Effect.provide(
          Layer.merge(Postgres.PostgresDriver.layerConfig({ clusters: [c.spec] }), FileLedger.layer({ dir: path.join(out, "ledger"), watchdog: false }))
        )
      ) as Effect.Effect<Runner.Outcome, never, never>
    )
    await rt.runPromise(hb.close)
    assert.strictEqual(outcome.result.verdict.cleanup, "ok", outcome.result.verdict.reason)
    const injected = outcome.result.entries.flatMap((e) => e.event._tag === "FaultInjected" ? [e.event.fault] : [])
    assert.deepStrictEqual(injected, ["postgres.terminateConnections", "postgres.pauseReplay", "postgres.readOnly"])
    assert.isTrue(fs.existsSync(path.join(out, "ledger", "runs", "pg-canary.jsonl")))
    assert.deepStrictEqual(leaks(out), [])
  })
})
