/**
 * The PostgreSQL failover example: the same primary loss on a real primary + streaming
 * standby, under asynchronous and under synchronous (remote_apply) replication, with the
 * replication link lagging; prints the side-by-side table and writes it, with each run's
 * figures, to `faultline-runs/pg-failover/`.
 *
 *   npm run example:pg-failover      (= node examples/pg-failover/run.ts)
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { compare, type DrillOptions, table } from "../../experiments/pg-sync-vs-async.ts"

const options: DrillOptions = {
  linkLatencyMs: Number(process.env.PG_LINK_LATENCY_MS ?? 150),
  topology: process.env.PG_TOPOLOGY === "original" ? "original" : "swapped"
}

const main = async () => {
  const r = await Effect.runPromise(compare(options))
  const md = table(r, options)
  const out = path.resolve(process.env.FAULTLINE_OUT ?? "faultline-runs", "pg-failover")
  fs.mkdirSync(out, { recursive: true, mode: 0o700 })
  fs.writeFileSync(path.join(out, "table.md"), `${md}\n`, { mode: 0o600 })
  fs.writeFileSync(path.join(out, "results.json"), `${JSON.stringify(r, null, 2)}\n`, { mode: 0o600 })
  console.log(md)
  console.log(`\nwritten to ${out}/ (table.md, results.json)`)
  if (r.async.status !== "passed" || r.sync.status !== "passed") process.exitCode = 1
}

main().catch((e) => {
  console.error(`pg-failover: ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
})
