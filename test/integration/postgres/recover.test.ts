/**
 * A cluster whose owner was SIGKILLed (a test runner killed mid-test) is found and removed
 * by `faultline recover`: its servers stopped, its folder deleted. While its owner lives,
 * recover leaves it alone.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, it } from "vitest"
import { describeWith } from "../require.ts"
import { pgMissing } from "./fixture.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const node = path.join(root, "node_modules", ".bin", "node")
const dirs: Array<string> = []
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1")
    s.once("connect", () => {
      s.destroy()
      resolve(false)
    })
    s.once("error", () => resolve(true))
  })

const recover = (args: ReadonlyArray<string>) => {
  const ledger = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-pg-ledger-"))
  fs.chmodSync(ledger, 0o700)
  dirs.push(ledger)
  return spawnSync(node, [path.join(root, "src/cli/main.ts"), "recover", "--ledger", ledger, ...args], { encoding: "utf8", timeout: 90_000 })
}

describeWith("PostgreSQL leftovers after the runner is killed", pgMissing(), () => {
  it("faultline recover stops and deletes a cluster whose owner was SIGKILLed (and not while it lives)", { timeout: 120_000 }, async () => {
    const runId = `pgorphan-${process.pid}-${Date.now()}`
    const child = spawn(node, [path.join(root, "test/fixtures/pg-cluster-owner.ts"), runId], { stdio: ["ignore", "pipe", "inherit"] })
    const ready = await new Promise<string>((resolve, reject) => {
      let out = ""
      child.stdout!.on("data", (d) => {
        out += String(d)
        const m = /READY (\S+) (\d+) (\d+)/.exec(out)
        if (m) resolve(m[0])
      })
      child.once("exit", (code) => reject(new Error(`owner exited ${code}`)))
    })
    const [, session, p1, p2] = ready.split(" ")
    assert.isTrue(fs.existsSync(path.join(session!, "cluster.json")))

    const alive = recover(["--run", runId])
    assert.match(alive.stdout, /skipped\s+postgres cluster orphan .*owner .* is alive/, alive.stdout + alive.stderr)
    assert.isFalse(await refused(Number(p1)))

    child.kill("SIGKILL")
    await new Promise((r) => child.once("exit", r))
    // The servers outlive their owner: that is what recover is for.
    assert.isFalse(await refused(Number(p1)), "the primary still runs after its owner died")
    const r = recover(["--run", runId])
    assert.strictEqual(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /removed\s+postgres cluster orphan \(pg1:\d+, pg2:\d+\)/)
    assert.isTrue(await refused(Number(p1)))
    assert.isTrue(await refused(Number(p2)))
    assert.isFalse(fs.existsSync(session!))
    const again = recover(["--run", runId])
    assert.notMatch(again.stdout, /postgres cluster orphan/)
  })
})
