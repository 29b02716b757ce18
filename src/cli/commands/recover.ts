/**
 * `faultline recover`: reverts what runs that are gone left open. Loaded only when it runs.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Recover from "../../run/Recover.ts"
import { ensurePrivateLedger } from "../Ledger.ts"
import { BadInput, state } from "../State.ts"

/**
 * Every fault open in the ledger, and every target's own leftovers (Docker's markers and
 * helpers), reverted and printed.
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
    // Leftovers only a target system can show (Docker's marker volumes and helper
    // containers), from every integration that has a scan. A system that does not answer is
    // skipped, unless the ledger names its faults (or `--docker` asked for it by name).
    const needed = new Set(Recover.namedIntegrations(path.resolve(args.ledger)))
    if (args.docker) needed.add("docker")
    const scans = yield* Recover.scanLeftovers({
      runId: Option.getOrUndefined(args.runId),
      force: args.force,
      endpoint: Option.getOrUndefined(args.socket),
      needed
    })
    for (const scan of scans) {
      if (scan.failed) failed = true
      if (args.json) continue
      if (scan.result === null) {
        if (scan.failed) process.stderr.write(`faultline: recover: ${scan.integration}: ${scan.skipped}\n`)
        else process.stdout.write(`${scan.integration}: skipped (${scan.skipped})\n`)
        continue
      }
      const r = scan.result
      const lines = [
        ...r.reverted.map((x) => `reverted  ${x}`),
        ...r.removed.map((x) => `removed   ${x}`),
        ...r.skipped.map((x) => `skipped   ${x}`),
        ...r.failed.map((x) => `FAILED    ${x}`)
      ]
      process.stdout.write(`${scan.integration}: ${lines.length === 0 ? "nothing to recover" : `\n${lines.join("\n")}`}\n`)
    }
    // `docker` stays in the JSON for scripts written against `--docker`.
    const docker = scans.find((x) => x.integration === "docker")?.result ?? null
    if (args.json) process.stdout.write(JSON.stringify({ rows, remaining, docker, leftovers: scans }, null, 2) + "\n")
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
