/**
 * The worked example of docs/adding-a-target.md (examples/file-target/): its fault decodes
 * from file data through the integration, its driver injects and reverts on a real
 * directory, and its out-of-process reverter undoes a fault from the ledger record alone.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { Experiment, Fault, Hypothesis, Ledger, Probe, Selector } from "faultline"
import { FileHide, hide } from "../../examples/file-target/Faults.ts"
import { FileDriver } from "../../examples/file-target/FileDriver.ts"
import { integration } from "../../examples/file-target/Integration.ts"

const tmpDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-file-"))
  fs.writeFileSync(path.join(dir, "config.json"), "{}")
  fs.writeFileSync(path.join(dir, "other.txt"), "x")
  return dir
}

const present = (dir: string) =>
  Hypothesis.make("config present", {
    probe: Probe.make(
      "config.json exists",
      Effect.sync(() => fs.existsSync(path.join(dir, "config.json"))).pipe(
        Effect.flatMap((ok) => ok ? Effect.succeed("ok") : Effect.fail(new Error("missing")))
      )
    ),
    every: "10 millis",
    samples: 40
  })

describe("the file target of docs/adding-a-target.md", () => {
  it("is one value: its fault class decodes under its tag", () => {
    assert.strictEqual(integration.name, "file")
    const decoded = Schema.decodeUnknownSync(integration.faults[0] as unknown as Schema.Codec<FileHide>)({
      _tag: "file.hide",
      target: Selector.name("config.json"),
      dir: "/tmp"
    })
    assert.instanceOf(decoded, FileHide)
    assert.strictEqual(decoded.driver, FileDriver)
  })

  it.live("hides only the selected file during the method and brings it back after", () =>
    Effect.gen(function*() {
      const dir = tmpDir()
      const seen: Array<ReadonlyArray<string>> = []
      const result = yield* Experiment.run(Experiment.make({
        name: "hide config",
        hypothesis: present(dir),
        method: Effect.gen(function*() {
          yield* Fault.inject(hide({ target: Selector.name("config.json"), dir }))
          seen.push(fs.readdirSync(dir).sort())
        })
      }))
      assert.deepStrictEqual(seen, [[".config.json.hidden", "other.txt"]])
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["config.json", "other.txt"])
      assert.strictEqual(result.verdict.status, "passed", result.verdict.reason)
      const reverted = result.entries.filter((e) => e.event._tag === "FaultReverted")
      assert.strictEqual(reverted.length, 1)
      fs.rmSync(dir, { recursive: true, force: true })
    }).pipe(Effect.provide(Layer.mergeAll(FileDriver.layer, Ledger.layerMemory))))

  it.live("its reverter undoes the fault from the ledger record alone, and the run's own revert is then a no-op", () =>
    Effect.gen(function*() {
      const dir = tmpDir()
      const revertRecord = yield* integration.reverter
      const result = yield* Experiment.run(Experiment.make({
        name: "hide config, reverted as the watchdog would",
        hypothesis: present(dir),
        method: Effect.gen(function*() {
          yield* Fault.inject(hide({ target: Selector.name("config.json"), dir }))
          const open = yield* (yield* Ledger.Ledger).open
          assert.strictEqual(open.length, 1)
          assert.isFalse(fs.existsSync(path.join(dir, "config.json")))
          yield* revertRecord(open[0]!)
          assert.isTrue(fs.existsSync(path.join(dir, "config.json")))
        })
      }))
      assert.strictEqual(result.verdict.status, "passed", result.verdict.reason)
      assert.strictEqual(result.verdict.cleanup, "ok")
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["config.json", "other.txt"])
      fs.rmSync(dir, { recursive: true, force: true })
    }).pipe(Effect.provide(Layer.mergeAll(FileDriver.layer, Ledger.layerMemory))))
})
