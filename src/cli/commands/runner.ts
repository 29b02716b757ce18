/**
 * `faultline runner --db URL`: a long-lived runner that joins the cluster (PostgreSQL), carries
 * out the durable drills whose shards it owns, resumes those of runners that died, and with
 * `--schedule drills.yaml` shares that schedule with every runner given the same file: each
 * firing is one workflow execution (its key: the drill's name and firing instant), so it runs
 * once however many runners fire it. `faultline submit FILE --db URL` hands one drill to the
 * cluster and waits for its verdict.
 *
 * @since 0.2.0
 */
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Cluster from "../../durable/Cluster.ts"
import * as DrillWorkflow from "../../durable/DrillWorkflow.ts"
import * as Runbooks from "../../durable/Runbooks.ts"
import * as Store from "../../durable/Store.ts"
import * as Drills from "../../schedule/Drills.ts"
import * as HistoryPg from "../../schedule/HistoryPg.ts"
import * as Scheduler from "../../schedule/Scheduler.ts"
import { exitCodeOf } from "../ExitCode.ts"
import { ensurePrivateLedger } from "../Ledger.ts"
import * as RunHistory from "../RunHistory.ts"
import { BadInput, state } from "../State.ts"
import { runAny } from "./run.ts"
import * as ScheduleCommand from "./schedule.ts"

/** @since 0.2.0 */
export interface RunnerArgs {
  readonly db: string
  readonly listen: string
  readonly out: string
  readonly name: string | undefined
  readonly schedule: string | undefined
}

const listenOf = (listen: string) => {
  const m = /^(.*):(\d+)$/.exec(listen)
  if (m === null || Number(m[2]) > 65535) return Effect.fail(new BadInput({ message: `--listen ${listen}: expected HOST:PORT, e.g. 127.0.0.1:34431` }))
  return Effect.succeed({ host: m[1] === "" ? "127.0.0.1" : m[1]!, port: Number(m[2]) })
}

const dbOf = (db: string) =>
  /^postgres(ql)?:\/\//.test(db) ? Effect.succeed(db) : Effect.fail(new BadInput({ message: `--db: expected a postgres:// connection string` }))

// The cluster's database could not be reached or used: one line naming it (no password).
const unreachable = (db: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(
    Effect.catchDefect((d) => Effect.fail(d)),
    Effect.mapError((e: unknown) =>
      e instanceof BadInput
        ? e
        : new BadInput({ message: `--db ${HistoryPg.describe(db)}: ${String((e as { message?: string })?.message ?? e).split("\n")[0]}` })
    )
  )

const kindOf = (file: string): "runbook" | "experiment" => file.endsWith(".md") ? "runbook" : "experiment"

const host = (out: string, runner: string) =>
  DrillWorkflow.DrillHost.of({
    runner,
    runRunbook: (p, around, runId) => Runbooks.run(p, around, runId, out, runner),
    runExperiment: (p) =>
      runAny(p.file, { out, dryRun: false, json: true, history: RunHistory.HistoryConfig.configured(Option.none()), services: null, allowTier0: false }).pipe(
        Effect.map((o) => ({ runId: o.result.runId, status: o.result.verdict.status })),
        Effect.mapError((e) => e instanceof BadInput ? e.message : String(e)),
        Effect.catchDefect((d) => Effect.fail(d instanceof Error ? d.message : String(d)))
      )
  })

// The drills file, checked before the runner joins; its run folders and decisions go to `out`.
const loadPlan = (file: string, out: string) =>
  Effect.map(
    Drills.load(file).pipe(Effect.mapError((e) => new BadInput({ message: e.message }))),
    (loaded): Drills.Plan => ({ ...loaded, file: { ...loaded.file, out, journal: path.join(out, "schedule.jsonl") } })
  )

// The schedule, shared: each firing is submitted under its key and awaited.
const shared = (file: string, plan: Drills.Plan) =>
  Effect.gen(function*() {
    const base = path.dirname(path.resolve(file))
    const local = ScheduleCommand.host(plan, base, { drills: file, once: false, grace: "1 minute", services: undefined })
    const h: Scheduler.Host<DrillWorkflow.Engine> = {
      ...local,
      run: (drill, plannedAt) => {
        const target = path.resolve(base, drill.experiment)
        return DrillWorkflow.DurableDrill.execute({
          kind: kindOf(target),
          file: target,
          answers: null,
          key: `schedule:${drill.name}@${new Date(plannedAt).toISOString()}`
        }).pipe(
          Effect.map((r) => ({ runId: r.runId ?? "", status: r.status }))
        )
      }
    }
    return yield* Scheduler.run(plan, h)
  })

/**
 * `faultline runner`.
 *
 * @since 0.2.0
 */
export const runner = (args: RunnerArgs) =>
  Effect.gen(function*() {
    const db = yield* dbOf(args.db)
    const listen = yield* listenOf(args.listen)
    const out = path.resolve(args.out)
    yield* ensurePrivateLedger(path.join(out, "ledger"))
    const plan = args.schedule === undefined ? null : yield* loadPlan(args.schedule, out)
    const name = args.name ?? `${os.hostname()}:${listen.port}`
    const layer = DrillWorkflow.layer.pipe(
      Layer.provideMerge(Layer.succeed(DrillWorkflow.DrillHost, host(out, name))),
      Layer.provideMerge(Cluster.layer({ db, listen }))
    )
    const body = Effect.gen(function*() {
      yield* Store.migrate
      process.stderr.write(`runner ${name} joined the cluster (${listen.host}:${listen.port}); run folders in ${out}\n`)
      if (args.schedule !== undefined && plan !== null) return yield* shared(args.schedule, plan)
      return yield* Effect.never
    })
    yield* body.pipe(Effect.provide(layer), unreachable(db))
  })

/** @since 0.2.0 */
export interface SubmitArgs {
  readonly file: string
  readonly db: string
  readonly answers: string | undefined
  readonly key: string | undefined
  readonly json: boolean
}

/**
 * `faultline submit`: hands a drill to the cluster (as a client that owns no shards) and waits.
 *
 * @since 0.2.0
 */
export const submit = (args: SubmitArgs) =>
  Effect.gen(function*() {
    const db = yield* dbOf(args.db)
    const file = path.resolve(args.file)
    const key = args.key ?? `submit:${path.basename(file)}@${new Date().toISOString()}`
    const payload = { kind: kindOf(file), file, answers: args.answers === undefined ? null : path.resolve(args.answers), key }
    const result = yield* DrillWorkflow.DurableDrill.execute(payload).pipe(
      Effect.provide(Cluster.layer({ db, listen: null })),
      unreachable(db)
    )
    if (args.json) process.stdout.write(JSON.stringify({ key, ...result }) + "\n")
    else {process.stdout.write(
        `${key}: ${result.status} (run ${result.runId ?? "none"}, attempt ${result.attempt} on ${result.runner})${result.detail ? ` — ${result.detail}` : ""}\n`
      )}
    state.exitCode = result.status === "error" ? 1 : exitCodeOf(result.status as Parameters<typeof exitCodeOf>[0])
  })
