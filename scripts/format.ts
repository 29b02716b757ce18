/**
 * The project's formatter: dprint's TypeScript and JSON plugins (WebAssembly, from npm) with
 * the settings in dprint.json. `npm run format` rewrites files; `npm run format:check` lists
 * the files that differ and exits 1. Runs with Node 24 (types stripped).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { createFromBuffer } from "@dprint/formatter"
import * as json from "@dprint/json"
import * as typescript from "@dprint/typescript"

const root = fileURLToPath(new URL("..", import.meta.url))
const config = JSON.parse(fs.readFileSync(path.join(root, "dprint.json"), "utf8"))
const global = { indentWidth: config.indentWidth, lineWidth: config.lineWidth }

const plugin = (wasm: string, settings: Record<string, unknown>) => {
  const f = createFromBuffer(fs.readFileSync(wasm))
  f.setConfig(global, settings)
  return f
}
const ts = plugin(typescript.getPath(), config.typescript ?? {})
const js = plugin(json.getPath(), config.json ?? {})

// The tracked files the configuration includes.
const included = (file: string) => /^(src|test|bench|examples|experiments|scripts)\/.*\.ts$/.test(file) || /^[^/]+\.json$/.test(file)
const excluded = (file: string) => file === "package-lock.json" || file.startsWith("node_modules/")
const files = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" }).split("\n").filter((f) => f !== "" && included(f) && !excluded(f))

const write = process.argv.includes("--write")
const differ: Array<string> = []
for (const file of files) {
  const full = path.join(root, file)
  const text = fs.readFileSync(full, "utf8")
  const formatted = (file.endsWith(".json") ? js : ts).formatText({ filePath: full, fileText: text })
  if (formatted === text) continue
  differ.push(file)
  if (write) fs.writeFileSync(full, formatted)
}
process.stdout.write(
  `${write ? "formatted" : "not formatted"}: ${differ.length} of ${files.length} files\n${differ.map((f) => `  ${f}`).join("\n")}${differ.length ? "\n" : ""}`
)
if (!write && differ.length > 0) process.exitCode = 1
