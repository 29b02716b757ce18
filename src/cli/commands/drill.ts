/**
 * `faultline drill RUNBOOK`: runs a Markdown runbook as a drill into a run folder, with a
 * terminal live view (or scripted answers with `--answers`, for CI) and, with `--serve`, a
 * web live view for the room. Writes journal.jsonl, report.json/.md and drill.md/.json.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Experiment from "../../core/Experiment.ts"
import type * as Journal from "../../core/Journal.ts"
import * as Answers from "../../drill/Answers.ts"
import { Facilitator } from "../../drill/Desk.ts"
import * as Drill from "../../drill/Drill.ts"
import * as Runbook from "../../drill/Runbook.ts"
import * as System from "../../drill/System.ts"
import * as Terminal from "../../drill/Terminal.ts"
import * as DrillTimeline from "../../drill/Timeline.ts"
import * as Web from "../../drill/Web.ts"
import * as PrivateFiles from "../../core/PrivateFiles.ts"
import * as DrillReport from "../../report/DrillReport.ts"
import * as Runner from "../../run/Runner.ts"
import type { ProcessDriver } from "../../targets/process/index.ts"
import type { ToxiproxyDriver } from "../../targets/toxiproxy/index.ts"
import { exitCodeOf } from "../ExitCode.ts"
import { ensurePrivateLedger, ledgerLayer } from "../Ledger.ts"
import { BadInput, state } from "../State.ts"

/** @since 0.1.0 */
export interface DrillArgs {
  readonly runbook: string
  readonly answers: string | undefined
  readonly serve: string | undefined
  readonly name: string | undefined
  readonly out: string
  readonly json: boolean
}

const bad = (e: { readonly message: string }) => new BadInput({ message: e.message })

// Both facilitators attached to the same desk: the terminal (or the script) and the web page.
const both = (a: Facilitator["Service"], b: Facilitator["Service"] | null): Facilitator["Service"] =>
  b === null ? a : Facilitator.of({ runner: a.runner, attach: (desk) => Effect.andThen(a.attach(desk), b.attach(desk)) })

const plainLine = (s: DrillReport.DrillState, e: Journal.Entry): string | null => {
  const ev = e.event
  const t = DrillReport.clock(e.mono - (s.startedMono ?? e.mono))
  if (ev._tag === "StepStarted") return `${t} step ${ev.stepId} (${ev.kind}): ${ev.title}${ev.instructions ? ` — ${ev.instructions}` : ""}`
  if (ev._tag === "StepEnded") {
    return `${t} step ${ev.stepId}: ${ev.outcome}${ev.actor ? ` by ${ev.actor.name ?? ev.actor.user}` : ""}${ev.detail ? ` — ${ev.detail}` : ""}`
  }
  if (ev._tag === "DrillNote") return `${t} note by ${ev.actor.name ?? ev.actor.user}: ${ev.text}`
  if (ev._tag === "FaultInjected" || ev._tag === "FaultReverted") {
    return `${t} ${ev._tag === "FaultInjected" ? `fault ${ev.fault} injected` : `fault ${ev.faultId} reverted`}`
  }
  return null
}

// drill.md and drill.json: the drill report, folded from the journal as it was written.
const writeDrillFiles = (dir: string, live: DrillReport.DrillState) => {
  if (!fs.existsSync(dir)) return
  PrivateFiles.writeFile(path.join(dir, "drill.md"), DrillReport.toMarkdown(live))
  PrivateFiles.writeFile(path.join(dir, "drill.json"), JSON.stringify(live, null, 2) + "\n")
}

const listenOf = (serve: string) => {
  const m = /^(.*):(\d+)$/.exec(serve)
  if (m === null) return Effect.fail(new BadInput({ message: `--serve ${serve}: expected HOST:PORT, e.g. 127.0.0.1:8080` }))
  return Effect.succeed({ host: m[1] === "" ? "127.0.0.1" : m[1]!, port: Number(m[2]) })
}

/**
 * `faultline drill`.
 *
 * @since 0.1.0
 */
export const drill = (args: DrillArgs) =>
  Effect.gen(function*() {
    yield* ensurePrivateLedger(path.join(args.out, "ledger"))
    const rb = yield* Runbook.load(args.runbook).pipe(Effect.mapError(bad))
    const d = Drill.fromRunbook(rb)
    const script = args.answers === undefined ? null : yield* Answers.load(args.answers, d).pipe(Effect.mapError(bad))
    const listen = args.serve === undefined ? null : yield* listenOf(args.serve)
    if (script === null && !process.stdin.isTTY && listen === null) {
      return yield* new BadInput({ message: `${args.runbook}: no terminal to run the drill on: give --answers FILE (scripted) or --serve HOST:PORT (web)` })
    }
    const live = DrillReport.empty()
    const runner = script !== null
      ? Answers.facilitator(script).runner
      : { name: args.name ?? Answers.osUser(), user: Answers.osUser(), via: "terminal" as const }
    const web = listen === null ? null : yield* Web.serve({ ...listen, state: live, runner, title: rb.title, runbook: rb })
    const banner = web === null ? [] : [`web view: ${web.url}  (join token in the link; keep it to the room)`]
    if (web !== null) process.stderr.write(`${banner[0]}\n`)
    const term = script === null && process.stdin.isTTY ? Terminal.make({ runner, state: live, banner }) : null
    const local = script !== null ? Answers.facilitator(script) : term !== null ? term.facilitator : Facilitator.of({ runner, attach: () => Effect.void })
    const runId = yield* Experiment.makeRunId
    const dir = path.resolve(args.out, runId)
    state.runDir = dir
    const { experiment, judge } = yield* Drill.toExperiment(d, runner, { out: dir })
    const onEntry = (e: Journal.Entry) => {
      DrillReport.step(live, e)
      web?.changed(e)
      if (term !== null) term.changed()
      else if (!args.json) {
        const line = plainLine(live, e)
        if (line !== null) process.stderr.write(`${line}\n`)
      }
    }
    const drivers = yield* System.drivers(rb).pipe(Effect.mapError((e) => new BadInput({ message: `${args.runbook}: ${e.message}` })))
    const outcome = yield* Effect.gen(function*() {
      yield* System.setUp(rb, runId).pipe(
        Effect.mapError((e) => new BadInput({ message: `${args.runbook}: setting up the system failed: ${Experiment.describeError(e)}` }))
      )
      return yield* Runner.run(experiment as Experiment.Experiment<never>, { out: args.out, runId, judge, onEntry, timeline: DrillTimeline.options })
    }).pipe(
      Effect.provide(Layer.succeed(Facilitator, both(local, web?.facilitator ?? null))),
      // The drivers are data (the runbook's faults): setUp asks only for those it declares.
      Effect.provide(drivers as unknown as Layer.Layer<ProcessDriver | ToxiproxyDriver>),
      Effect.provide(ledgerLayer(args.out)),
      Effect.mapError((e: unknown) => e instanceof BadInput ? e : new BadInput({ message: `${args.runbook}: ${Experiment.describeError(e)}` })),
      // Written whatever ended the drill (Ctrl-C included), once the journal is complete.
      Effect.ensuring(Effect.sync(() => writeDrillFiles(dir, live)))
    )
    term?.redraw()
    const md = DrillReport.toMarkdown(live)
    if (args.json) process.stdout.write(JSON.stringify(live, null, 2) + "\n")
    else process.stdout.write(`\n${md}\nrun folder: ${outcome.dir}\n`)
    state.exitCode = exitCodeOf(outcome.result.verdict.status)
  }).pipe(Effect.scoped)
