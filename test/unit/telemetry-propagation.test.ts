import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload } from 'aicommerce-webhooks';
import { currentTraceCarrier, runWithTraceCarrier } from '../../src/telemetry/propagation.js';
import { SECRET, signedBody as delivery } from '../helpers/deliveries.js';

// Queued mode stores the trace context in the job and the worker continues it. These are the two
// internal functions it is built on: the carrier is taken where a delivery is being processed,
// goes through JSON (as a job's data does), and is continued from a context that knows nothing
// of the first: the worker's delivery span joins the receiving trace.

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register({ propagator: new W3CTraceContextPropagator() });
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});
beforeEach(() => exporter.reset());

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('carrying a delivery\'s trace context through a job', () => {
  it('a carrier taken inside a delivery, stored as JSON and continued elsewhere: the worker\'s spans are in the same trace', async () => {
    // The receiving side: the carrier is taken while the delivery is being processed.
    const receiving = createWebhookReceiver({ secret: SECRET });
    let stored = '';
    receiving.on('product.added', () => {
      stored = JSON.stringify({ name: 'product.added', trace: currentTraceCarrier() });
    });
    const body = delivery();
    await receiving.receive({ body, signature: signPayload(body, SECRET) });
    const [handlerSpan, deliverySpan] = exporter.getFinishedSpans();
    const job = JSON.parse(stored) as { trace: Record<string, string> };
    expect(Object.keys(job.trace)).toEqual(['traceparent']);
    const [, traceId, spanId] = TRACEPARENT.exec(job.trace['traceparent']!)!;
    expect(traceId).toBe(deliverySpan!.spanContext().traceId);
    expect(spanId).toBe(handlerSpan!.spanContext().spanId);
    exporter.reset();

    // The worker's side: nothing of the first context is active; the job's dispatch runs with the carrier.
    const working = createWebhookReceiver({ secret: SECRET, dedupe: false });
    working.on('product.added', () => {});
    await context.with(ROOT_CONTEXT, () =>
      runWithTraceCarrier(job.trace, () => {
        expect(trace.getActiveSpan()).toBeDefined(); // the remote parent
        return working.receive({ body, signature: signPayload(body, SECRET) });
      }),
    );
    const [workerHandler, workerDelivery] = exporter.getFinishedSpans();
    expect(workerDelivery?.name).toBe('aicommerce.webhook.delivery');
    expect(workerDelivery?.spanContext().traceId).toBe(traceId);
    expect(workerDelivery?.parentSpanContext).toMatchObject({ traceId, spanId, isRemote: true });
    expect(workerHandler?.spanContext().traceId).toBe(traceId);
    expect(workerHandler?.parentSpanContext?.spanId).toBe(workerDelivery?.spanContext().spanId);
  });

  it('outside any span there is nothing to carry: undefined', () => {
    expect(context.with(ROOT_CONTEXT, () => currentTraceCarrier())).toBeUndefined();
  });

  it('a missing or malformed carrier (it comes from storage) just runs the function, in a trace of its own', () => {
    const tracer = trace.getTracer('worker');
    for (const carrier of [undefined, null, 'traceparent', ['x'], { traceparent: 5 }, {}]) {
      exporter.reset();
      const result = context.with(ROOT_CONTEXT, () => runWithTraceCarrier(carrier, () => (tracer.startSpan('job').end(), 'ran')));
      expect(result).toBe('ran');
      expect(exporter.getFinishedSpans()[0]?.parentSpanContext).toBeUndefined();
    }
  });
});
