/**
 * Generates docs/file-format.md and docs/experiment.schema.json from the experiment file's
 * Schema (src/ExperimentFile.ts, through src/ExperimentFileSchema.ts). Run: `npm run docs`.
 * test/docs/fileFormat.test.ts fails when either file is stale.
 */
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { jsonSchema } from "../src/ExperimentFileSchema.ts"
import * as Integrations from "../src/integrations.ts"

type Node = Record<string, any>

/** Where the generated files live. */
export const paths = {
  markdown: fileURLToPath(new URL("../docs/file-format.md", import.meta.url)),
  schema: fileURLToPath(new URL("../docs/experiment.schema.json", import.meta.url))
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER

// The name that tells one member of a union of objects from the others: its fault tag, its
// `_tag`, or its single required key (`{ sleep: ... }`, `{ http: ... }`).
const variantName = (s: Node): string => {
  const p = s.properties ?? {}
  if (p.fault?.enum) return String(p.fault.enum[0])
  if (p._tag?.enum) return String(p._tag.enum[0])
  const req: Array<string> = s.required ?? []
  return req.length === 1 ? req[0]! : Object.keys(p).join(" | ")
}

const bounds = (s: Node): string => {
  const lo = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined && s.minimum !== -MAX_SAFE ? `≥ ${s.minimum}` : ""
  const hi = s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : s.maximum !== undefined && s.maximum !== MAX_SAFE ? `≤ ${s.maximum}` : ""
  return [lo, hi].filter((x) => x !== "").join(", ")
}

// A one-line type; objects and unions of objects get their own section, linked by `anchor`.
const typeText = (s: Node, section: (title: string, s: Node) => string): string => {
  if (s.$ref) return section("ref", s)
  if (s.enum) return s.enum.map((v: unknown) => `\`${JSON.stringify(v)}\``).join(" \\| ")
  if (s.anyOf) {
    return s.anyOf.every((m: Node) => m.type === "object") ? section("one of", s) : s.anyOf.map((m: Node) => typeText(m, section)).join(" \\| ")
  }
  switch (s.type) {
    case "array": {
      const min = s.minItems ? ` (at least ${s.minItems})` : ""
      return `list of ${typeText(s.items ?? {}, section)}${min}`
    }
    case "object":
      if (!s.properties && s.additionalProperties) return `map of string to ${typeText(s.additionalProperties, section)}`
      return section("object", s)
    case "integer":
    case "number": {
      const b = bounds(s)
      return b === "" ? s.type : `${s.type} ${b}`
    }
    case undefined:
      return "any value"
    default:
      return String(s.type)
  }
}

const cell = (v: unknown): string => v === undefined ? "" : `\`${JSON.stringify(v)}\``

interface Section {
  readonly title: string
  readonly anchor: string
  readonly body: string
}

const anchorOf = (title: string) => title.toLowerCase().replace(/[^a-z0-9 -]/g, "").trim().replace(/ /g, "-")

// A shared definition ($defs, e.g. the recursive tolerance union) is rendered once, under the
// name of the first field that uses it, and linked from every use.
const refs = new Map<string, string>()
const pending: Array<{ readonly title: string; readonly schema: Node }> = []
let defs: Record<string, Node> = {}

const refTitle = (ref: string, field: string): string => {
  const known = refs.get(ref)
  if (known !== undefined) return known
  const title = field.charAt(0).toUpperCase() + field.slice(1)
  refs.set(ref, title)
  pending.push({ title, schema: defs[ref.replace("#/$defs/", "")]! })
  return title
}

/** Renders the object sections reachable from `root`, depth first, each once. */
const renderObjects = (root: Node, rootTitle: string, skipFields: ReadonlyArray<string> = []): Array<Section> => {
  const sections: Array<Section> = []
  const fieldsTable = (title: string, s: Node, skip: ReadonlyArray<string>): void => {
    const slot = sections.length
    sections.push({ title, anchor: anchorOf(title), body: "" })
    const required = new Set<string>(s.required ?? [])
    const rows = Object.entries<Node>(s.properties ?? {}).filter(([k]) => !skip.includes(k)).map(([key, f]) => {
      const link = (kind: string, sub: Node): string => {
        if (kind === "ref") {
          const t = refTitle(sub.$ref, key)
          return `[${t.toLowerCase()}](#${anchorOf(t)})`
        }
        if (kind === "one of") {
          const names = sub.anyOf.map((m: Node) => {
            const t = `${title} › ${key}: ${variantName(m)}`
            fieldsTable(t, m, [])
            return `[${variantName(m)}](#${anchorOf(t)})`
          })
          return `one of ${names.join(", ")}`
        }
        const t = `${title} › ${key}`
        fieldsTable(t, sub, [])
        return `[object](#${anchorOf(t)})`
      }
      return `| \`${key}\` | ${typeText(f, link)} | ${required.has(key) ? "yes" : "no"} | ${cell(f.default)} |`
    })
    const body = rows.length === 0
      ? "No fields.\n"
      : ["| field | type | required | default |", "|---|---|---|---|", ...rows].join("\n") + "\n"
    sections[slot] = { title, anchor: anchorOf(title), body }
  }
  fieldsTable(rootTitle, root, skipFields)
  return sections
}

const renderSections = (sections: ReadonlyArray<Section>, level: string): string => sections.map((s) => `${level} ${s.title}\n\n${s.body}`).join("\n")

/** The Markdown of docs/file-format.md, from the Schema. */
export const render = (): string => {
  const schema = jsonSchema() as Node
  defs = schema.$defs ?? {}
  refs.clear()
  pending.length = 0
  // The fault union sits under method[].inject; it is rendered per integration below, so the
  // generic walk skips `method` and a short table names the step kinds instead.
  const steps: Array<Node> = schema.properties.method.items.anyOf
  const inject = steps.find((s) => s.properties?.inject)!.properties.inject.anyOf as Array<Node>
  const byTag = new Map(inject.map((f) => [String(f.properties.fault.enum[0]), f]))
  const sleep = steps.find((s) => s.properties?.sleep)!

  const top = renderObjects(schema, "Top level", ["method"])
  const target = renderObjects(inject[0]!.properties.target, "Target selector")
  // Shared definitions met so far (and any they use), each a union of tagged objects.
  const shared: Array<string> = []
  for (let i = 0; i < pending.length; i++) {
    const { title, schema: def } = pending[i]!
    const members: Array<Node> = def.anyOf ?? [def]
    const sections = members.flatMap((m) => renderObjects(m, `${title}: ${variantName(m)}`))
    shared.push(
      `## ${title}\n\nOne of: ${members.map((m) => `[${variantName(m)}](#${anchorOf(`${title}: ${variantName(m)}`)})`).join(", ")}.\n\n${
        renderSections(sections, "###")
      }`
    )
  }

  const faults = Integrations.integrations.map((i) => {
    const tags = Integrations.faultClasses.filter((f) => f.integration === i).map((f) => f.tag)
    const body = tags.map((tag) => {
      const f = byTag.get(tag)!
      const own = Object.keys(f.properties).filter((k) => k !== "fault" && k !== "target")
      const sections = renderObjects(f, tag, ["fault", "target"])
      const first = own.length === 0
        ? `### \`${tag}\`\n\nNo fields beyond \`fault\` and \`target\`.\n`
        : `### \`${tag}\`\n\n${sections[0]!.body}`
      return [first, ...sections.slice(1).map((s) => `#### ${s.title}\n\n${s.body}`)].join("\n")
    }).join("\n")
    return `## ${i.name}: ${i.summary}\n\nTypeScript: \`${i.module}\`. Faults:\n\n${body}`
  }).join("\n")

  return `<!-- Generated by \`npm run docs\` (scripts/gen-file-format.ts) from src/ExperimentFile.ts. Do not edit by hand. -->
# Experiment file format

An experiment can be written as YAML or JSON instead of TypeScript and run with
\`faultline run FILE.yaml\` (or \`.yml\`, \`.json\`). The file is decoded by the same Schema that
this page is generated from; a field that does not decode exits 2 with a message naming the file
and the path of the field, before anything is started or touched.

\`faultline run\` also takes TypeScript or JavaScript modules (\`.ts\`, \`.mts\`, \`.js\`, \`.mjs\`): the
default export is an \`Experiment\`, or an \`Effect\` that sets the system up and yields one
(\`experiments/pause-kv.ts\` starts the process it pauses). A module may also \`export const layer\`:
the services its experiment needs beyond the built-in drivers (e.g. \`AwsDriver.layerConfig(...)\`),
provided to its set-up and its run. Modules and files are trusted input, like a test file.

\`faultline run EXPERIMENT [--json] [--out DIR] [--dry-run]\` writes \`DIR/<run id>/\` (default
\`faultline-runs\`); \`--json\` prints report.json on stdout; \`--dry-run\` resolves targets and checks
guards without injecting.

**Addresses that follow a process.** A probe's \`http.url\`, \`tcp.host\` or \`tcp.port\` may name
\`\${NAME.port}\`: NAME is an entry of \`processes:\`, and \`port\` is the first capture group of its
\`ready\` pattern (e.g. \`ready: "listening on (\\\\d+)"\` for a server started with \`--port 0\`). It is
resolved at every sample, so after \`process.kill\` is reverted — the process restarted, on another
port — the probe uses the new one. A NAME that is not declared, or whose \`ready\` captures nothing,
is refused at load. In TypeScript: \`Probe.http(Process.url("http://127.0.0.1:\${backend.port}/health"))\`,
\`Probe.tcp("127.0.0.1", Process.port("backend"))\`.

**Editor support.** \`faultline schema\` prints the file's JSON Schema (draft 2020-12; this
repository keeps a copy in \`docs/experiment.schema.json\`). Save it next to your experiments
and put a modeline on the first line of each YAML file, so that editors using
yaml-language-server complete keys and flag mistakes as you type:

\`\`\`yaml
# yaml-language-server: $schema=./faultline.schema.json
\`\`\`

\`\`\`sh
npx faultline schema > faultline.schema.json
\`\`\`

The JSON Schema marks keys the format does not define as not allowed. The decoder itself
ignores an unknown key today, so a misspelt key is caught by the editor but not yet by
\`faultline run\` (see [limitations](limitations.md)).

**Conventions.**
- Durations are text: a number and a unit, e.g. \`"500 millis"\`, \`"2 seconds"\`, \`"1 minute"\`
  (units: nanos, micros, millis, seconds, minutes, hours, days, weeks).
- A \`target\` names exactly one of \`all\`, \`id\`, \`name\`, \`label\`, \`regex\`, optionally narrowed by
  \`count\`, \`percent\`, \`random\` (seeded) and \`cap\` (more targets than the cap is refused, not truncated).
- \`hypothesis\` names used by \`abort[].breach.hypothesis\` and \`stopwatches.rto.hypothesis\` must
  exist in the file.
- \`tolerance\` entries and \`guards\` are written with their \`_tag\`.
- A fault whose default is listed takes that value when the key is left out.

${renderSections(top, "##")}
${shared.join("\n")}
## Method steps

\`method\` is a list of steps, run in order. Each step is one of:

| step | meaning |
|---|---|
| \`inject: { fault: TAG, target: {...}, ...fields }\` | inject a fault (below); it is reverted when the run ends, in reverse order |
| \`sleep: ${typeText(sleep.properties.sleep, () => "object")}\` | wait (a duration) |

${renderSections(target, "##")}
# Faults by integration

Every fault is written \`{ fault: TAG, target: SELECTOR, ...fields }\` under \`inject:\`.

${faults}`
}

/** The JSON Schema file's text. */
export const renderSchema = (): string => JSON.stringify(jsonSchema(), null, 2) + "\n"

if (import.meta.main) {
  fs.mkdirSync(fileURLToPath(new URL("../docs/", import.meta.url)), { recursive: true })
  fs.writeFileSync(paths.markdown, render())
  fs.writeFileSync(paths.schema, renderSchema())
  process.stdout.write(`wrote ${paths.markdown}\nwrote ${paths.schema}\n`)
}
