/**
 * Experiment files, field by field: every field a file gives a fault arrives on the fault
 * instance with its value. Through the path the CLI takes (decode, toExperiment, a dry run),
 * with recording test drivers that keep the fault instances they are handed; the journal's
 * `FaultPlanned.spec` is checked as well. Values differ from the defaults, so a field lost
 * on the way shows.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as YAML from "yaml"
import * as ExperimentFile from "../../src/ExperimentFile.ts"
import { Experiment, Selector, Target } from "../../src/index.ts"
import { ALLOW_LABEL, DockerDriver } from "../../src/targets/docker/index.ts"
import { ProcessDriver } from "../../src/targets/process/index.ts"
import { ToxiproxyDriver } from "../../src/targets/toxiproxy/index.ts"

// One entry per fault kind the file format accepts, each optional field set to a value
// other than its default.
const faults: ReadonlyArray<Record<string, unknown>> = [
  { fault: "process.kill", signal: "SIGTERM" },
  { fault: "process.pause" },
  { fault: "process.restart" },
  { fault: "docker.kill", signal: "SIGTERM" },
  { fault: "docker.stop", graceSeconds: 3 },
  { fault: "docker.restart", graceSeconds: 4 },
  { fault: "docker.pause" },
  { fault: "docker.disconnect", network: "backend" },
  { fault: "docker.partition", peers: ["db", "cache"] },
  { fault: "docker.bandwidth", rate: "1mbit", burst: "32kb", latencyMs: 50, device: "eth1" },
  { fault: "docker.netem", delayMs: 100, jitterMs: 10, lossPercent: 5, duplicatePercent: 1, corruptPercent: 2, device: "eth0" },
  { fault: "docker.remove", volumes: true },
  { fault: "network.latency", stream: "upstream", toxicity: 0.5, name: "lat", latency: 100, jitter: 7 },
  { fault: "network.bandwidth", stream: "upstream", toxicity: 0.25, name: "bw", rate: 64 },
  { fault: "network.down" },
  { fault: "network.timeout", stream: "upstream", toxicity: 0.75, name: "to", timeout: 500 },
  { fault: "network.resetPeer", stream: "upstream", toxicity: 0.4, name: "rp", timeout: 30 },
  { fault: "network.slicer", stream: "upstream", toxicity: 0.6, name: "sl", averageSize: 16, sizeVariation: 4, delayMicros: 200 },
  { fault: "network.limitData", stream: "upstream", toxicity: 0.9, name: "ld", bytes: 1024 }
]

const fileObject = (list: ReadonlyArray<Record<string, unknown>>) => ({
  name: "every fault, every field",
  hypothesis: [{ name: "up", probe: { tcp: { host: "127.0.0.1", port: 9 } } }],
  method: list.map((f) => ({ inject: { ...f, target: { name: ["a"] } } })),
  irreversible: true
})

// Recording test drivers: one target each ("a", allowed by the Docker guard), and every
// fault instance they are asked about kept in order.
const recordingTestDrivers = (seen: Array<any>) => {
  const driver = (kind: string) => ({
    name: kind,
    discover: (fault: unknown) =>
      Effect.sync(() => {
        seen.push(fault)
        return [Target.make({ kind, id: "1", name: "a", labels: { [ALLOW_LABEL]: "true" } })]
      }),
    inject: () => Effect.die("a dry run injects nothing"),
    revert: () => Effect.die("a dry run reverts nothing")
  })
  return Layer.mergeAll(
    Layer.succeed(ProcessDriver, driver("process") as any),
    Layer.succeed(DockerDriver, driver("docker") as any),
    Layer.succeed(ToxiproxyDriver, driver("toxiproxy") as any)
  )
}

const planFile = (file: string, text: string) =>
  Effect.gen(function*() {
    const decoded = yield* ExperimentFile.decode(file, text)
    const exp = ExperimentFile.toExperiment(decoded)
    const seen: Array<any> = []
    const r = yield* Experiment.run(exp, { dryRun: true }).pipe(Effect.provide(recordingTestDrivers(seen)))
    const specs = r.entries.flatMap((e) => e.event._tag === "FaultPlanned" ? [e.event.spec as Record<string, unknown>] : [])
    return { r, seen, specs }
  })

const assertFields = (label: string, got: Record<string, unknown>, want: Record<string, unknown>) => {
  assert.strictEqual(got._tag, want.fault, `${label}: kind`)
  for (const [k, v] of Object.entries(want)) {
    if (k === "fault") continue
    assert.deepStrictEqual(got[k], v, `${label} ${String(want.fault)}.${k}`)
  }
  assert.deepStrictEqual(Selector.describe(got.target as Selector.Selector), Selector.describe(Selector.name("a")), `${label} ${String(want.fault)}.target`)
}

describe("ExperimentFile: every field of every fault reaches the fault", () => {
  for (
    const [file, text] of [
      ["every.yaml", YAML.stringify(fileObject(faults))],
      ["every.json", JSON.stringify(fileObject(faults), null, 2)]
    ] as const
  ) {
    it.effect(`${file}: fault instances and planned specs carry the file's values`, () =>
      Effect.gen(function*() {
        const { r, seen, specs } = yield* planFile(file, text)
        assert.strictEqual(r.verdict.status, "planned", r.verdict.reason)
        assert.deepStrictEqual(seen.map((f) => f._tag), faults.map((f) => f.fault))
        assert.deepStrictEqual(specs.map((s) => s._tag), faults.map((f) => f.fault))
        faults.forEach((want, i) => {
          assertFields("instance", seen[i], want)
          assertFields("journal spec", specs[i]!, want)
        })
      }))
  }

  it.effect("the same faults in YAML's own flow syntax (as people write it) keep stream and signal", () =>
    Effect.gen(function*() {
      const text = `
name: written by hand
hypothesis:
  - name: up
    probe: { tcp: { host: 127.0.0.1, port: 9 } }
method:
  - inject: { fault: docker.kill, target: { name: [a] }, signal: SIGHUP }
  - inject: { fault: network.latency, target: { name: [a] }, stream: upstream, latency: 250 }
  - inject: { fault: network.limitData, target: { name: [a] }, stream: upstream, bytes: 10 }
`
      const { seen } = yield* planFile("hand.yaml", text)
      assert.deepStrictEqual(seen.map((f) => [f._tag, f.signal ?? f.stream]), [
        ["docker.kill", "SIGHUP"],
        ["network.latency", "upstream"],
        ["network.limitData", "upstream"]
      ])
    }))
})
