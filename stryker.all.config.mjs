// @ts-check
/**
 * Mutation testing of all of src against every test, integration tests included (Docker,
 * moto, Toxiproxy, child processes must be present). Long; not in CI.
 * Run it with `npm run mutate -- --all`; see stryker.config.mjs.
 */
import { base } from "./stryker.config.mjs"

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  ...base,
  mutate: ["src/**/*.ts"],
  vitest: { configFile: "vitest.config.ts" },
  // The initial run of the whole suite takes minutes on a loaded machine.
  dryRunTimeoutMinutes: 30,
  timeoutFactor: 3,
  incrementalFile: "reports/stryker-incremental-all.json",
  jsonReporter: { fileName: "reports/mutation/all.json" },
  htmlReporter: { fileName: "reports/mutation/all.html" }
}
