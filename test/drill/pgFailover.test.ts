// runbooks/pg-failover.md on a real PostgreSQL primary + streaming standby: end to end with
// scripted answers (the primary crashed, the standby promoted by the failover automation, the
// old primary rewound into the new primary's standby), and a refused approval in the middle of
// the drill (a fault already open) that leaves the cluster exactly as it was.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, ManagedRuntime } from "effect"
import { afterAll, beforeAll, expect, it } from "vitest"
import * as Postgres from "../../src/targets/postgres/index.ts"
import { pgMissing } from "../integration/postgres/fixture.ts"
import { describeWith } from "../integration/require.ts"
import { faultline, journalOf } from "./helpers.ts"

const PASSWORD = `drill-${Math.random().toString(36).slice(2)}`

describeWith("PostgreSQL (pg-failover runbook)", pgMissing(), () => {
  let rt: ManagedRuntime.ManagedRuntime<Postgres.PgCluster | Postgres.PostgresDriver, Postgres.PostgresError>
  let c: Postgres.PgCluster["Service"]
  let env: Record<string, string>
  const q = (node: Postgres.PgNode, sql: string) => rt.runPromise(Postgres.Sql.query(node, sql)) as Promise<any>
  const rows = async (node: Postgres.PgNode, sql: string): Promise<Array<Record<string, unknown>>> => {
    const r = await q(node, sql)
    return Array.isArray(r) ? r : r.rows
  }

  // What "exactly as it was" compares: who is primary, whether the standby streams and
  // replays, each node's timeline and settings, and the data.
  const snapshot = async () => {
    const out: Record<string, unknown> = {}
    for (const n of c.nodes) {
      const [s] = await rows(
        n,
        `select pg_is_in_recovery() as standby, (select timeline_id from pg_control_checkpoint()) as timeline,
        current_setting('default_transaction_read_only') as read_only,
        case when pg_is_in_recovery() then pg_get_wal_replay_pause_state() else null end as replay,
        (select string_agg(id || ':' || item, ',' order by id) from orders) as data`
      )
      out[n.name] = s
    }
    const [rep] = await rows(c.primary, "select count(*)::int as streaming from pg_stat_replication where state = 'streaming'")
    out.replication = rep
    return out
  }

  beforeAll(async () => {
    rt = ManagedRuntime.make(Postgres.layer({ name: "drill", password: PASSWORD }))
    c = await rt.runPromise(Effect.gen(function*() {
      return yield* Postgres.PgCluster
    }))
    await q(c.primary, "create table orders (id int primary key, item text); insert into orders values (1, 'tea'), (2, 'cake')")
    await rt.runPromise(Postgres.awaitStreaming(c.primary, c.standby))
    const url = (n: Postgres.PgNode) => `postgres://${n.user}@${n.host}:${n.port}/${n.database}`
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pg-clusters-")), "clusters.json")
    fs.writeFileSync(
      file,
      JSON.stringify({
        clusters: [{
          name: c.spec.name,
          allow: true,
          ...(c.spec.bin ? { bin: c.spec.bin } : {}),
          ...(c.spec.osUser ? { osUser: c.spec.osUser } : {}),
          nodes: c.nodes.map((n) => ({ name: n.name, url: url(n), passwordEnv: "FAULTLINE_PG_PASSWORD", dataDir: n.dataDir!, socketDir: n.socketDir! }))
        }]
      })
    )
    env = { FAULTLINE_POSTGRES_CLUSTERS: file, FAULTLINE_PG_NODES: c.nodes.map(url).join(","), FAULTLINE_PG_PASSWORD: PASSWORD }
  }, 180_000)
  afterAll(async () => {
    await rt?.dispose()
  }, 60_000)

  it("a refused approval mid-drill (the standby's replay paused) leaves the cluster exactly as it was", async () => {
    const before = await snapshot()
    expect(before).toMatchObject({ pg1: { standby: false, read_only: "off" }, pg2: { standby: true, replay: "not paused" }, replication: { streaming: 1 } })
    const answers = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "answers-")), "refuse.yaml")
    fs.writeFileSync(
      answers,
      fs.readFileSync("runbooks/answers/pg-failover.yaml", "utf8").replace(
        /approve-the-crash: .*/,
        "approve-the-crash: { approvals: [{ by: Grace, approved: false, reason: \"month-end close\" }] }"
      )
    )
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-pg-"))
    const r = await faultline(["drill", "runbooks/pg-failover.md", "--answers", answers, "--out", out], env, 120_000)
    expect(r.code, r.stderr + r.stdout).toBe(1)
    const { events, drill } = journalOf(out)
    expect(drill.status).toBe("aborted")
    expect(drill.reason).toMatch(/approval refused at step approve-the-crash by Grace.*month-end close/)
    expect(events.filter((e) => e._tag === "FaultInjected").map((e) => e.fault)).toEqual(["postgres.pauseReplay"])
    expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(1)
    expect(await snapshot()).toEqual(before)
    expect(fs.readFileSync(path.join(journalOf(out).dir, "journal.jsonl"), "utf8")).not.toContain(PASSWORD)
  })

  it("the runner killed mid-drill (SIGKILL, replay paused): its watchdog reverts the fault and stops the drill's processes", async () => {
    const before = await snapshot()
    const answers = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "answers-")), "slow.yaml")
    fs.writeFileSync(
      answers,
      fs.readFileSync("runbooks/answers/pg-failover.yaml", "utf8").replace(/record-the-lag: \{ /, "record-the-lag: { after: \"10 minutes\", ")
    )
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-pg-"))
    const child = spawn(process.execPath, ["src/cli/main.ts", "drill", "runbooks/pg-failover.md", "--answers", answers, "--out", out], {
      env: { ...process.env, ...env },
      stdio: "ignore"
    })
    const journal = () => {
      const run = fs.readdirSync(out).find((d) => d !== "ledger")
      return run === undefined || !fs.existsSync(path.join(out, run, "journal.jsonl")) ? "" : fs.readFileSync(path.join(out, run, "journal.jsonl"), "utf8")
    }
    const until = async (ok: () => Promise<boolean> | boolean, ms: number, what: string) => {
      const t0 = Date.now()
      while (!(await ok())) {
        if (Date.now() - t0 > ms) throw new Error(`${what} not within ${ms} ms`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await until(() => journal().includes(`"_tag":"StepStarted","stepId":"record-the-lag"`), 60_000, "the drill reaching record-the-lag")
    const [paused] = await rows(c.standby, "select pg_get_wal_replay_pause_state() as s")
    expect(paused!.s).not.toBe("not paused")
    child.kill("SIGKILL")
    await until(
      async () => (await rows(c.standby, "select pg_get_wal_replay_pause_state() as s"))[0]!.s === "not paused",
      30_000,
      "the watchdog resuming replay"
    )
    await until(() => fetch("http://127.0.0.1:47561/").then(() => false, () => true), 30_000, "the orchestrator stopped")
    expect(await snapshot()).toEqual(before)
  }, 120_000)

  it("end to end: the primary crashes, the standby is promoted, writes resume within the objective; the old primary rejoins as standby", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-pg-"))
    const r = await faultline(["drill", "runbooks/pg-failover.md", "--answers", "runbooks/answers/pg-failover.yaml", "--out", out], env, 150_000)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const { events, drill } = journalOf(out)
    expect(drill.status).toBe("passed")
    expect(events.filter((e) => e._tag === "FaultInjected").map((e) => e.fault)).toEqual(["postgres.pauseReplay", "postgres.crashPrimary"])
    expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(2)
    expect(drill.steps.find((s: any) => s.stepId === "promote-the-standby").detail).toMatch(/POST http:\/\/127\.0\.0\.1:47561\/failover: 200/)
    expect(drill.rto.stopMono - drill.rto.startMono).toBeLessThan(60_000)
    // After the drill: pg2 is the writer, pg1 its streaming standby, the data intact.
    const after = await snapshot()
    expect(after).toMatchObject({ pg1: { standby: true, data: "1:tea,2:cake" }, pg2: { standby: false, data: "1:tea,2:cake" } })
  }, 200_000)
})
