/**
 * `faultline recover`: reverts what runs that are gone left open. Loaded only when it runs.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Option } from "effect"
import * as Integrations from "../../integrations.ts"
import * as Recover from "../../run/Recover.ts"
import { ensurePrivateLedger } from "../Ledger.ts"
import { BadInput, state } from "../State.ts"

/**
 * Every fault open in the ledger (and, with `--docker`, the engine's markers), reverted and printed.
 *
 * @since 0.1.0
 */
export const recover = (args: {
  readonly ledger: string
  readonly docker: boolean
  readonly runId: Option.Option<string>
  readonly force: boolean
  readonly socket: Option.Option<string>
  readonly json: boolean
}) =>
  Effect.gen(function*() {
    // A typo must never read as "all clear": a ledger path that is not a folder is bad input.
    const stat = fs.statSync(args.ledger, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isDirectory()) {
      return yield* new BadInput({ message: `no ledger at ${args.ledger}${stat === undefined ? "" : " (not a folder)"}` })
    }
    yield* ensurePrivateLedger(args.ledger)
    const { rows, remaining } = yield* Recover.recover(path.resolve(args.ledger))
    let failed = remaining > 0
    let docker: unknown = null
    if (args.docker) {
      // Leftovers only the engine can show (marker volumes, helper containers).
      const scan = Integrations.byName("docker")?.leftovers
      const result = scan === undefined
        ? { ok: false as const, message: "no docker integration" }
        : yield* scan({ runId: Option.getOrUndefined(args.runId), force: args.force, endpoint: Option.getOrUndefined(args.socket) }).pipe(
          Effect.map((r) => ({ ok: true as const, r })),
          // The engine is unreachable (or answered with an error): nothing was recovered; exit 1.
          Effect.catch((e) => Effect.succeed({ ok: false as const, message: e.message }))
        )
      if (!result.ok) {
        process.stderr.write(`faultline: recover --docker: ${result.message}\n`)
        failed = true
      } else {
        docker = result.r
        failed = failed || result.r.failed.length > 0
        if (!args.json) {
          const r = result.r
          const lines = [
            ...r.reverted.map((x) => `reverted  ${x}`),
            ...r.removed.map((x) => `removed   ${x}`),
            ...r.skipped.map((x) => `skipped   ${x}`),
            ...r.failed.map((x) => `FAILED    ${x}`)
          ]
          process.stdout.write(`docker: ${lines.length === 0 ? "nothing to recover" : `\n${lines.join("\n")}`}\n`)
        }
      }
    }
    if (args.json) process.stdout.write(JSON.stringify({ rows, remaining, docker }, null, 2) + "\n")
    else if (rows.length === 0) process.stdout.write(`nothing open in ${args.ledger}\n`)
    else {
      const head = ["run", "fault", "target", "result", "detail"]
      const table = [head, ...rows.map((r) => [r.run, `${r.fault} ${r.faultId.split("/").at(-1)}`, r.target, r.result, r.detail])]
      const widths = head.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
      for (const row of table) process.stdout.write(row.map((c, i) => c.padEnd(widths[i]!)).join("  ") + "\n")
      process.stdout.write(`${remaining} faults left open by runs that are gone\n`)
    }
    state.exitCode = failed ? 1 : 0
  })
