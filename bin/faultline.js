#!/usr/bin/env node
// `faultline --version` answers without loading the CLI (and Effect) at all.
const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  const { readFileSync } = await import("node:fs")
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
  process.stdout.write(`faultline v${version}\n`)
} else {
  await import("../dist/src/cli/main.js")
}
