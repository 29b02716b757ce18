/**
 * Traces and metrics of a run, derived from its journal like every report: a span per run,
 * phase (before, during, after), fault (injection to revert) and drill step, each with the
 * journal's own times; and metrics — samples (good/bad per hypothesis and phase), RTO and
 * RPO with their objectives. Written through Effect's `Tracer` and `Metric`, so any tracer
 * installed in the context receives them; `faultline/otel` installs OpenTelemetry's
 * (`@effect/opentelemetry`) and exports over OTLP.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import type { Entry } from "../core/Journal.ts"
import * as Report from "./Report.ts"
import { defaultStepOf, type StepMark } from "./Timeline.ts"

const nanos = (ms: number) => BigInt(Math.round(ms * 1000)) * 1000n

/** The metrics a run records. @since 0.1.0 */
export const metrics = {
  samples: Metric.counter("faultline.samples", { description: "hypothesis samples, by hypothesis, phase and outcome", incremental: true }),
  rto: Metric.gauge("faultline.rto_ms", { description: "measured RTO of the run, ms" }),
  rtoObjective: Metric.gauge("faultline.rto_objective_ms", { description: "the run's RTO objective, ms" }),
  rpo: Metric.gauge("faultline.rpo_ms", { description: "measured RPO window of the run, ms" }),
  rpoLostWrites: Metric.gauge("faultline.rpo_lost_writes", { description: "acknowledged writes lost" }),
  runs: Metric.counter("faultline.runs", { description: "runs ended, by verdict", incremental: true })
}

interface State {
  run: Tracer.Span | null
  runId: string
  readonly phases: Map<string, Tracer.Span>
  readonly faults: Map<string, Tracer.Span>
  readonly steps: Map<string, Tracer.Span>
  readonly samples: Map<string, number>
  objectives: { rtoMs: number | null; rpoMs: number | null }
}

const open = (tracer: Tracer.Tracer, name: string, parent: Tracer.Span | null, atMs: number, attributes: Record<string, unknown>) => {
  const span = tracer.span({
    name,
    parent: parent === null ? Option.none() : Option.some(parent),
    annotations: Context.empty(),
    links: [],
    startTime: nanos(atMs),
    kind: "internal",
    root: parent === null,
    sampled: true
  })
  for (const [k, v] of Object.entries(attributes)) span.attribute(k, v)
  return span
}
const close = (span: Tracer.Span | undefined, atMs: number, error: string | null = null) =>
  span?.end(nanos(atMs), error === null ? Exit.void : Exit.fail(error))

const phaseOf = (s: State, tracer: Tracer.Tracer, phase: "before" | "during" | "after", atMs: number) => {
  let span = s.phases.get(phase)
  if (span === undefined) {
    // One phase at a time: a new phase ends the one before it.
    for (const [p, open_] of s.phases) if (p !== phase && open_.status._tag === "Started") close(open_, atMs)
    span = open(tracer, `faultline.phase ${phase}`, s.run, atMs, { "faultline.phase": phase, "faultline.run_id": s.runId })
    s.phases.set(phase, span)
  }
  return span
}

const onStep = (s: State, tracer: Tracer.Tracer, e: Entry, m: StepMark) => {
  if (m.edge === "start") {
    s.steps.set(
      m.id,
      open(tracer, `faultline.step ${m.name}`, s.run, e.at, { "faultline.step": m.id, "faultline.step.kind": m.kind ?? "", "faultline.actor": m.actor ?? "" })
    )
  } else {
    const span = s.steps.get(m.id)
    if (m.outcome) span?.attribute("faultline.step.outcome", m.outcome)
    close(span, e.at)
  }
}

const stepEntry = (s: State, tracer: Tracer.Tracer, e: Entry) => {
  const ev = e.event
  switch (ev._tag) {
    case "RunStarted":
      s.runId = e.runId
      s.objectives = ev.objectives
      s.run = open(tracer, `faultline.run ${ev.experiment}`, null, e.at, {
        "faultline.run_id": e.runId,
        "faultline.experiment": ev.experiment,
        "faultline.dry_run": ev.dryRun
      })
      return
    case "Sample": {
      phaseOf(s, tracer, ev.phase, Math.min(e.at, ev.sample.at))
      const key = `${ev.hypothesis}\u0000${ev.phase}\u0000${ev.sample.ok ? "good" : "bad"}`
      s.samples.set(key, (s.samples.get(key) ?? 0) + 1)
      return
    }
    case "FaultInjecting":
      s.faults.set(
        ev.faultId,
        open(tracer, `faultline.fault ${ev.fault}`, s.phases.get("during") ?? phaseOf(s, tracer, "during", e.at), e.at, {
          "faultline.fault": ev.fault,
          "faultline.fault_id": ev.faultId,
          "faultline.target": `${ev.target.kind} ${ev.target.name}`
        })
      )
      return
    case "FaultInjectFailed":
      return close(s.faults.get(ev.faultId), e.at, ev.error)
    case "FaultReverted":
      return close(s.faults.get(ev.faultId), e.at)
    case "FaultRevertFailed":
      return close(s.faults.get(ev.faultId), e.at, `revert failed: ${ev.error}`)
    case "MethodEnded":
      return void phaseOf(s, tracer, "after", e.at)
    case "RunEnded":
      for (const span of [...s.phases.values(), ...s.faults.values(), ...s.steps.values()]) if (span.status._tag === "Started") close(span, e.at)
      s.run?.attribute("faultline.verdict", ev.status)
      s.run?.attribute("faultline.cleanup", ev.cleanup)
      return close(s.run ?? undefined, e.at, ev.status === "passed" || ev.status === "planned" ? null : `${ev.status}: ${ev.reason}`)
  }
}

/**
 * What a journal listener built by `listener` has seen: the figures its metrics record.
 *
 * @since 0.1.0
 */
export interface Figures {
  readonly samples: ReadonlyArray<{ readonly hypothesis: string; readonly phase: string; readonly outcome: string; readonly count: number }>
}

/**
 * Records a finished run's metrics (from its report's figures).
 *
 * @since 0.1.0
 */
export const recordMetrics = (r: {
  readonly status: string
  readonly samples: Figures["samples"]
  readonly rtoMs: number | null
  readonly rtoObjectiveMs: number | null
  readonly rpoMs: number | null
  readonly lostWrites: number | null
}): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (const s of r.samples) {
      yield* Metric.update(Metric.withAttributes(metrics.samples, { hypothesis: s.hypothesis, phase: s.phase, outcome: s.outcome }), s.count)
    }
    if (r.rtoMs !== null) yield* Metric.update(metrics.rto, r.rtoMs)
    if (r.rtoObjectiveMs !== null) yield* Metric.update(metrics.rtoObjective, r.rtoObjectiveMs)
    if (r.rpoMs !== null) yield* Metric.update(metrics.rpo, r.rpoMs)
    if (r.lostWrites !== null) yield* Metric.update(metrics.rpoLostWrites, r.lostWrites)
    yield* Metric.update(Metric.withAttributes(metrics.runs, { verdict: r.status }), 1)
  })

/**
 * A journal listener (the runner's `onEntry`) that turns entries into spans with the
 * journal's times through the current `Tracer`, and records the run's metrics when it ends
 * (RTO and RPO from the report folded, alongside, from the same entries).
 *
 * @since 0.1.0
 */
export const listener = (options: {
  readonly stepOf?: (entry: Entry) => StepMark | null
} = {}): Effect.Effect<(entry: Entry) => void> =>
  Effect.gen(function*() {
    const tracer = yield* Effect.tracer
    const services = yield* Effect.context<never>()
    const stepOf = options.stepOf ?? defaultStepOf
    const report = Report.fold()
    const s: State = {
      run: null,
      runId: "",
      phases: new Map(),
      faults: new Map(),
      steps: new Map(),
      samples: new Map(),
      objectives: { rtoMs: null, rpoMs: null }
    }
    return (e: Entry) => {
      report.step(e)
      const m = stepOf(e)
      if (m !== null) onStep(s, tracer, e, m)
      stepEntry(s, tracer, e)
      if (e.event._tag !== "RunEnded") return
      const r = report.result()
      const samples = [...s.samples].map(([k, count]) => {
        const [hypothesis, phase, outcome] = k.split("\u0000") as [string, string, string]
        return { hypothesis, phase, outcome, count }
      })
      Effect.runSyncWith(services)(
        recordMetrics({
          status: e.event.status,
          samples,
          rtoMs: r.rto?.measuredMs ?? null,
          rtoObjectiveMs: s.objectives.rtoMs,
          rpoMs: r.rpo?.windowMs ?? null,
          lostWrites: r.rpo?.lostWrites ?? null
        })
      )
    }
  })
