import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { afterAll, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { registerTracing } from '../helpers/otel.js';
import { openTestQueue } from '../helpers/queue.js';
import { describeRedis, useRedis } from '../helpers/redis.js';

// Queued mode with the OpenTelemetry SDK registered, on real Redis and BullMQ: the job carries the
// receiving delivery's trace context, and the worker's handler spans continue that trace.

const tracing = registerTracing(); // the Node SDK's defaults: W3C trace context
afterAll(() => tracing.shutdown());

const secret = 'whsec_queued_traces';

describeRedis('queued mode and OpenTelemetry', () => {
  it('the job stores the trace context; the worker’s handler span is a child of the receiving delivery span, in the same trace', async () => {
    const redis = await useRedis();
    const tq = await openTestQueue(redis.url);
    const webhooks = createWebhookReceiver({ secret, queue: new BullMQDeliveryQueue({ queue: tq.queue }) });
    let handled = 0;
    webhooks.on('product.added', () => void handled++);
    // The worker starts outside any span: whatever trace its handlers join came through the job.
    const worker = context.with(ROOT_CONTEXT, () => createWebhookWorker(webhooks, { connection: tq.client, queueName: tq.name }));
    const stored: unknown[] = []; // a completed job is removed at once: its data is read as it completes
    worker.on('completed', (job) => void stored.push(job.data.trace));
    try {
      const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
      const result = await context.with(ROOT_CONTEXT, () => webhooks.receive({ body, signature: headers['x-webhook-signature'] }));
      expect(result.outcome).toBe('queued');
      await expect.poll(() => handled, { timeout: 10_000, message: 'the handler runs' }).toBe(1);
      await expect.poll(() => tracing.spans().length, { timeout: 5_000, message: 'both spans end' }).toBeGreaterThanOrEqual(2);

      const spans = tracing.spans();
      const receiving = spans.find((s) => s.name === 'aicommerce.webhook.delivery')!;
      const handler = spans.find((s) => s.name === 'aicommerce.webhook.handler')!;
      expect(receiving.attributes).toMatchObject({ 'aicommerce.webhook.outcome': 'queued', 'http.response.status_code': 202, 'aicommerce.webhook.event': 'product.added' });
      expect(handler.spanContext().traceId).toBe(receiving.spanContext().traceId);
      expect(handler.parentSpanContext).toMatchObject({ spanId: receiving.spanContext().spanId, isRemote: true });

      expect(stored).toEqual([{ traceparent: `00-${receiving.spanContext().traceId}-${receiving.spanContext().spanId}-01` }]);
    } finally {
      await worker.close();
      await tq.close();
      await redis.stop();
    }
  });
});
