/**
 * `faultline schedule drills.yaml`: the drill scheduler, as a long-lived process or, with
 * `--once`, one pass for an external timer. Each decision is printed and appended to the
 * decision journal (JSON Lines, each line hash-chained to the one before, private to this
 * user). SIGTERM interrupts the running drills: their faults are reverted, their reports
 * written, and the interruption journaled.
 *
 * @since 0.2.0
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Guard from "../../core/Guard.ts"
import * as PrivateFiles from "../../core/PrivateFiles.ts"
import * as Redact from "../../core/Redact.ts"
import * as FileLedger from "../../run/FileLedger.ts"
import * as Drills from "../../schedule/Drills.ts"
import * as Scheduler from "../../schedule/Scheduler.ts"
import { ensurePrivateLedger } from "../Ledger.ts"
import * as RunHistory from "../RunHistory.ts"
import { BadInput, state } from "../State.ts"
import { runAny } from "./run.ts"

export interface ScheduleArgs {
  readonly drills: string
  readonly once: boolean
  readonly grace: string
  readonly services: string | undefined
}

// The decision journal: one JSON line per decision, chained by the hash of the line before.
const journalWriter = (file: string) => {
  PrivateFiles.ensureDir(path.dirname(file))
  let prev = "0".repeat(64)
  if (fs.existsSync(file)) {
    const last = fs.readFileSync(file, "utf8").trimEnd().split("\n").at(-1)
    if (last) prev = createHash("sha256").update(last).digest("hex")
  }
  return (decision: Scheduler.Decision) =>
    Effect.sync(() => {
      // A reason may quote a source's error (a Prometheus URL with credentials): masked first.
      const d = Redact.redact(decision)
      const line = JSON.stringify({ ...d, at: new Date(d.at).toISOString(), plannedAt: new Date(d.plannedAt).toISOString(), prev })
      const fd = PrivateFiles.openAppend(file)
      try {
        fs.writeSync(fd, line + "\n")
      } finally {
        fs.closeSync(fd)
      }
      prev = createHash("sha256").update(line).digest("hex")
      process.stdout.write(
        `${new Date(d.at).toISOString()} ${d.drill}: ${d.decision}${d.status ? ` ${d.status}` : ""}${d.runId ? ` (run ${d.runId})` : ""}` +
          `${d.decision === "planned" ? ` for ${new Date(d.plannedAt).toISOString()}` : ""}${d.reason ? ` — ${d.reason}` : ""}\n`
      )
    })
}

export const host = (plan: Drills.Plan, base: string, args: ScheduleArgs): Scheduler.Host<never> => {
  const f = plan.file
  const out = path.resolve(base, f.out ?? "faultline-runs")
  const history = f.history === undefined
    ? RunHistory.HistoryConfig.configured(Option.none())
    : f.history.includes("://")
    ? f.history
    : path.resolve(base, f.history)
  const journal = journalWriter(path.resolve(base, f.journal ?? path.join(out, "schedule.jsonl")))
  const services = RunHistory.catalogFile(args.services)
  return {
    journal,
    leaseHolder: (target) => Effect.sync(() => FileLedger.leaseHolder(path.join(out, "ledger"), target)),
    budget: (drill) =>
      drill.errorBudget === undefined ? Effect.succeed(null) : Guard.check(Guard.errorBudget(drill.errorBudget), []).pipe(
        Effect.as(null),
        Effect.catch((e) => Effect.succeed(e.reason)),
        Effect.provide(RunHistory.sloLayer(history))
      ),
    run: (drill) =>
      runAny(path.resolve(base, drill.experiment), { out, dryRun: false, json: true, history, services, allowTier0: drill.approvedBy !== undefined }).pipe(
        Effect.map((o) => ({ runId: o.result.runId, status: o.result.verdict.status })),
        Effect.mapError((e) => e instanceof BadInput ? e.message : String(e)),
        Effect.catchDefect((d) => Effect.fail(d instanceof Error ? d.message : String(d)))
      )
  }
}

/**
 * `faultline schedule`.
 *
 * @since 0.2.0
 */
export const schedule = (args: ScheduleArgs) =>
  Effect.gen(function*() {
    const plan = yield* Drills.load(args.drills).pipe(Effect.mapError((e) => new BadInput({ message: e.message })))
    const graceMs = yield* Effect.try({
      try: () => Duration.toMillis(Duration.fromInputUnsafe(args.grace as Duration.Input)),
      catch: () => new BadInput({ message: `--grace ${args.grace}: expected a duration such as "1 minute"` })
    })
    const base = path.dirname(path.resolve(args.drills))
    yield* ensurePrivateLedger(path.join(path.resolve(base, plan.file.out ?? "faultline-runs"), "ledger"))
    const h = host(plan, base, args)
    if (args.once) {
      const decisions = yield* Scheduler.once(plan, h, graceMs)
      if (decisions.length === 0) process.stdout.write("nothing due\n")
      state.exitCode = decisions.some((d) => d.decision === "error") ? 1 : 0
      return
    }
    process.stdout.write(`scheduling ${plan.drills.length} drills (${plan.timeZone}); Ctrl-C or SIGTERM stops, reverting any running drill\n`)
    for (const c of plan.drills) process.stdout.write(`  ${c.drill.name}: ${c.trigger.unannounced ? "unannounced" : c.trigger.describe}\n`)
    return yield* Scheduler.run(plan, h)
  })
