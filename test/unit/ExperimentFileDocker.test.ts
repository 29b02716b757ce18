import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as ExperimentFile from "../../src/ExperimentFile.ts"

const file = (method: string, extra = "") => `
name: docker faults as data
hypothesis:
  - name: up
    probe: { tcp: { host: 127.0.0.1, port: 9 } }
method:
${method}
${extra}`

describe("ExperimentFile: docker faults", () => {
  it.effect("decodes every docker fault; the docker integration is named and irreversible carries over", () =>
    Effect.gen(function*() {
      const f = yield* ExperimentFile.decode(
        "x.yaml",
        file(
          [
            `  - inject: { fault: docker.kill, target: { label: { key: app, value: api } }, signal: SIGTERM }`,
            `  - inject: { fault: docker.stop, target: { name: [a] }, graceSeconds: 2 }`,
            `  - inject: { fault: docker.restart, target: { name: [a] } }`,
            `  - inject: { fault: docker.pause, target: { regex: "^api-", random: { n: 1, seed: 7 } } }`,
            `  - inject: { fault: docker.disconnect, target: { name: [a] }, network: backend }`,
            `  - inject: { fault: docker.partition, target: { name: [a] }, peers: [db] }`,
            `  - inject: { fault: docker.bandwidth, target: { name: [a] }, rate: 1mbit }`,
            `  - inject: { fault: docker.netem, target: { name: [a] }, delayMs: 100, lossPercent: 5 }`,
            `  - inject: { fault: docker.remove, target: { name: [a] } }`
          ].join("\n"),
          "irreversible: true"
        )
      )
      assert.deepStrictEqual(ExperimentFile.integrationsOf(f), ["docker"])
      const exp = ExperimentFile.toExperiment(f)
      assert.isTrue(exp.irreversible)
      assert.strictEqual(f.method.length, 9)
    }))

  it.effect("a bad docker field is named with its path", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(ExperimentFile.decode("x.yaml", file(`  - inject: { fault: docker.bandwidth, target: { name: [a] }, rate: "fast" }`)))
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String((exit as any).cause), /rate/)
    }))

  it.effect("a file without docker faults does not use docker; irreversible defaults to false", () =>
    Effect.gen(function*() {
      const f = yield* ExperimentFile.decode("x.yaml", file(`  - sleep: "1 second"`))
      assert.deepStrictEqual(ExperimentFile.integrationsOf(f), [])
      assert.isFalse(ExperimentFile.toExperiment(f).irreversible)
    }))
})
