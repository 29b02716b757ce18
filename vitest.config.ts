import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // Experiments and examples import "faultline"; in tests that is the source, not dist.
    alias: [
      { find: /^faultline$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
      { find: /^faultline\/testing$/, replacement: fileURLToPath(new URL("./src/testing/index.ts", import.meta.url)) },
      { find: /^faultline\/docker$/, replacement: fileURLToPath(new URL("./src/targets/docker/index.ts", import.meta.url)) },
      { find: /^faultline\/aws$/, replacement: fileURLToPath(new URL("./src/targets/aws/index.ts", import.meta.url)) },
      { find: /^faultline\/toxiproxy$/, replacement: fileURLToPath(new URL("./src/targets/toxiproxy/index.ts", import.meta.url)) },
      { find: /^faultline\/postgres$/, replacement: fileURLToPath(new URL("./src/targets/postgres/index.ts", import.meta.url)) }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
