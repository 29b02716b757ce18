/**
 * faultline: chaos experiments and disaster-recovery drills as typed, composable Effect
 * programs. One namespace per concept.
 *
 * @since 0.1.0
 */
export * as Abort from "./core/Abort.ts"
export * as Driver from "./core/Driver.ts"
export * as Experiment from "./core/Experiment.ts"
export * as Fault from "./core/Fault.ts"
export * as Guard from "./core/Guard.ts"
export * as Hypothesis from "./core/Hypothesis.ts"
export * as Journal from "./core/Journal.ts"
export * as Ledger from "./core/Ledger.ts"
export * as FileJournal from "./run/FileJournal.ts"
export * as FileLedger from "./run/FileLedger.ts"
export * as Recover from "./run/Recover.ts"
export * as Integration from "./core/Integration.ts"
export * as Integrations from "./integrations.ts"
export * as Probe from "./probes/index.ts"
export * as Run from "./core/Run.ts"
export * as Selector from "./core/Selector.ts"
export * as Stopwatch from "./core/Stopwatch.ts"
export * as Target from "./core/Target.ts"
export * as Tolerance from "./core/Tolerance.ts"
export * as Verdict from "./core/Verdict.ts"
export * as Windows from "./core/Windows.ts"
export * as Process from "./targets/process/index.ts"
export * as Report from "./report/Report.ts"
export * as Runner from "./run/Runner.ts"
export * as Slo from "./slo/Slo.ts"
export * as SloAlerts from "./slo/Alerts.ts"
export * as SloSources from "./slo/Sources.ts"
