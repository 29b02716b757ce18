import { defineConfig } from "vitest/config"
import base from "./vitest.config.ts"

/**
 * The fast tests only: nothing here needs Docker, AWS (moto), Toxiproxy or a child process.
 * Used by `npm run mutate` (Stryker runs them once per mutant), and handy on its own:
 * `npx vitest run -c vitest.unit.config.ts`.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    // One worker reused across files and runs: Stryker runs these tests once per mutant, and
    // importing effect again for every file and run would cost more than the tests themselves.
    isolate: false,
    include: ["test/unit/**/*.test.ts", "test/core/**/*.test.ts", "test/report/**/*.test.ts", "test/probes/**/*.test.ts"]
  }
})
