import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload } from 'aicommerce-webhooks';
import { createDelivery } from 'aicommerce-webhooks/testing';
import { SECRET, signedBody as delivery } from '../helpers/deliveries.js';
import { histogramPoints, registerMetrics, sumPoints, type Metrics } from '../helpers/otel.js';
import { open } from '../helpers/targets.js';

// The OpenTelemetry metrics SDK registered alone (no tracing), exporting to memory with delta
// temporality: each collect() gives what was recorded since the one before.

const DELIVERIES = 'aicommerce.webhook.deliveries';
const DURATION = 'aicommerce.webhook.handler.duration';

let meters: Metrics;
beforeAll(() => void (meters = registerMetrics()));
afterAll(() => meters.shutdown());
beforeEach(() => meters.collect());

describe('the deliveries counter', () => {
  it('counts deliveries by outcome and code (and by event, for events with a schema), over HTTP and through receive()', async () => {
    const http = await open('express 5');
    try {
      const webhooks = createWebhookReceiver({ secret: SECRET });
      webhooks.onError(() => {});
      webhooks.on('chat.message.received', () => {
        throw new Error('user code failed');
      });
      const send = (body: string, signature = signPayload(body, SECRET)): Promise<unknown> =>
        webhooks.receive({ body, signature }).catch(() => undefined);

      const product = delivery('product.added');
      expect(await http.send(product)).toBe(200);
      expect(await http.send(product)).toBe(200); // the same delivery again: a duplicate
      expect(await http.send(delivery('product.updated'))).toBe(200);
      expect(await http.send(createDelivery('store.closed', {}, { secret: SECRET }).body)).toBe(200); // ignored
      expect(await http.send(product, `sha256=${'0'.repeat(64)}`)).toBe(401);
      expect((await fetch(http.url!, { method: 'PUT' })).status).toBe(405);
      await send(delivery('chat.message.received'));
      await send(delivery('product.added', new Date(Date.now() - 3_600_000)));

      const metric = (await meters.collect()).get(DELIVERIES);
      expect(metric?.descriptor).toMatchObject({ unit: '{delivery}', description: 'Webhook deliveries, by outcome and code' });
      const expected = [
        { attributes: { 'aicommerce.webhook.outcome': 'handled', 'aicommerce.webhook.event': 'product.added' }, value: 1 },
        { attributes: { 'aicommerce.webhook.outcome': 'duplicate', 'aicommerce.webhook.event': 'product.added' }, value: 1 },
        { attributes: { 'aicommerce.webhook.outcome': 'handled', 'aicommerce.webhook.event': 'product.updated' }, value: 1 },
        // An unknown event's name is not a label: a sender could make up any number of them.
        { attributes: { 'aicommerce.webhook.outcome': 'ignored' }, value: 1 },
        { attributes: { 'aicommerce.webhook.outcome': 'rejected', 'error.type': 'invalid_signature' }, value: 1 },
        { attributes: { 'aicommerce.webhook.outcome': 'rejected', 'error.type': 'method_not_allowed' }, value: 1 },
        {
          attributes: { 'aicommerce.webhook.outcome': 'failed', 'error.type': 'handler_failed', 'aicommerce.webhook.event': 'chat.message.received' },
          value: 1,
        },
        { attributes: { 'aicommerce.webhook.outcome': 'rejected', 'error.type': 'stale_timestamp' }, value: 1 },
      ];
      expect(sumPoints(metric)).toHaveLength(expected.length);
      expect(sumPoints(metric)).toEqual(expect.arrayContaining(expected));
    } finally {
      await http.close();
    }
  });
});

describe('the handler duration histogram', () => {
  it('times each handler run in seconds, by event, with error.type when it failed', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
    webhooks.onError(() => {});
    webhooks.on('product.added', async () => {
      await new Promise((resolve) => setTimeout(resolve, 40));
    });
    webhooks.on('product.updated', async () => {
      throw new Error('user code failed');
    });
    for (const event of ['product.added', 'product.updated'] as const) {
      const body = delivery(event);
      await webhooks.receive({ body, signature: signPayload(body, SECRET) }).catch(() => {});
    }

    const metric = (await meters.collect()).get(DURATION);
    expect(metric?.descriptor).toMatchObject({ unit: 's', description: 'Duration of each webhook handler run' });
    const points = histogramPoints(metric);
    const slow = points.find((p) => p.attributes['aicommerce.webhook.event'] === 'product.added');
    const failed = points.find((p) => p.attributes['aicommerce.webhook.event'] === 'product.updated');
    expect(points).toHaveLength(2);
    expect(slow?.attributes).toEqual({ 'aicommerce.webhook.event': 'product.added' });
    expect(slow?.value.count).toBe(1);
    expect(slow?.value.sum).toBeGreaterThanOrEqual(0.035); // the 40 ms timer, in seconds (timers may fire a little early)
    expect(slow?.value.sum).toBeLessThan(5);
    expect(failed?.attributes).toEqual({ 'aicommerce.webhook.event': 'product.updated', 'error.type': 'handler_failed' });
    expect(failed?.value.count).toBe(1);
    // OpenTelemetry's advised buckets for request durations, in seconds.
    expect(slow?.value.buckets.boundaries).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  });

  it('nothing is recorded for a delivery no handler ran for', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET });
    webhooks.on('product.added', () => {});
    const body = delivery('product.updated');
    await webhooks.receive({ body, signature: signPayload(body, SECRET) });
    const collected = await meters.collect();
    expect(histogramPoints(collected.get(DURATION))).toEqual([]);
    expect(sumPoints(collected.get(DELIVERIES)).map((p) => p.attributes)).toEqual([
      { 'aicommerce.webhook.outcome': 'handled', 'aicommerce.webhook.event': 'product.updated' },
    ]);
  });
});
