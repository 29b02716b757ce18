import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Experiment, Fault, Hypothesis, Probe, Process, Selector, Stopwatch } from "../../../src/index.ts"

// Real child processes: these tests use the live clock (it.live / layer) on purpose.
const TestLayer = Process.ProcessDriver.layer.pipe(Layer.provideMerge(NodeServices.layer))

const server = (name: string) => ({
  name,
  command: process.execPath,
  args: [
    "-e",
    "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log('LISTENING '+this.address().port)})"
  ],
  ready: "LISTENING (\\d+)",
  labels: { role: name }
})

// Pids of live processes (not zombies) whose command line holds `marker`, read from /proc:
// what the OS says, not what the driver remembers.
const livePidsWith = (marker: string) => {
  const pids: Array<number> = []
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8")
      if (!cmdline.split("\0").includes(marker)) continue
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
      if (state !== "Z" && state !== "X") pids.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return pids
}

const pidOf = (name: string) =>
  Effect.gen(function*() {
    const d = yield* Process.ProcessDriver
    return (yield* d.get(name)).pid
  })

describe("ProcessDriver (real processes)", () => {
  layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("start waits for the ready line and keeps its capture", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const p = yield* d.start(server("web-1"))
        assert.match(p.readyMatch ?? "", /^\d+$/)
        assert.isTrue(Process.isAlive(p.pid))
        const res = yield* Probe.request(`http://127.0.0.1:${p.readyMatch}/`)
        assert.strictEqual(res.body, "ok")
        yield* d.stop("web-1")
        assert.isFalse(Process.isAlive(p.pid))
      }))

    it.effect("Process.url and Process.port follow a process restarted on another port", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const first = yield* d.start(server("moving"))
        const http = Probe.http(Process.url("http://127.0.0.1:${moving.port}/"), { timeout: "1 second" })
        const tcp = Probe.tcp("127.0.0.1", Process.port("moving"), { timeout: "1 second" })
        assert.strictEqual(http.spec.params.url, "http://127.0.0.1:${moving.port}/")
        assert.isTrue((yield* Probe.sample(http)).ok)
        assert.isTrue((yield* Probe.sample(tcp)).ok)
        // Started again (what the revert of process.kill does): the OS picks another port.
        yield* d.stop("moving")
        const second = yield* d.start(server("moving"))
        assert.notStrictEqual(second.readyMatch, first.readyMatch)
        // A probe fixed to the old port now fails; the ones that name the process follow it.
        assert.isFalse((yield* Probe.sample(Probe.http(`http://127.0.0.1:${first.readyMatch}/`, { timeout: "1 second" }))).ok)
        const after = yield* Probe.sample(http)
        assert.isTrue(after.ok, after.error)
        assert.isTrue((yield* Probe.sample(tcp)).ok)
        yield* d.stop("moving")
        // A process the driver does not know is a bad sample, not a failure.
        const unknown = yield* Probe.sample(Probe.http(Process.url("http://127.0.0.1:${nobody.port}/")))
        assert.isFalse(unknown.ok)
        assert.include(unknown.error, "nobody")
      }))

    it.effect("start fails with NotReady when the process exits before it is ready", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const err = yield* Effect.flip(d.start({ name: "dies", command: process.execPath, args: ["-e", "process.exit(3)"], ready: "NEVER" }))
        assert.strictEqual(err.reason, "NotReady")
        assert.include(err.detail, "exited")
      }))

    it.effect("start fails with NotReady on a ready timeout, and does not leave the process behind", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        // An argument only this test's process carries, to find it in /proc.
        const marker = `faultline-test-silent-${process.pid}-${Date.now()}`
        const spawned = Effect.sync(() => livePidsWith(marker))
        const err = yield* Effect.flip(d.start({
          name: "silent",
          command: process.execPath,
          args: ["-e", "setInterval(()=>{},1000)", marker],
          ready: "NEVER",
          readyTimeoutMs: 300
        }))
        assert.strictEqual(err.reason, "NotReady")
        const procs = yield* d.list
        assert.isFalse(procs.some((p) => p.name === "silent"))
        // The OS has no such process left. A bounded poll, not a fixed sleep: SIGTERM and the
        // exit of another OS process take their own time (the driver escalates to SIGKILL
        // after 2 s), so wait up to 5 s for the condition and fail if it never holds.
        let left = yield* spawned
        for (let i = 0; i < 100 && left.length > 0; i++) {
          yield* Effect.sleep("50 millis")
          left = yield* spawned
        }
        assert.deepStrictEqual(left, [], `processes with ${marker} outlived the failed start`)
      }))

    it.effect("process.kill kills; its revert restarts it once; a second revert is a no-op", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const p = yield* d.start(server("web-2"))
        const [target] = yield* d.discover(Process.kill({ target: Selector.name("web-2") })).pipe(
          Effect.map((ts) => ts.filter((t) => t.name === "web-2"))
        )
        const data = yield* d.inject(Process.kill({ target: Selector.name("web-2"), signal: "SIGKILL" }), target!)
        assert.isFalse(Process.isAlive(p.pid))
        assert.strictEqual(data.died, true)
        const revert = { driver: "process", fault: "process.kill", target: target!, data }
        yield* d.revert(revert)
        const pid2 = yield* pidOf("web-2")
        assert.notStrictEqual(pid2, p.pid)
        assert.isTrue(Process.isAlive(pid2))
        yield* d.revert(revert)
        assert.strictEqual(yield* pidOf("web-2"), pid2)
        yield* d.stop("web-2")
      }))

    it.effect("process.pause stops the process (state T); revert resumes it; reverting again, or after it is gone, is harmless", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const p = yield* d.start(server("web-3"))
        const target = (yield* d.discover(null)).find((t) => t.name === "web-3")!
        const data = yield* d.inject(Process.pause({ target: Selector.name("web-3") }), target)
        assert.isTrue(Process.isStopped(p.pid))
        // A paused server does not answer.
        const timedOut = yield* Probe.request(`http://127.0.0.1:${p.readyMatch}/`, { timeout: "200 millis" }).pipe(Effect.flip)
        assert.include(timedOut.message, "timed out")
        const revert = { driver: "process", fault: "process.pause", target, data }
        yield* d.revert(revert)
        assert.isFalse(Process.isStopped(p.pid))
        const res = yield* Probe.request(`http://127.0.0.1:${p.readyMatch}/`)
        assert.strictEqual(res.body, "ok")
        yield* d.revert(revert)
        yield* d.stop("web-3")
        yield* d.revert(revert)
      }))

    it.effect("process.restart gives a new pid", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const p = yield* d.start(server("web-4"))
        const target = (yield* d.discover(null)).find((t) => t.name === "web-4")!
        const data = yield* d.inject(Process.restart({ target: Selector.name("web-4") }), target)
        assert.notStrictEqual(data.pid, p.pid)
        assert.isFalse(Process.isAlive(p.pid))
        assert.isTrue(Process.isAlive(data.pid as number))
        yield* d.stop("web-4")
      }))

    it.effect("an adopted process can be signalled; killing it cannot be undone, and revert says nothing is left to do", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const child = yield* Effect.sync(() => spawn(process.execPath, ["-e", "setInterval(()=>{},1000)"], { stdio: "ignore" }))
        yield* d.adopt({ name: "external", pid: child.pid! })
        const target = (yield* d.discover(null)).find((t) => t.name === "external")!
        const data = yield* d.inject(Process.kill({ target: Selector.name("external"), signal: "SIGTERM" }), target)
        assert.strictEqual(data.died, true)
        yield* d.revert({ driver: "process", fault: "process.kill", target, data })
        assert.isFalse(Process.isAlive(child.pid!))
      }))

    it.effect("an experiment that kills a process passes and leaves it running again", () =>
      Effect.gen(function*() {
        const d = yield* Process.ProcessDriver
        const p = yield* d.start(server("web-5"))
        // The revert restarts web-5 on a new port, so "after" probes the new one.
        const url = () => Effect.map(Effect.flatMap(Process.ProcessDriver, (dd) => dd.get("web-5")), (x) => `http://127.0.0.1:${x.readyMatch}/`)
        const up = Hypothesis.make("web-5 up", {
          probe: Probe.make("web-5 http", Effect.flatMap(url(), (u) => Probe.request(u, { timeout: "200 millis" }))),
          every: "10 millis",
          samples: 40,
          // The kill takes web-5 down until the revert: observed during the method, not judged.
          during: "observe"
        })
        const exp = Experiment.make({
          name: "kill web-5",
          hypothesis: up,
          method: Effect.andThen(Fault.inject(Process.kill({ target: Selector.name("web-5") })), Effect.sleep("100 millis")),
          stopwatches: { rto: Stopwatch.rto(up) }
        })
        const r = yield* Experiment.run(exp)
        assert.strictEqual(r.verdict.status, "passed", r.verdict.reason)
        const rto = Stopwatch.computeRto(r.entries)!
        assert.isTrue(rto.outageObserved)
        assert.isNotNull(rto.measuredMs)
        assert.strictEqual(r.verdict.cleanup, "ok")
        const pid = yield* pidOf("web-5")
        assert.notStrictEqual(pid, p.pid)
        assert.isTrue(Process.isAlive(pid))
        yield* d.stop("web-5")
      }))
  })
})
