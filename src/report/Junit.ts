/**
 * JUnit XML for CI systems: one test suite per run, one test case per experiment, per
 * hypothesis phase and per objective (and the cleanup), a failure carrying the reason.
 * The shape is the common Ant/Jenkins one (`testsuites > testsuite > properties, testcase*,
 * system-out, system-err`), validated in tests against `test/fixtures/junit.xsd`.
 *
 * @since 0.1.0
 */
import type { Phase } from "../core/Journal.ts"
import type { Evidence } from "./Html.ts"
import * as Report from "./Report.ts"

/**
 * One test case: passed, failed (with why), or skipped (with why: nothing to judge).
 *
 * @since 0.1.0
 */
export interface Case {
  readonly name: string
  readonly classname: string
  readonly timeS: number
  readonly result: { readonly _tag: "passed" } | { readonly _tag: "failed"; readonly reason: string } | { readonly _tag: "skipped"; readonly reason: string }
}

// XML 1.0 allows neither most control characters nor lone surrogates: a reason quoting a
// probe's output must not make the file invalid.
const clean = (s: string) =>
  Array.from(s, (ch) => {
    const c = ch.codePointAt(0)!
    return (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff || (c >= 0xd800 && c <= 0xdfff) ? "\uFFFD" : ch
  }).join("")
const x = (s: string) => clean(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
const secs = (ms: number | null) => Math.max(0, Math.round(ms ?? 0) / 1000)

const experimentCase = (r: Report.Report, cls: string): Case => ({
  name: `experiment ${r.experiment}`,
  classname: cls,
  timeS: secs(r.durationMs),
  result: !r.complete
    ? { _tag: "failed", reason: r.reason }
    : r.status === "passed"
    ? { _tag: "passed" }
    : r.status === "planned"
    ? { _tag: "skipped", reason: "a dry run: nothing was injected or measured" }
    : { _tag: "failed", reason: `${r.status}: ${r.reason}` }
})

const phaseCases = (e: Evidence, cls: string): ReadonlyArray<Case> =>
  Object.entries(e.report.hypothesis).flatMap(([name, h]) =>
    (["before", "during", "after"] as const).map((phase: Phase): Case => {
      const p = h[phase]
      const span = e.timeline.phases.find((s) => s.phase === phase)
      const base = { name: `hypothesis ${name} — ${phase}`, classname: `${cls}.hypothesis`, timeS: span ? secs(span.toMs - span.fromMs) : 0 }
      if (p === null) return { ...base, result: { _tag: "skipped", reason: `no ${phase} check was journaled (the run did not reach it)` } }
      const figures = `${p.good}/${p.samples} good samples`
      if (phase === "during" && h.duringMode === "observed only") {
        return { ...base, result: { _tag: "skipped", reason: `observed only (during: observe): ${p.met ? "met" : "not met"}, ${figures}` } }
      }
      return {
        ...base,
        result: p.met
          ? { _tag: "passed" }
          : { _tag: "failed", reason: `steady state not met ${phase} the method: ${figures}${p.details.length > 0 ? `; ${p.details.join("; ")}` : ""}` }
      }
    })
  )

const objectiveCases = (r: Report.Report, cls: string): ReadonlyArray<Case> => {
  const out: Array<Case> = []
  const judged = (met: boolean | null, what: string, why: string): Case["result"] =>
    met === null ?
      { _tag: "skipped", reason: r.dryRun ? "a dry run measured nothing" : `no ${what} objective, or nothing measured: ${why}` }
      : met
      ? { _tag: "passed" }
      : { _tag: "failed", reason: why }
  if (r.rto) {
    const why = `RTO ${r.dryRun ? "not measured" : Report.rtoText(r.rto)} against an objective of ${r.rto.targetMs ?? "—"} ms`
    out.push({ name: "objective RTO", classname: `${cls}.objective`, timeS: secs(r.rto.measuredMs), result: judged(r.rto.met, "RTO", why) })
  }
  if (r.rpo) {
    const why = `RPO ${r.rpo.windowMs} ms (${r.rpo.lostWrites} of ${r.rpo.ackedWrites} acknowledged writes lost) against an objective of ${
      r.rpo.targetMs ?? "—"
    } ms`
    out.push({ name: "objective RPO", classname: `${cls}.objective`, timeS: secs(r.rpo.windowMs), result: judged(r.rpo.met, "RPO", why) })
  }
  const reverts = r.faults.filter((f) => f.revertError !== null)
  out.push({
    name: "cleanup",
    classname: `${cls}.cleanup`,
    timeS: 0,
    result: r.cleanup === "ok" ?
      { _tag: "passed" }
      : r.cleanup === "unknown" ?
      { _tag: "skipped", reason: "the run did not end: cleanup was not checked" }
      : { _tag: "failed", reason: `cleanup failed: ${reverts.map((f) => `${f.fault} on ${f.target.name}: ${f.revertError}`).join("; ") || "see the journal"}` }
  })
  return out
}

/**
 * The test cases of one run.
 *
 * @since 0.1.0
 */
export const cases = (e: Evidence): ReadonlyArray<Case> => {
  const cls = `faultline.${e.report.experiment.replace(/[^A-Za-z0-9_-]+/g, "_")}`
  return [experimentCase(e.report, cls), ...phaseCases(e, cls), ...objectiveCases(e.report, cls)]
}

const caseXml = (c: Case) => {
  const open = `    <testcase name="${x(c.name)}" classname="${x(c.classname)}" time="${c.timeS}"`
  if (c.result._tag === "passed") return `${open}/>`
  const tag = c.result._tag === "failed" ? `failure type="faultline.${c.result._tag}"` : "skipped"
  const close = c.result._tag === "failed" ? "failure" : "skipped"
  return `${open}>\n      <${tag} message="${x(c.result.reason)}">${x(c.result.reason)}</${close}>\n    </testcase>`
}

/**
 * Renders runs as one JUnit XML document: a `testsuite` per run.
 *
 * @since 0.1.0
 */
export const toJunit = (runs: ReadonlyArray<Evidence>): string => {
  const suites = runs.map((e, id) => {
    const r = e.report
    const cs = cases(e)
    const failures = cs.filter((c) => c.result._tag === "failed").length
    const skipped = cs.filter((c) => c.result._tag === "skipped").length
    const props = [["run", r.runId], ["verdict", r.complete ? r.status : "incomplete"], ["cleanup", r.cleanup], ["journal.lastHash", r.journal.lastHash ?? ""]]
    const timestamp = (r.startedAt === "" ? new Date(0).toISOString() : r.startedAt).slice(0, 19)
    return [
      `  <testsuite name="${x(r.experiment)}" id="${id}" package="faultline" tests="${cs.length}" failures="${failures}" errors="0" skipped="${skipped}" ` +
      `time="${secs(r.durationMs)}" timestamp="${timestamp}" hostname="${x(r.environment?.host ?? "unknown")}">`,
      `    <properties>`,
      ...props.map(([k, v]) => `      <property name="${x(k!)}" value="${x(v!)}"/>`),
      `    </properties>`,
      ...cs.map(caseXml),
      `    <system-out>${x(`${r.status}: ${r.reason}`)}</system-out>`,
      `    <system-err/>`,
      `  </testsuite>`
    ].join("\n")
  })
  const all = runs.flatMap(cases)
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="faultline" tests="${all.length}" failures="${
    all.filter((c) => c.result._tag === "failed").length
  }" errors="0" ` +
    `time="${runs.reduce((a, e) => a + secs(e.report.durationMs), 0)}">\n${suites.join("\n")}\n</testsuites>\n`
}
