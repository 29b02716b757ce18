/**
 * Runbooks: Markdown that reads as a document and runs as a drill. YAML front matter says
 * what is drilled (service, tier, objectives, roles, abort conditions, hypotheses, the
 * system's processes and proxies); each step is a heading whose prose the facilitator reads
 * out, with a fenced `step` block for its machine part. Markdown is parsed by markdown-it,
 * every YAML block is decoded strictly by Schema, and bad input names `file:line` and the
 * field.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import MarkdownIt from "markdown-it"
import * as YAML from "yaml"
import * as Strict from "../core/internal/strict.ts"
import { DurationText, FileAbort, FileHypothesis } from "../ExperimentFile.ts"
import * as Process from "../targets/process/index.ts"
import type { Step } from "./Step.ts"
import { StepSpec } from "./Step.ts"

/**
 * An embedded fault proxy the drill starts: clients use `listen`, traffic goes to
 * `upstream`; `network.*` faults name it as their target.
 *
 * @since 0.1.0
 */
export const ProxySpec = Schema.Struct({ name: Schema.String, listen: Schema.String, upstream: Schema.String })

/**
 * The front matter of a runbook.
 *
 * @since 0.1.0
 */
export const FrontMatter = Schema.Struct({
  name: Schema.String,
  service: Schema.String,
  tier: Schema.Union([Schema.Int, Schema.String]),
  description: Schema.optionalKey(Schema.String),
  objectives: Schema.optionalKey(Schema.Struct({ rto: Schema.optionalKey(DurationText), rpo: Schema.optionalKey(DurationText) })),
  /** Role name → what the role does. Every step's owner and approver role must be one of them. */
  roles: Schema.Record(Schema.String, Schema.String),
  abort: Schema.optionalKey(Schema.Array(FileAbort)),
  hypotheses: Schema.optionalKey(Schema.Array(FileHypothesis)),
  /** Processes the drill starts (the system under test) and stops when it ends. */
  processes: Schema.optionalKey(Schema.Array(Process.ProcessSpec)),
  /** Embedded fault proxies the drill starts in front of the system. */
  proxies: Schema.optionalKey(Schema.Array(ProxySpec))
})
/** @since 0.1.0 */
export type FrontMatter = typeof FrontMatter.Type

/**
 * A loaded runbook: its file, front matter, title and steps (main path and no-go sections).
 *
 * @since 0.1.0
 */
export interface Runbook {
  readonly file: string
  readonly dir: string
  readonly title: string
  readonly intro: string
  readonly front: FrontMatter
  readonly steps: ReadonlyArray<Step>
}

/**
 * The runbook is malformed: `line` (1-based) and `problem` (naming the field) say where and why.
 *
 * @since 0.1.0
 */
export class RunbookInvalid extends Schema.TaggedError<RunbookInvalid>()("RunbookInvalid", {
  file: Schema.String,
  line: Schema.Int,
  problem: Schema.String
}) {
  override get message() {
    return `${this.file}:${this.line}: ${this.problem}`
  }
}

const slug = (s: string) => s.toLowerCase().replace(/^\d+[.)]\s*/, "").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "step"

// The line (0-based, within `text`) of the key a problem names, to point at it precisely.
const lineOfKey = (text: string, problem: string): number | null => {
  const m = /at ([A-Za-z0-9_.[\]$-]+)/.exec(problem)
  const unknown = /unknown key "([^"]+)"/.exec(problem)
  const key = unknown?.[1] ?? m?.[1]?.split(/[.[\]]/).filter((k) => k !== "" && !/^\d+$/.test(k) && k !== "$").pop()
  if (key === undefined) return null
  const i = text.split("\n").findIndex((l) => new RegExp(`(^|[\\s{,-])${key.replace(/[$]/g, "\\$")}\\s*:`).test(l))
  return i < 0 ? null : i
}

// `${env.NAME}` in a YAML block: the value of an environment variable (`${env.NAME:-default}`:
// with a default), for what differs between
// environments (a hosted zone id, a host). Values are journaled like the rest of the step:
// never put a secret there (a notify step names its secret URL's variable with `urlFrom`).
const ENV = /\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

// Decodes one YAML block strictly; a problem points at the block's line of the bad key.
const decodeYaml = <S extends Schema.Top>(schema: S, file: string, text: string, firstLine: number, what: string) =>
  Effect.gen(function*() {
    const fail = (problem: string) => new RunbookInvalid({ file, line: firstLine + (lineOfKey(text, problem) ?? 0), problem: `${what}: ${problem}` })
    const missing = [...text.matchAll(ENV)].filter((m) => m[2] === undefined).map((m) => m[1]!).find((name) => (process.env[name] ?? "") === "")
    if (missing !== undefined) {
      const i = text.split("\n").findIndex((l) => l.includes(`\${env.${missing}}`))
      return yield* new RunbookInvalid({
        file,
        line: firstLine + Math.max(0, i),
        problem: `${what}: the environment variable ${missing} is not set (\${env.${missing}})`
      })
    }
    const substituted = text.replace(ENV, (_, name: string, fallback: string | undefined) => ((process.env[name] || fallback) ?? "").replace(/[\r\n]/g, ""))
    const raw = yield* Effect.try({
      try: () => YAML.parse(substituted, { prettyErrors: true }) as unknown,
      catch: (e) => fail(`not valid YAML: ${(e as Error).message.split("\n")[0]}`)
    })
    const unknown = Strict.unknownKeys(schema, raw)
    if (unknown !== undefined) return yield* fail(unknown)
    return yield* Schema.decodeUnknownEffect(schema)(raw, { onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => fail(Strict.oneLine(e.issue)))
    ) as Effect.Effect<S["Type"], RunbookInvalid>
  })

const md = new MarkdownIt({ html: false })

interface Section {
  readonly level: number
  readonly title: string
  readonly slug: string
  readonly line: number
  readonly prose: Array<string>
  readonly blocks: Array<{ readonly text: string; readonly line: number }>
}

// Headings and, under each, the Markdown source of its prose and its `step` blocks.
const sectionsOf = (body: string, offset: number): { intro: Array<string>; sections: Array<Section> } => {
  const lines = body.split("\n")
  const tokens = md.parse(body, {})
  const intro: Array<string> = []
  const sections: Array<Section> = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.level !== 0 || t.map === null || t.nesting === -1) continue
    const src = lines.slice(t.map[0], t.map[1]).join("\n")
    if (t.type === "heading_open") {
      const title = tokens[i + 1]?.content ?? ""
      sections.push({ level: Number(t.tag.slice(1)), title, slug: slug(title), line: offset + t.map[0] + 1, prose: [], blocks: [] })
      continue
    }
    const current = sections.at(-1)
    if (t.type === "fence" && t.info.trim() === "step") {
      if (current === undefined) continue
      current.blocks.push({ text: t.content, line: offset + t.map[0] + 2 })
      continue
    }
    ;(current?.prose ?? intro).push(src)
  }
  return { intro, sections }
}

const splitFrontMatter = (file: string, text: string) => {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text)
  if (m === null) {
    return Effect.fail(
      new RunbookInvalid({ file, line: 1, problem: "a runbook starts with YAML front matter between --- lines (name, service, tier, roles, ...)" })
    )
  }
  return Effect.succeed({ yaml: m[1]!, body: text.slice(m[0].length), bodyOffset: m[0].split("\n").length - 1 })
}

// The sections that a decision's no-go names: their steps (and their sub-sections') run only then.
const branchOf = (sections: ReadonlyArray<Section>, targets: ReadonlySet<string>) => {
  const out = new Map<Section, string>()
  let open: { slug: string; level: number } | null = null
  for (const s of sections) {
    if (open !== null && s.level <= open.level) open = null
    if (open === null && targets.has(s.slug)) open = { slug: s.slug, level: s.level }
    if (open !== null) out.set(s, open.slug)
  }
  return out
}

const problem = (file: string, line: number, text: string) => new RunbookInvalid({ file, line, problem: text })

/**
 * Parses and decodes a runbook's text.
 *
 * @since 0.1.0
 */
export const decode = (file: string, text: string): Effect.Effect<Runbook, RunbookInvalid> =>
  Effect.gen(function*() {
    const { yaml, body, bodyOffset } = yield* splitFrontMatter(file, text)
    const front = yield* decodeYaml(FrontMatter, file, yaml, 2, "front matter")
    const { intro, sections } = sectionsOf(body, bodyOffset)
    const decoded: Array<{ section: Section; spec: StepSpec; line: number }> = []
    for (const section of sections) {
      if (section.blocks.length > 1) {
        return yield* problem(file, section.blocks[1]!.line - 1, `heading "${section.title}" has ${section.blocks.length} step blocks; one step per heading`)
      }
      for (const b of section.blocks) {
        decoded.push({ section, spec: yield* decodeYaml(StepSpec, file, b.text, b.line, `step "${section.title}"`), line: b.line })
      }
    }
    if (decoded.length === 0) {
      return yield* problem(file, bodyOffset + 1, "no steps: each step is a heading followed by a ```step block")
    }
    const targets = new Set(decoded.flatMap((d) => d.spec.kind === "decision" ? [d.spec.noGo] : []))
    const branches = branchOf(sections, targets)
    const steps: Array<Step> = decoded.map(({ section, spec, line }) => ({
      id: spec.id ?? section.slug,
      title: section.title.replace(/^\d+[.)]\s+/, ""),
      prose: section.prose.join("\n\n").trim(),
      spec,
      plannedMs: spec.planned === undefined ? null : Duration.toMillis(Duration.fromInputUnsafe(spec.planned as Duration.Input)),
      branch: branches.get(section) ?? null,
      at: `${file}:${line}`
    }))
    const bad = references(front, steps, new Set(sections.map((s) => s.slug)))
    if (bad !== null) return yield* problem(file, Number(bad.at.split(":").pop()), bad.problem)
    return {
      file,
      dir: path.dirname(path.resolve(file)),
      title: sections.find((s) => s.level === 1)?.title ?? front.name,
      intro: intro.join("\n\n").trim(),
      front,
      steps
    }
  })

// Cross-references the Schema cannot see: unique ids, roles that exist, hypotheses that
// exist, `until` and `noGo` that name a step or section.
const references = (front: FrontMatter, steps: ReadonlyArray<Step>, sectionSlugs: ReadonlySet<string>) => {
  const roles = Object.keys(front.roles)
  const hyps = (front.hypotheses ?? []).map((h) => h.name)
  const ids = new Set<string>()
  for (const s of steps) {
    const at = s.at
    const fail = (text: string) => ({ at, problem: `step "${s.id}": ${text}` })
    if (ids.has(s.id)) return fail(`the id ${JSON.stringify(s.id)} is used twice (give one step an id:)`)
    ids.add(s.id)
    const spec = s.spec
    const role = spec.kind === "manual" ? spec.owner : spec.kind === "approve" ? spec.role : spec.kind === "decision" ? spec.role : undefined
    if (role !== undefined && !roles.includes(role)) {
      return fail(`no role ${JSON.stringify(role)} at ${spec.kind === "manual" ? "owner" : "role"}; roles: ${roles.join(", ")}`)
    }
    if (spec.kind === "verify" && !hyps.includes(spec.hypothesis)) {
      return fail(`no hypothesis named ${JSON.stringify(spec.hypothesis)} at hypothesis; hypotheses: ${hyps.join(", ") || "none"}`)
    }
    if (spec.kind === "notify" && (spec.url === undefined) === (spec.urlFrom === undefined)) {
      return fail("a notify step needs exactly one of url, urlFrom at url")
    }
    if (spec.kind === "decision" && !sectionSlugs.has(spec.noGo)) return fail(`no section ${JSON.stringify(spec.noGo)} at noGo`)
  }
  for (const s of steps) {
    if (s.spec.kind === "inject" && s.spec.until !== undefined && !ids.has(s.spec.until)) {
      return { at: s.at, problem: `step "${s.id}": no step ${JSON.stringify(s.spec.until)} at until` }
    }
  }
  return null
}

/**
 * Reads and decodes a runbook file.
 *
 * @example
 * ```ts
 * const runbook = yield* Runbook.load("runbooks/dependency-outage.md")
 * ```
 * @since 0.1.0
 */
export const load = (file: string): Effect.Effect<Runbook, RunbookInvalid> =>
  Effect.flatMap(
    Effect.try({ try: () => fs.readFileSync(file, "utf8"), catch: (e) => problem(file, 1, `cannot read: ${(e as Error).message}`) }),
    (text) => decode(file, text)
  )

/**
 * The integrations whose faults a runbook injects (the process driver always: it starts
 * the runbook's processes).
 *
 * @since 0.1.0
 */
export const faultsOf = (r: Runbook) => r.steps.flatMap((s) => s.spec.kind === "inject" ? [s.spec.fault] : [])

/**
 * Renders Markdown prose to HTML (raw HTML in the source is escaped, not passed through).
 *
 * @since 0.1.0
 */
export const toHtml = (markdown: string): string => md.render(markdown)
