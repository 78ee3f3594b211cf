import { metrics, trace, type Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { expect } from 'vitest';

// The OpenTelemetry SDK as an application registers it, exporting to memory: what the receiver
// records is read back exactly as an OTLP exporter would be handed it.

export interface Tracing {
  /** Every span ended since the last reset, in the order they ended. */
  spans(): ReadableSpan[];
  /** The ended spans called `name`. */
  named(name: string): ReadableSpan[];
  /** The one ended span called `name` (asserted to be the only one). */
  only(name: string): ReadableSpan;
  reset(): void;
  shutdown(): Promise<void>;
}

/** The Node SDK's tracer provider, registered globally with its AsyncLocalStorage context manager and the W3C propagator. */
export function registerTracing(): Tracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  const named = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name);
  return {
    spans: () => exporter.getFinishedSpans(),
    named,
    only: (name) => {
      const spans = named(name);
      expect(spans, `one ${name} span`).toHaveLength(1);
      return spans[0]!;
    },
    reset: () => exporter.reset(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
    },
  };
}

/** Is `child` a child of `parent`, in the same trace? */
export const isChildOf = (child: ReadableSpan, parent: ReadableSpan): boolean =>
  child.parentSpanContext?.spanId === parent.spanContext().spanId && child.spanContext().traceId === parent.spanContext().traceId;

export interface Metrics {
  /** The data recorded since the last call (delta temporality), by instrument name. */
  collect(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function registerMetrics(): Metrics {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  // Exports only when asked to (forceFlush), never on its own timer during a test.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  return {
    collect: async () => {
      await reader.forceFlush();
      const byName = new Map<string, MetricData>();
      for (const resource of exporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      }
      exporter.reset();
      return byName;
    },
    shutdown: async () => {
      await provider.shutdown();
      metrics.disable();
    },
  };
}

/** A counter's data points as `{ attributes, value }`, sorted for comparison. */
export function sumPoints(metric: MetricData | undefined): { attributes: Attributes; value: number }[] {
  if (metric === undefined) return [];
  if (metric.dataPointType !== DataPointType.SUM) throw new Error(`${metric.descriptor.name} is not a sum`);
  return metric.dataPoints
    .map((point: DataPoint<number>) => ({ attributes: point.attributes, value: point.value }))
    .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
}

export function histogramPoints(metric: MetricData | undefined): { attributes: Attributes; value: Histogram }[] {
  if (metric === undefined) return [];
  if (metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${metric.descriptor.name} is not a histogram`);
  return metric.dataPoints.map((point: DataPoint<Histogram>) => ({ attributes: point.attributes, value: point.value }));
}

export type { ReadableSpan };
