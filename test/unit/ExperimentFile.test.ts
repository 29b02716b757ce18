import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as ExperimentFile from "../../src/ExperimentFile.ts"
import { Journal, Process, Target, Tolerance } from "../../src/index.ts"
import { runLayer } from "../../src/testing/index.ts"

const yamlText = `
name: api survives a worker kill
description: kill one worker, the api keeps answering
processes:
  - name: worker
    command: node
    args: ["-e", "setInterval(() => {}, 1000)"]
hypothesis:
  - name: api answers
    probe:
      http:
        url: http://127.0.0.1:8080/health
        timeout: 500 millis
        expect: [200, 204]
    every: 50 millis
    samples: 20
    tolerance:
      - _tag: SuccessRatio
        atLeast: 0.8
        confidence: 0.9
      - _tag: Latency
        percentile: 99
        maxMs: 250
  - name: queue ok
    probe:
      tcp: { host: 127.0.0.1, port: 5672 }
method:
  - inject:
      fault: process.kill
      target:
        name: [worker]
      signal: SIGTERM
  - sleep: 2 seconds
  - inject:
      fault: process.pause
      target:
        label: { key: role, value: cache }
        cap: 1
  - sleep: 500 millis
abort:
  - maxDuration: 30 seconds
  - breach:
      hypothesis: api answers
      below: 0.5
      over: 3 seconds
stopwatches:
  rto:
    hypothesis: api answers
    stableFor: 4
objectives:
  rto: 5 seconds
guards:
  - _tag: MaxTargets
    n: 2
`

const jsonText = JSON.stringify({
  name: "json experiment",
  hypothesis: [
    { name: "cmd ok", probe: { command: { command: "true", args: [], timeout: "1 second" } }, samples: 5 }
  ],
  method: [
    { inject: { fault: "process.kill", target: { name: ["svc"] } } },
    { sleep: "100 millis" }
  ],
  abort: [{ maxDuration: "1 minute" }, { breach: { hypothesis: "cmd ok", below: 0.9, over: "1 second" } }],
  stopwatches: { rto: { hypothesis: "cmd ok" } },
  objectives: { rto: "2 seconds" }
})

const decodeOk = (file: string, text: string) => ExperimentFile.decode(file, text)

// Decoding must fail with ExperimentFileInvalid naming the file; returns the problem text.
const problemOf = (file: string, text: string) =>
  Effect.gen(function*() {
    const e = yield* Effect.flip(ExperimentFile.decode(file, text))
    assert.strictEqual(e._tag, "ExperimentFileInvalid")
    assert.strictEqual(e.file, file)
    assert.include(e.message, file)
    return e.problem
  })

// A fake process driver: discovers fixed targets and records every call.
const fakeProcesses = (calls: Array<string>) =>
  Layer.succeed(
    Process.ProcessDriver,
    Process.ProcessDriver.of({
      name: "process",
      discover: () =>
        Effect.succeed([
          Target.make({ kind: "process", id: "11", name: "worker" }),
          Target.make({ kind: "process", id: "12", name: "cache", labels: { role: "cache" } }),
          Target.make({ kind: "process", id: "13", name: "svc" })
        ]),
      inject: (fault: any, target: Target.Target) =>
        Effect.sync(() => {
          calls.push(`inject ${fault._tag} ${target.name}${fault.signal ? ` ${fault.signal}` : ""}`)
          return { name: target.name }
        }),
      revert: (r: Journal.Revert) => Effect.sync(() => void calls.push(`revert ${r.fault} ${r.target.name}`))
    } as any)
  )

describe("ExperimentFile.decode: valid files", () => {
  it.effect("a YAML experiment decodes and becomes the experiment it describes", () =>
    Effect.gen(function*() {
      const f = yield* decodeOk("exp.yaml", yamlText)
      assert.strictEqual(f.name, "api survives a worker kill")
      assert.strictEqual(f.processes?.[0]?.name, "worker")
      const exp = ExperimentFile.toExperiment(f)
      assert.strictEqual(exp.name, "api survives a worker kill")
      assert.strictEqual(exp.description, "kill one worker, the api keeps answering")
      assert.deepStrictEqual(exp.hypotheses.map((h) => h.name), ["api answers", "queue ok"])
      const [api, queue] = exp.hypotheses
      assert.strictEqual(Duration.toMillis(api!.every), 50)
      assert.strictEqual(api!.samples, 20)
      assert.strictEqual(api!.probe.spec.kind, "http")
      assert.strictEqual(api!.probe.spec.params.url, "http://127.0.0.1:8080/health")
      assert.deepStrictEqual(api!.probe.spec.params.expect, [200, 204])
      assert.strictEqual(Duration.toMillis(api!.probe.timeout), 500)
      assert.deepStrictEqual(Tolerance.toJSON(api!.tolerance), {
        _tag: "All",
        of: [
          { _tag: "SuccessRatio", atLeast: 0.8, confidence: 0.9 },
          { _tag: "Latency", percentile: 99, maxMs: 250 }
        ]
      })
      // Defaults where the file is silent.
      assert.strictEqual(queue!.probe.spec.kind, "tcp")
      assert.strictEqual(queue!.samples, 40)
      assert.strictEqual(Duration.toMillis(queue!.every), 100)
      assert.strictEqual(Duration.toMillis(exp.objectives.rto!), 5000)
      // An RPO objective is refused in files (nothing there can measure it): see below.
      assert.isUndefined(exp.objectives.rpo)
      assert.strictEqual(exp.stopwatches.rto?.hypothesis.name, "api answers")
      assert.strictEqual(exp.stopwatches.rto?.stableFor, 4)
      assert.strictEqual(exp.abort.length, 2)
      assert.include(exp.abort[0]!.name, "maxDuration")
      assert.include(exp.abort[1]!.name, "api answers")
      assert.include(exp.abort[1]!.name, "0.5")
      assert.include(exp.abort[1]!.name, "3000 ms")
      assert.deepStrictEqual(exp.guards, [{ _tag: "MaxTargets", n: 2 }])
    }))

  it.effect("the method injects the file's faults in order, sleeps, and reverts in reverse", () =>
    Effect.gen(function*() {
      const calls: Array<string> = []
      const exp = ExperimentFile.toExperiment(yield* decodeOk("exp.yml", yamlText))
      const fiber = yield* Effect.forkChild(
        Effect.scoped(exp.method).pipe(Effect.provide(Layer.merge(fakeProcesses(calls), runLayer())))
      )
      yield* TestClock.adjust("1 second")
      // Still inside the first 2-second sleep: only the kill has happened.
      assert.deepStrictEqual(calls, ["inject process.kill worker SIGTERM"])
      yield* TestClock.adjust("1500 millis")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(calls, [
        "inject process.kill worker SIGTERM",
        "inject process.pause cache",
        "revert process.pause cache",
        "revert process.kill worker"
      ])
    }))

  it.effect("a JSON experiment decodes; process.kill defaults to SIGKILL", () =>
    Effect.gen(function*() {
      const f = yield* decodeOk("exp.json", jsonText)
      const exp = ExperimentFile.toExperiment(f)
      assert.strictEqual(exp.name, "json experiment")
      assert.deepStrictEqual(exp.hypotheses.map((h) => [h.name, h.samples, h.probe.spec.kind]), [["cmd ok", 5, "command"]])
      assert.strictEqual(Duration.toMillis(exp.hypotheses[0]!.probe.timeout), 1000)
      assert.strictEqual(Duration.toMillis(exp.objectives.rto!), 2000)
      assert.isUndefined(exp.objectives.rpo)
      assert.strictEqual(exp.stopwatches.rto?.hypothesis.name, "cmd ok")
      // No guards in the file: the engine's default blast-radius cap applies.
      assert.deepStrictEqual(exp.guards, [{ _tag: "MaxTargets", n: 10 }])
      const calls: Array<string> = []
      const fiber = yield* Effect.forkChild(
        Effect.scoped(exp.method).pipe(Effect.provide(Layer.merge(fakeProcesses(calls), runLayer())))
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(calls, ["inject process.kill svc SIGKILL", "revert process.kill svc"])
    }))

  it.effect("a .json file is parsed as JSON, anything else as YAML", () =>
    Effect.gen(function*() {
      // YAML is a superset of JSON, so JSON text decodes under a .yaml name too...
      yield* decodeOk("exp.yaml", jsonText)
      // ...but YAML text under a .json name is refused as JSON.
      const p = yield* problemOf("exp.json", yamlText)
      assert.include(p, "not valid JSON")
    }))

  it.effect("replaceDefaultGuards: the file says so explicitly, and only then are the defaults dropped", () =>
    Effect.gen(function*() {
      assert.isFalse(ExperimentFile.toExperiment(yield* decodeOk("exp.yaml", yamlText)).replaceDefaultGuards)
      const replaced = yield* decodeOk("exp.yaml", `${yamlText.trimEnd()}\nreplaceDefaultGuards: true\n`)
      assert.isTrue(ExperimentFile.toExperiment(replaced).replaceDefaultGuards)
      assert.include(yield* problemOf("exp.yaml", `${yamlText.trimEnd()}\nreplaceDefaultGuard: true\n`), "replaceDefaultGuards")
    }))
})

describe("ExperimentFile.decode: malformed files name the bad field", () => {
  const base = `name: x
hypothesis:
  - name: h
    probe:
      http: { url: "http://127.0.0.1:1/health" }
method:
  - inject:
      fault: process.kill
      target: { name: [a] }
`
  it.effect("an unknown signal", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", base + "      signal: SIGBOGUS\n")
      assert.include(p, `method[0].inject.signal`)
      assert.include(p, "SIGKILL")
    }))

  it.effect("a duration that is not a duration", () =>
    Effect.gen(function*() {
      const every = yield* problemOf("bad.yaml", base.replace(`health" }\n`, `health" }\n    every: 5 secs\n`))
      assert.include(every, `hypothesis[0].every`)
      assert.include(every, `"5 secs"`)
      const sleep = yield* problemOf("bad.yaml", base + "  - sleep: 5 secs\n")
      assert.include(sleep, `method[1].sleep`)
      const rto = yield* problemOf("bad.yaml", base + "objectives:\n  rto: 2s\n")
      assert.include(rto, `objectives.rto`)
      const timeout = yield* problemOf("bad.yaml", base.replace(`health" }`, `health", timeout: "fast" }`))
      assert.include(timeout, `hypothesis[0].probe.http.timeout`)
    }))

  it.effect("a target with two selector kinds, or none", () =>
    Effect.gen(function*() {
      const two = yield* problemOf("bad.yaml", base.replace("target: { name: [a] }", "target: { name: [a], label: { key: k, value: v } }"))
      assert.include(two, `method[0].inject.target`)
      assert.include(two, "exactly one")
      const none = yield* problemOf("bad.yaml", base.replace("target: { name: [a] }", "target: { count: 1 }"))
      assert.include(none, `method[0].inject.target`)
    }))

  it.effect("a missing name", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", base.replace("name: x\n", ""))
      assert.include(p, `at name`)
      assert.include(p.toLowerCase(), "missing")
    }))

  it.effect("an empty hypothesis list", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", "name: x\nhypothesis: []\nmethod: []\n")
      assert.include(p, `at hypothesis`)
    }))

  it.effect("an RPO objective, which no file can measure, is refused at load", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("rpo.yaml", yamlText.replace("  rto: 5 seconds\n", "  rto: 5 seconds\n  rpo: 250 millis\n"))
      assert.include(p, "at objectives.rpo")
      assert.include(p, "heartbeat writer")
    }))

  it.effect("an abort breach or RTO stopwatch naming an unknown hypothesis", () =>
    Effect.gen(function*() {
      const breach = yield* problemOf("bad.yaml", base + "abort:\n  - maxDuration: 1 minute\n  - breach: { hypothesis: nope, below: 0.5, over: 1 second }\n")
      assert.include(breach, `abort[1].breach.hypothesis`)
      assert.include(breach, "nope")
      const rto = yield* problemOf("bad.yaml", base + "stopwatches:\n  rto: { hypothesis: ghost }\n")
      assert.include(rto, `stopwatches.rto.hypothesis`)
      assert.include(rto, "ghost")
    }))

  it.effect("an unknown fault kind", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", base.replace("process.kill", "process.vaporise"))
      assert.include(p, `method[0].inject`)
      assert.include(p, "process.restart")
    }))

  it.effect("invalid YAML syntax", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", "name: x\nhypothesis: [\n  - oops: : :\n")
      assert.include(p, "not valid YAML")
    }))

  it.effect("invalid JSON syntax", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.json", `{"name": "x", "hypothesis": [}`)
      assert.include(p, "not valid JSON")
    }))

  it.effect("an empty file", () =>
    Effect.gen(function*() {
      yield* problemOf("empty.yaml", "")
    }))

  it.effect("load: a file that cannot be read", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(ExperimentFile.load("/nonexistent/dir/exp.yaml"))
      assert.strictEqual(e._tag, "ExperimentFileInvalid")
      assert.include(e.problem, "cannot read")
    }))

  // "Nothing is started or touched before the whole file decodes": an invalid regular
  // expression is a bad field like any other (it used to decode, and the run later died
  // with a SyntaxError thrown from Tolerance.judge / Selector.select).
  it.effect("an invalid regular expression in a tolerance", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", base.replace(`health" }\n`, `health" }\n    tolerance:\n      - { _tag: Regex, pattern: "(unclosed" }\n`))
      assert.include(p, `tolerance[0].pattern`)
    }))

  it.effect("an invalid regular expression in a target selector", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", base.replace("target: { name: [a] }", `target: { regex: "([a-" }`))
      assert.include(p, `inject.target.regex`)
    }))

  // `tolerance: []` makes the hypothesis vacuous: Tolerance.all() of nothing is met by any
  // window, including one where every probe failed; the file schema refuses it.
  it.effect("an empty tolerance list does not make a failing probe acceptable", () =>
    Effect.gen(function*() {
      const text = base.replace(`health" }\n`, `health" }\n    tolerance: []\n`)
      const decoded = yield* Effect.exit(ExperimentFile.decode("vacuous.yaml", text))
      if (decoded._tag === "Failure") return // refusing the file is also right
      const h = ExperimentFile.toExperiment(decoded.value).hypotheses[0]!
      const failing = Array.from({ length: 10 }, (_, i) => ({ at: i, mono: i, ok: false, latencyMs: 1, error: "refused" }))
      assert.isFalse(Tolerance.judge(h.tolerance, failing).met)
    }))
})

describe("ExperimentFile: network faults", () => {
  const file = (fault: string) => `
name: net
hypothesis:
  - name: up
    probe: { tcp: { host: 127.0.0.1, port: 1 } }
method:
  - inject: ${fault}
`
  it.effect("decodes every network fault into its tagged class", () =>
    Effect.gen(function*() {
      const faults = [
        "{ fault: network.latency, target: { name: [db] }, latency: 100, jitter: 10, stream: upstream, toxicity: 0.5 }",
        "{ fault: network.bandwidth, target: { name: [db] }, rate: 100 }",
        "{ fault: network.down, target: { name: [db] } }",
        "{ fault: network.timeout, target: { name: [db] }, timeout: 0 }",
        "{ fault: network.resetPeer, target: { name: [db] } }",
        "{ fault: network.slicer, target: { name: [db] }, averageSize: 64, delayMicros: 10 }",
        "{ fault: network.limitData, target: { name: [db] }, bytes: 1000, name: cut }"
      ]
      for (const f of faults) {
        const decoded = yield* ExperimentFile.decode("net.yaml", file(f))
        assert.strictEqual(decoded.method.length, 1)
        ExperimentFile.toExperiment(decoded)
      }
    }))

  it.effect("refuses bad network fault fields, naming the path", () =>
    Effect.gen(function*() {
      const e1 = yield* Effect.flip(ExperimentFile.decode("net.yaml", file("{ fault: network.latency, target: { name: [db] }, latency: -5 }")))
      assert.include(e1.problem, "latency")
      const e2 = yield* Effect.flip(ExperimentFile.decode("net.yaml", file("{ fault: network.latency, target: { name: [db] }, latency: 5, stream: sideways }")))
      assert.include(e2.problem, "stream")
      const e3 = yield* Effect.flip(ExperimentFile.decode("net.yaml", file("{ fault: network.bandwidth, target: { name: [db] } }")))
      assert.include(e3.problem, "rate")
    }))
})

describe("ExperimentFile.decode: ${NAME.port} in a probe names a declared process that captures its port", () => {
  const file = (probe: string, ready = `"listening on (\\\\d+)"`) =>
    `name: x
processes:
  - name: svc
    command: node
    args: ["server.js"]
    ready: ${ready}
hypothesis:
  - name: h
    probe:
${probe}
method: []
`
  it.effect("a declared process with a capturing ready pattern decodes, in an http URL and a tcp host/port", () =>
    Effect.gen(function*() {
      const http = yield* ExperimentFile.decode("ok.yaml", file(`      http: { url: "http://127.0.0.1:\${svc.port}/health" }`))
      assert.strictEqual(ExperimentFile.toExperiment(http).hypotheses[0]!.probe.name, "http GET http://127.0.0.1:${svc.port}/health")
      const tcp = yield* ExperimentFile.decode("ok.yaml", file(`      tcp: { host: 127.0.0.1, port: "\${svc.port}" }`))
      assert.strictEqual(ExperimentFile.toExperiment(tcp).hypotheses[0]!.probe.name, "tcp 127.0.0.1:${svc.port}")
    }))

  it.effect("a process that is not declared", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", file(`      http: { url: "http://127.0.0.1:\${backend.port}/health" }`))
      assert.include(p, `no process named "backend" at hypothesis[0].probe.http.url`)
      assert.include(p, "processes: svc")
    }))

  it.effect("a ready pattern without a capture group, or no ready pattern", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", file(`      http: { url: "http://127.0.0.1:\${svc.port}/" }`, "listening"))
      assert.include(p, "first capture group is the port")
    }))

  it.effect("a placeholder other than NAME.port, and a tcp port that is neither a number nor a placeholder", () =>
    Effect.gen(function*() {
      const p = yield* problemOf("bad.yaml", file(`      http: { url: "http://\${svc.host}:80/" }`))
      assert.include(p, "unknown placeholder ${svc.host} at hypothesis[0].probe.http.url")
      const q = yield* problemOf("bad.yaml", file(`      tcp: { host: 127.0.0.1, port: "80a" }`))
      assert.include(q, `got "80a" at hypothesis[0].probe.tcp.port`)
    }))
})
