/**
 * OpenTelemetry for faultline runs, through `@effect/opentelemetry`: a layer that installs
 * OpenTelemetry's tracer and meter (so `Telemetry.listener`'s spans and metrics reach them)
 * and exports over OTLP/HTTP when the standard environment variables configure it. Loaded only
 * when tracing is configured: its packages are optional peers (see docs/tracing.md).
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type * as Layer from "effect/Layer"
import * as Environment from "../core/Environment.ts"

/**
 * Whether the environment asks for OTLP export: `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set (and `OTEL_SDK_DISABLED` not `true`).
 *
 * @since 0.1.0
 */
export const configured = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.OTEL_SDK_DISABLED !== "true" && Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)

/**
 * The OpenTelemetry layer with the given span processor(s) and metric reader(s) — in tests, an
 * in-memory exporter.
 *
 * @since 0.1.0
 */
export const layer = (options: {
  readonly spanProcessor: SpanProcessor | ReadonlyArray<SpanProcessor>
  readonly metricReader?: MetricReader | ReadonlyArray<MetricReader> | undefined
  readonly serviceName?: string | undefined
}): Layer.Layer<never> =>
  NodeSdk.layer(() => ({
    resource: { serviceName: options.serviceName ?? "faultline", serviceVersion: Environment.current().faultline },
    spanProcessor: options.spanProcessor,
    ...(options.metricReader ? { metricReader: options.metricReader } : {})
  })) as Layer.Layer<never>

/**
 * The OTLP/HTTP exporters, configured by the standard `OTEL_EXPORTER_OTLP_*` variables
 * (endpoint, headers, timeout); spans batched, metrics exported every 10 s and at shutdown.
 *
 * @since 0.1.0
 */
export const layerOtlp = (env: NodeJS.ProcessEnv = process.env): Layer.Layer<never> =>
  layer({
    serviceName: env.OTEL_SERVICE_NAME,
    spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()),
    metricReader: new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 10_000 })
  })
