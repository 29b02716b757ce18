/**
 * The automatic steps of a drill: notify (a webhook POST), verify (a hypothesis checked now,
 * or waited for) and run (an experiment as one step, with its own run folder and report).
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Experiment from "../core/Experiment.ts"
import * as Probe from "../core/Probe.ts"
import { Run } from "../core/Run.ts"
import * as Tolerance from "../core/Tolerance.ts"
import * as ExperimentFile from "../ExperimentFile.ts"
import * as Integrations from "../integrations.ts"
import * as Report from "../report/Report.ts"
import * as Runner from "../run/Runner.ts"
import type { StepContext } from "./Drill.ts"
import type { Step } from "./Step.ts"

/** The monotonic time, ms. @since 0.1.0 */
export const monoNow = Probe.monoMillis

/** @since 0.1.0 */
export interface Result {
  readonly ok: boolean
  readonly detail: string
  /** A failure that fails the drill (otherwise the step is recorded as failed and the drill goes on). */
  readonly fatal: boolean
  /** The RPO a `run` step's experiment measured. */
  readonly rpo?: { readonly windowMs: number; readonly lostWrites: number }
}

/**
 * Runs an automatic step (notify, verify, run).
 *
 * @since 0.1.0
 */
export const automatic = (ctx: StepContext, step: Step): Effect.Effect<Result, unknown, any> => {
  const spec = step.spec
  switch (spec.kind) {
    case "notify":
      return notify(ctx, spec)
    case "verify":
      return verify(ctx, spec)
    case "run":
      return runExperiment(ctx, spec)
    default:
      return Effect.succeed({ ok: false, detail: `not an automatic step: ${spec.kind}`, fatal: true })
  }
}

type Spec<K extends Step["spec"]["kind"]> = Extract<Step["spec"], { kind: K }>

const notify = (ctx: StepContext, spec: Spec<"notify">) =>
  Effect.gen(function*() {
    // The URL of a Slack webhook is a secret: only the variable's name is journaled.
    const shown = spec.url ?? `$${spec.urlFrom}`
    const url = spec.url ?? process.env[spec.urlFrom ?? ""]
    const fatal = spec.required === true
    if (url === undefined || url === "") return { ok: false, detail: `${shown} is not set`, fatal }
    const payload = { text: `[${ctx.drill.name}] ${spec.text}`, username: "faultline" }
    const status = yield* Effect.tryPromise({
      try: (signal) =>
        fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), signal }).then(async (r) => {
          await r.body?.cancel()
          return r.status
        }),
      catch: (e) => e as Error
    }).pipe(
      Effect.timeoutOption("5 seconds"),
      Effect.map((o) => o._tag === "Some" ? String(o.value) : "no answer in 5 s"),
      Effect.catch((e) => Effect.succeed(`error: ${Experiment.describeError(e)}`))
    )
    const ok = /^2\d\d$/.test(status)
    return { ok, detail: `POST ${shown}: ${status}`, fatal }
  })

const verify = (ctx: StepContext, spec: Spec<"verify">) =>
  Effect.gen(function*() {
    const run = yield* Run
    const h = ctx.drill.hypotheses.find((x) => x.name === spec.hypothesis)
    if (h === undefined) return { ok: false, detail: `no hypothesis ${spec.hypothesis}`, fatal: true }
    const tol = spec.tolerance === undefined ? h.tolerance : Tolerance.all(...spec.tolerance)
    const take = Effect.gen(function*() {
      const sample = yield* Probe.sample(h.probe)
      yield* run.journal.append({ _tag: "Sample", hypothesis: h.name, phase: "during", sample })
      return sample
    })
    if (spec.waitUntil !== undefined) {
      const timeoutMs = Duration.toMillis(Duration.fromInputUnsafe(spec.waitUntil.timeout as Duration.Input))
      const stableFor = spec.waitUntil.stableFor ?? 3
      const t0 = yield* monoNow
      let good = 0
      let n = 0
      while (true) {
        const s = yield* take
        n++
        good = Tolerance.isGood(tol, s) ? good + 1 : 0
        const elapsed = (yield* monoNow) - t0
        if (good >= stableFor) {
          return { ok: true, detail: `${h.name}: ${stableFor} good samples in a row after ${elapsed.toFixed(0)} ms (${n} samples)`, fatal: true }
        }
        if (elapsed >= timeoutMs) {
          return { ok: false, detail: `${h.name}: not ${stableFor} good samples in a row within ${timeoutMs} ms (${n} samples)`, fatal: true }
        }
        yield* Effect.sleep(h.every)
      }
    }
    const samples: Array<Probe.Sample> = []
    for (let i = 0; i < (spec.samples ?? h.samples); i++) {
      if (i > 0) {
        yield* Effect.sleep(h.every)
      }
      samples.push(yield* take)
    }
    const j = Tolerance.judge(tol, samples)
    return {
      ok: j.met,
      detail: `${h.name}: ${j.good}/${j.samples} good; ${j.met ? "met" : "not met"}${j.details.length ? ` (${j.details.join("; ")})` : ""}`,
      fatal: true
    }
  })

// Loads an experiment file or module as an Experiment, with the drivers it needs.
const loadExperiment = (file: string) =>
  Effect.gen(function*() {
    if (/\.(json|ya?ml)$/.test(file)) {
      const decoded = yield* ExperimentFile.load(file)
      const drivers = yield* Integrations.layerFor(["process", ...ExperimentFile.integrationsOf(decoded)])
      const setUp = Effect.andThen(ExperimentFile.startProcesses(decoded), ExperimentFile.resolveTargets(decoded))
      return { experiment: ExperimentFile.toExperiment(decoded), drivers, setUp, preflight: ExperimentFile.plan(decoded) }
    }
    const mod = yield* Effect.tryPromise({ try: () => import(pathToFileURL(file).href), catch: (e) => e as Error })
    if (!Experiment.isExperiment(mod.default)) return yield* Effect.fail(new Error(`${file}: the default export is not an Experiment`))
    const own = Layer.isLayer(mod.layer) ? mod.layer as Layer.Layer<never> : Layer.empty
    return { experiment: mod.default, drivers: Layer.merge(Integrations.layerAvailable, own), setUp: Effect.void, preflight: undefined }
  })

const runExperiment = (ctx: StepContext, spec: Spec<"run">) =>
  Effect.gen(function*() {
    const file = path.resolve(ctx.drill.dir, spec.experiment)
    const loaded = yield* loadExperiment(file)
    const report = yield* Effect.gen(function*() {
      yield* loaded.setUp
      const options = loaded.preflight === undefined ? {} : { preflight: loaded.preflight }
      if (ctx.out !== null) {
        const o = yield* Runner.run(loaded.experiment as Experiment.Experiment<never>, { out: path.join(ctx.out, "steps"), ...options })
        return { ...o.report, dir: o.dir as string | null }
      }
      const r = yield* Experiment.run(loaded.experiment as Experiment.Experiment<never>, options)
      return { ...Report.fromJournal(r.entries), dir: null as string | null }
    }).pipe(Effect.scoped, Effect.provide(loaded.drivers as Layer.Layer<never>))
    const figures = [
      report.rto?.measuredMs != null ? `RTO ${report.rto.measuredMs.toFixed(0)} ms` : null,
      report.rpo !== null ? `RPO ${report.rpo.windowMs.toFixed(0)} ms (${report.rpo.lostWrites} writes lost)` : null
    ].filter((x) => x !== null)
    return {
      ...(report.rpo !== null ? { rpo: { windowMs: report.rpo.windowMs, lostWrites: report.rpo.lostWrites } } : {}),
      ok: report.status === "passed",
      detail: `${spec.experiment}: ${report.status} — ${report.reason}${figures.length ? `; ${figures.join(", ")}` : ""}${
        report.dir ? `; run folder ${report.dir}` : ""
      }`,
      fatal: true
    }
  })
