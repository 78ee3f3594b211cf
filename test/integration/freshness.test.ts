import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { listen, post, type Listening } from '../helpers/http.js';

// The `tolerance` window: the envelope timestamp against `now()`, either way, through real HTTP.

const SECRET = 'whsec_freshness';
const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const open: Listening[] = [];
afterAll(() => Promise.all(open.map((server) => server.close())));

/** A receiver on a fixed clock (unless `now` is given) whose handler counts runs; `dedupe: false` so every copy runs. */
async function start(options: Pick<ReceiverOptions, 'tolerance' | 'now'> = {}) {
  // Order off: these tests send one product at timestamps out of order on purpose.
  const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false, order: false, now: () => new Date(NOW), ...options });
  const counter = { runs: 0 };
  webhooks.on('product.added', () => void counter.runs++);
  const server = await listen(webhooks.middleware());
  open.push(server);
  return {
    counter,
    send: (timestamp: number | string, secret = SECRET, data: unknown = sampleEvents['product.added']) =>
      post(server.url, createDelivery('product.added', data, { secret, timestamp: typeof timestamp === 'number' ? new Date(timestamp) : timestamp })),
  };
}

const stale = { status: 401, body: { error: expect.stringMatching(/^Timestamp outside the tolerance window/), code: 'stale_timestamp' } };

describe('freshness (tolerance)', () => {
  it('accepts a timestamp up to 300 s old or ahead by default, exactly at the boundary included', async () => {
    const { send, counter } = await start();
    for (const offset of [0, -300_000, 300_000, -299_999, 299_999]) {
      expect((await send(NOW + offset)).status, `offset ${offset} ms`).toBe(200);
    }
    expect(counter.runs).toBe(5);
  });

  it('rejects a timestamp one millisecond outside the window, in either direction, with 401 stale_timestamp and no handler', async () => {
    const { send, counter } = await start();
    expect(await send(NOW - 300_001)).toMatchObject({ ...stale, body: { ...stale.body, error: expect.stringContaining('older') } });
    expect(await send(NOW + 300_001)).toMatchObject({ ...stale, body: { ...stale.body, error: expect.stringContaining('later') } });
    expect(await send(NOW - 86_400_000)).toMatchObject(stale);
    expect(counter.runs).toBe(0);
  });

  it('reads offsets in the timestamp, not just Z', async () => {
    const { send } = await start();
    expect((await send('2026-11-26T13:04:59.000+01:00')).status).toBe(200); // 12:04:59 Z
    expect(await send('2026-11-26T13:05:00.001+01:00')).toMatchObject(stale);
  });

  it('a custom tolerance moves both edges', async () => {
    const { send, counter } = await start({ tolerance: 5 });
    expect((await send(NOW - 5000)).status).toBe(200);
    expect((await send(NOW + 5000)).status).toBe(200);
    expect(await send(NOW - 5001)).toMatchObject(stale);
    expect(await send(NOW + 5001)).toMatchObject(stale);
    expect(counter.runs).toBe(2);
  });

  it('tolerance: false turns the check off', async () => {
    const { send, counter } = await start({ tolerance: false });
    expect((await send('2000-01-01T00:00:00.000Z')).status).toBe(200);
    expect((await send('2100-01-01T00:00:00.000Z')).status).toBe(200);
    expect(counter.runs).toBe(2);
  });

  it('checks against the injected now(), read on every request', async () => {
    let clock = Date.parse('2020-02-02T00:00:00.000Z');
    const { send } = await start({ now: () => new Date(clock) });
    expect((await send(clock)).status).toBe(200);
    expect(await send(Date.now())).toMatchObject(stale); // fresh for the wall clock, stale for this receiver
    clock = Date.now();
    expect((await send(Date.now())).status).toBe(200);
  });

  it('the default clock is the real one', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
    const data = sampleEvents['product.added'];
    await expect(webhooks.receive(receiveInput(createDelivery('product.added', data, { secret: SECRET })))).resolves.toMatchObject({ outcome: 'handled' });
    await expect(
      webhooks.receive(receiveInput(createDelivery('product.added', data, { secret: SECRET, timestamp: new Date(Date.now() - 600_000) }))),
    ).rejects.toMatchObject({ status: 401, code: 'stale_timestamp' });
  });

  it('comes after the signature and schema checks: a stale forgery is 401 invalid_signature, a stale invalid payload 400', async () => {
    const { send } = await start();
    expect(await send(NOW - 600_000, 'wrong secret')).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    expect(await send(NOW - 600_000, SECRET, { storeId: 'store_xyz' })).toMatchObject({ status: 400, body: { code: 'invalid_payload' } });
  });

  it('rejects a tolerance that is not a positive number of seconds at creation', () => {
    for (const tolerance of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, true as unknown as number]) {
      expect(() => createWebhookReceiver({ secret: SECRET, tolerance })).toThrow(/tolerance must be a positive finite number/);
    }
  });
});

/** A prepared delivery as `receive()` takes it. */
function receiveInput({ body, headers }: { body: string; headers: { 'x-webhook-signature': string } }) {
  return { body, signature: headers['x-webhook-signature'] };
}
