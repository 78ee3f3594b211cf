import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type EventName, type WebhookReceiver } from 'aicommerce-webhooks';
import { createDelivery, createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';
import { deliveryCases } from '../helpers/delivery-cases.js';
import { listen, WEBHOOK_PATH, type Listening } from '../helpers/http.js';

// webhooks.fetchHandler() on a Hono route, served over HTTP on loopback by @hono/node-server (its
// bridge from Node's requests to Fetch ones): the status table, then the sender emulator against
// it. Request and Response objects alone, no server: test/unit/fetch.test.ts.

const secret = 'fetch-secret';
const events = Object.keys(sampleEvents) as EventName[];

/** The Fetch handler in a Hono app, as `app.all(path, (c) => handler(c.req.raw))`, listening on loopback. */
function honoApp(webhooks: WebhookReceiver): Promise<Listening> {
  const handler = webhooks.fetchHandler();
  const app = new Hono();
  app.all(WEBHOOK_PATH, (c) => handler(c.req.raw));
  return listen(getRequestListener(app.fetch));
}

describe('fetchHandler() inside Hono, over HTTP', () => {
  deliveryCases(honoApp, {}, { fetchHandler: true });

  describe('with the sender emulator', () => {
    let server: Listening;
    const seen: { event: string; data: unknown }[] = [];
    let failNext = false;

    beforeAll(async () => {
      const webhooks = createWebhookReceiver({ secret });
      webhooks.onAny((event) => {
        seen.push({ event: event.event, data: event.data });
        if (failNext) {
          failNext = false;
          throw new Error('internal detail');
        }
      });
      webhooks.onError(() => {});
      server = await honoApp(webhooks);
    });
    afterAll(() => server.close());

    it('delivers each of the seven events from the sender emulator to the handler', async () => {
      seen.length = 0;
      const aicommerce = createTestSender({ retries: 0 });
      await aicommerce.webhooks.create({ url: server.url, events, secret });
      for (const event of events) {
        const [report] = await aicommerce.send(event, sampleEvents[event]);
        expect(report?.attempts.map((a) => [a.status, a.response])).toEqual([[200, { received: true }]]);
      }
      expect(seen).toEqual(events.map((event) => ({ event, data: sampleEvents[event] })));
    });

    it('answers a forged delivery 401 on every attempt, and a failing handler 500 then the retry 200', async () => {
      seen.length = 0;
      const aicommerce = createTestSender({ retries: 1, baseDelayMs: 1 });
      const forged = await aicommerce.deliver(server.url, createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: 'guessed' }));
      expect(forged.attempts.map((a) => [a.status, a.response])).toEqual([
        [401, { error: 'Invalid signature', code: 'invalid_signature' }],
        [401, { error: 'Invalid signature', code: 'invalid_signature' }],
      ]);

      failNext = true;
      const retried = await aicommerce.deliver(server.url, createDelivery('product.added', sampleEvents['product.added'], { secret }));
      expect(retried.attempts.map((a) => [a.status, a.response])).toEqual([
        [500, { error: 'Webhook handler failed', code: 'handler_failed' }],
        [200, { received: true }],
      ]);
      expect(seen.map((s) => s.event)).toEqual(['product.added', 'product.added']);
    });
  });
});
