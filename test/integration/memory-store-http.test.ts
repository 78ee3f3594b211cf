import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { listen, post, type Listening } from '../helpers/http.js';
import { clockedStore } from '../helpers/stores.js';

// The default store behind a receiver, over real HTTP, on an injected clock.

const SECRET = 'whsec_memory';

describe('MemoryDedupeStore behind a receiver', () => {
  const open: Listening[] = [];
  afterAll(() => Promise.all(open.map((server) => server.close())));

  it('a delivery whose handler never finishes is 409 until the lease lapses, then the retry is processed', async () => {
    const { clock, store } = clockedStore({ leaseMs: 60_000 });
    const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: store });
    let runs = 0;
    webhooks.on('chat.message.received', () => {
      runs++;
      if (runs === 1) return new Promise(() => {}); // hangs, like a process stuck mid-handler
      return undefined;
    });
    const server = await listen(webhooks.middleware());
    open.push(server);
    const delivery = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: SECRET });

    void fetch(server.url, { method: 'POST', headers: delivery.headers, body: delivery.body }).catch(() => {});
    await expect.poll(() => runs).toBe(1);
    expect(await post(server.url, delivery)).toMatchObject({ status: 409, body: { code: 'in_flight' } });
    clock.now += 60_001;
    expect(await post(server.url, delivery)).toMatchObject({ status: 200, body: { received: true } });
    expect(await post(server.url, delivery)).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(runs).toBe(2);
  });
});
