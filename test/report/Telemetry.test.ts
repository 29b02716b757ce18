/**
 * Spans and metrics of a run through @effect/opentelemetry, exported to OpenTelemetry's
 * in-memory span exporter and read by a manual metric reader: a span per run, phase, fault
 * and drill step with the journal's times, and the samples, RTO and RPO metrics.
 */
import { MetricReader } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"
import { assert, describe, it } from "vitest"
import * as Otlp from "../../src/report/Otlp.ts"
import * as Telemetry from "../../src/report/Telemetry.ts"
import * as Synthetic from "../fixtures/syntheticJournal.ts"

class ManualReader extends MetricReader {
  protected override onForceFlush() {
    return Promise.resolve()
  }
  protected override onShutdown() {
    return Promise.resolve()
  }
}

const SPEC: Synthetic.Spec = {
  runId: "traced",
  durationMs: 6000,
  everyMs: 100,
  fault: { at: 2000, until: 5000 },
  outage: { from: 2200, to: 3000 },
  rpo: { everyMs: 100, lostFrom: 1800, lostTo: 2000 },
  steps: [{ id: "s1", name: "page the on-call", actor: "alice", from: 2100, to: 2600 }]
}
const toMs = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6

describe("traces and metrics (in-memory exporter)", () => {
  it("a span per run, phase, fault and step at the journal's times; samples, RTO and RPO metrics", async () => {
    const exporter = new InMemorySpanExporter()
    const reader = new ManualReader()
    const { entries } = Synthetic.entries(SPEC)
    // Read inside the layer: shutting the provider down clears the in-memory exporter.
    const { collected, spans } = await Effect.runPromise(
      Effect.gen(function*() {
        const listen = yield* Telemetry.listener()
        for (const e of entries) listen(e)
        return { collected: yield* Effect.promise(() => reader.collect()), spans: exporter.getFinishedSpans() }
      }).pipe(Effect.provide(Otlp.layer({ spanProcessor: new SimpleSpanProcessor(exporter), metricReader: reader })))
    )
    const byName = (n: string) => spans.find((s) => s.name === n)!
    const run = byName("faultline.run synthetic primary loss")
    assert.strictEqual(run.attributes["faultline.verdict"], "passed")
    assert.strictEqual(run.attributes["faultline.run_id"], "traced")
    const t0 = Synthetic.T0_WALL
    assert.closeTo(toMs(run.startTime) - t0, 0, 0.01)
    const fault = byName("faultline.fault process.kill")
    const at = (tag: string) => Synthetic.events(SPEC).find((e) => e.event._tag === tag)!.t
    assert.closeTo(toMs(fault.startTime) - t0, at("FaultInjecting"), 0.01)
    assert.closeTo(toMs(fault.endTime) - t0, at("FaultReverted"), 0.01)
    assert.strictEqual(fault.attributes["faultline.target"], "process kv-primary")
    const step = byName("faultline.step page the on-call")
    assert.strictEqual(step.attributes["faultline.actor"], "alice")
    assert.closeTo(toMs(step.endTime) - toMs(step.startTime), 500, 0.01)
    for (const p of ["before", "during", "after"]) assert.isDefined(byName(`faultline.phase ${p}`), p)
    // Every span of the run is in the run's trace, under it.
    const traceId = run.spanContext().traceId
    assert.isTrue(spans.every((s) => s.spanContext().traceId === traceId))
    assert.strictEqual(fault.parentSpanContext?.spanId, byName("faultline.phase during").spanContext().spanId)

    const metrics = collected.resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
    const metric = (n: string) => metrics.find((m) => m.descriptor.name === n)
    const samples = metric("faultline.samples")!
    const bad = samples.dataPoints.filter((d) => d.attributes.outcome === "bad").reduce((a, d) => a + (d.value as number), 0)
    assert.strictEqual(bad, 8)
    assert.isAbove(metric("faultline.rto_ms")!.dataPoints[0]!.value as number, 800)
    assert.strictEqual(metric("faultline.rpo_ms")!.dataPoints[0]!.value, 200)
    assert.strictEqual(metric("faultline.rpo_lost_writes")!.dataPoints[0]!.value, 2)
    assert.strictEqual(metric("faultline.rto_objective_ms")!.dataPoints[0]!.value, 2000)
  })

  it("an aborted run's span ends in error with its verdict", async () => {
    const exporter = new InMemorySpanExporter()
    const spans = await Effect.runPromise(
      Effect.gen(function*() {
        const listen = yield* Telemetry.listener()
        for (const e of Synthetic.entries({ ...SPEC, abortAt: 4000 }).entries) listen(e)
        return exporter.getFinishedSpans()
      }).pipe(Effect.provide(Otlp.layer({ spanProcessor: new SimpleSpanProcessor(exporter) })))
    )
    const run = spans.find((s) => s.name.startsWith("faultline.run"))!
    assert.strictEqual(run.attributes["faultline.verdict"], "aborted")
    assert.strictEqual(run.status.code, 2)
  })
})

describe("OTLP export when configured (faultline run, a local OTLP/HTTP receiver)", () => {
  it("OTEL_EXPORTER_OTLP_ENDPOINT set: the run's spans and metrics are posted to it", async () => {
    const { createServer } = await import("node:http")
    const { spawn } = await import("node:child_process")
    const fs = await import("node:fs")
    const os = await import("node:os")
    const path = await import("node:path")
    const got: Array<{ url: string; body: string }> = []
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        got.push({ url: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    const port = (server.address() as { port: number }).port
    const root = path.resolve(import.meta.dirname, "../..")
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-otlp-"))
    try {
      const child = spawn(
        path.join(root, "node_modules/.bin/node"),
        [path.join(root, "bin/faultline.js"), "run", "test/fixtures/kill-one.yaml", "--out", out],
        {
          cwd: root,
          env: {
            ...process.env,
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
            OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
            OTEL_SERVICE_NAME: "faultline-test"
          },
          stdio: ["ignore", "pipe", "pipe"]
        }
      )
      let stderr = ""
      child.stderr.on("data", (c: Buffer) => stderr += c.toString())
      const code = await new Promise<number | null>((r) => child.on("exit", r))
      assert.strictEqual(code, 0, stderr)
      const traces = got.filter((g) => g.url === "/v1/traces").map((g) => g.body).join("\n")
      assert.include(traces, "faultline.run kill one process")
      assert.include(traces, "faultline.fault process.kill")
      assert.include(traces, "faultline-test")
      const metricsBody = got.filter((g) => g.url === "/v1/metrics").map((g) => g.body).join("\n")
      assert.include(metricsBody, "faultline.samples")
    } finally {
      server.close()
      fs.rmSync(out, { recursive: true, force: true })
    }
  }, 90_000)
})
