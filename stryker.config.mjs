// @ts-check
/**
 * Mutation testing of src/core against the fast tests (StrykerJS).
 *
 * Run it with `npm run mutate` (bench/mutate.ts): it runs Stryker with this file, lists the
 * survivors as file:line, and writes the score to bench/results.json. `npm run mutate -- --all`
 * uses stryker.all.config.mjs instead (all of src, every test; long, not in CI).
 * Reports land in reports/mutation/ (html and json); re-runs are incremental, `-- --force` redoes all.
 *
 * Mutants the TypeScript checker rejects count as compile errors, not in the score. Types and
 * JSDoc are never mutated. An equivalent mutant is excluded in the source with
 * `// Stryker disable next-line <mutator>: <why it cannot be killed>`.
 */
import { fileURLToPath } from "node:url"

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export const base = {
  packageManager: "npm",
  testRunner: "vitest",
  coverageAnalysis: "perTest",
  // The machine is shared: two test runners at most.
  concurrency: 2,
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.build.json",
  // TypeScript 7's native compiler checks a mutant in a fraction of the time TypeScript 5 takes.
  typescriptChecker: { prioritizePerformanceOverAccuracy: true, experimentalNativePreview: true },
  // Stryker needs both TypeScript 5 and 7 under names the project does not use (see bench/typescript5.mjs).
  checkerNodeArgs: ["--import", fileURLToPath(new URL("./bench/typescript5.mjs", import.meta.url))],
  incremental: true,
  reporters: ["progress", "clear-text", "json", "html"],
  // bench/mutate.ts prints the survivors as one line each; the diffs are in the html report.
  clearTextReporter: { reportMutants: false, reportTests: false },
  thresholds: { high: 85, low: 70, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true
}

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  ...base,
  mutate: ["src/core/**/*.ts"],
  // Only src/core and its imports are type-checked: a mutant that breaks a type elsewhere in src
  // is still tested, by behaviour.
  tsconfigFile: "tsconfig.mutate.json",
  // Mutants in code run once at import (Schema definitions, service keys, module constants) need
  // a fresh import of every test file each: ~13 % of the mutants for ~40 % of the time.
  ignoreStatic: true,
  vitest: { configFile: "vitest.unit.config.ts" },
  incrementalFile: "reports/stryker-incremental-core.json",
  jsonReporter: { fileName: "reports/mutation/core.json" },
  htmlReporter: { fileName: "reports/mutation/core.html" }
}
