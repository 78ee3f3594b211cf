import { describe, expect, it } from 'vitest';
import {
  createWebhookReceiver,
  defaultOrderKeys,
  MemoryDedupeStore,
  type DedupeStore,
  type DeliveryContext,
  type ReceiverOptions,
  type WebhookError,
} from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';

// Latest wins through receive(), in one process on the in-memory store: the rule (older is
// superseded, equal is applied, a failure raises nothing), the keys, and one delivery per entity.

const secret = 'whsec_latest';
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);

/** A product.updated snapshot of product `id` at `price`, stamped `minutes` after T0. */
const snapshot = (id: string, price: number, minutes: number) => {
  const data = { ...sampleEvents['product.updated'], product: { ...sampleEvents['product.updated'].product, id, price } };
  const { body, headers } = createDelivery('product.updated', data, { secret, timestamp: at(minutes) });
  return { body, signature: headers['x-webhook-signature'] };
};

function receiver(options: ReceiverOptions = {}) {
  const webhooks = createWebhookReceiver({ secret, tolerance: false, ...options });
  const prices = new Map<string, number>();
  const applied: { id: string; price: number; orderKey: string | undefined }[] = [];
  const errors: WebhookError[] = [];
  webhooks.on('product.updated', (event, context) => {
    prices.set(event.data.product.id, event.data.product.price!);
    applied.push({ id: event.data.product.id, price: event.data.product.price!, orderKey: context.orderKey });
  });
  webhooks.onError((error) => void errors.push(error));
  return { webhooks, prices, applied, errors };
}

describe('latest wins, inline', () => {
  it('answers an older snapshot superseded after a newer one was applied: its handler does not run, no onError, the newer price stays', async () => {
    const { webhooks, prices, applied, errors } = receiver();
    await expect(webhooks.receive(snapshot('p1', 2, 2))).resolves.toMatchObject({ outcome: 'handled' });
    await expect(webhooks.receive(snapshot('p1', 1, 1))).resolves.toMatchObject({ outcome: 'superseded', event: { data: { product: { price: 1 } } } });
    expect(prices.get('p1')).toBe(2);
    expect(applied).toEqual([{ id: 'p1', price: 2, orderKey: 'store_xyz/product/p1' }]);
    expect(errors).toEqual([]);
  });

  it('applies a snapshot with the same timestamp as the one applied (no finer clock exists), and a newer one after it', async () => {
    const { webhooks, applied } = receiver();
    await webhooks.receive(snapshot('p1', 1, 1));
    await expect(webhooks.receive(snapshot('p1', 2, 1))).resolves.toMatchObject({ outcome: 'handled' });
    await expect(webhooks.receive(snapshot('p1', 3, 2))).resolves.toMatchObject({ outcome: 'handled' });
    expect(applied.map((a) => a.price)).toEqual([1, 2, 3]);
  });

  it('orders each entity on its own: another product, or the same product id in another store, is not superseded', async () => {
    const { webhooks, applied } = receiver();
    await webhooks.receive(snapshot('p1', 5, 5));
    await expect(webhooks.receive(snapshot('p2', 1, 1))).resolves.toMatchObject({ outcome: 'handled' });
    const otherStore = { ...sampleEvents['product.updated'], storeId: 'store_other', product: { id: 'p1', name: 'n', price: 9 } };
    const { body, headers } = createDelivery('product.updated', otherStore, { secret, timestamp: at(1) });
    await expect(webhooks.receive({ body, signature: headers['x-webhook-signature'] })).resolves.toMatchObject({ outcome: 'handled' });
    expect(applied.map((a) => a.orderKey)).toEqual(['store_xyz/product/p1', 'store_xyz/product/p2', 'store_other/product/p1']);
  });

  it('raises nothing for a failed delivery: the older one still applies after it, and the newer one once its retry succeeds', async () => {
    const { webhooks, prices, errors } = receiver();
    let failNext = true;
    webhooks.on('product.updated', () => {
      if (failNext) {
        failNext = false;
        throw new Error('database down');
      }
    });
    const newer = snapshot('p1', 2, 2);
    await expect(webhooks.receive(newer)).rejects.toMatchObject({ code: 'handler_failed' });
    await expect(webhooks.receive(snapshot('p1', 1, 1))).resolves.toMatchObject({ outcome: 'handled' });
    expect(prices.get('p1')).toBe(1);
    await expect(webhooks.receive(newer)).resolves.toMatchObject({ outcome: 'handled' }); // AICommerce's retry
    expect(prices.get('p1')).toBe(2);
    expect(errors.map((e) => e.code)).toEqual(['handler_failed']);
  });

  it('runs one delivery per entity at a time: a second one while the first runs is 409 in_flight, and applies once it is free', async () => {
    const { webhooks, applied, errors } = receiver();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    webhooks.on('product.updated', (event) => (event.data.product.price === 1 ? blocked : undefined));
    const first = webhooks.receive(snapshot('p1', 1, 1));
    await expect.poll(() => applied.length).toBe(1); // the first one's handlers are running
    await expect(webhooks.receive(snapshot('p1', 2, 2))).rejects.toMatchObject({ status: 409, code: 'in_flight', eventName: 'product.updated' });
    await expect(webhooks.receive(snapshot('p2', 5, 1))).resolves.toMatchObject({ outcome: 'handled' }); // another entity runs meanwhile
    release();
    await expect(first).resolves.toMatchObject({ outcome: 'handled' });
    await expect(webhooks.receive(snapshot('p1', 2, 2))).resolves.toMatchObject({ outcome: 'handled' }); // AICommerce's retry
    expect(applied.map((a) => `${a.id}@${a.price}`)).toEqual(['p1@1', 'p2@5', 'p1@2']);
    expect(errors.map((e) => e.code)).toEqual(['in_flight']);
  });

  it('lets a hold lapse after its lease, as a process that died would: another delivery of the entity then runs', async () => {
    let now = T0;
    const store = new MemoryDedupeStore({ leaseMs: 1_000, now: () => now });
    const held = store.hold('store_xyz/product/p1', T0);
    expect(held.status).toBe('held');
    expect(store.hold('store_xyz/product/p1', T0 + 1).status).toBe('busy');
    now += 1_001;
    const second = store.hold('store_xyz/product/p1', T0 + 1);
    expect(second.status).toBe('held');
    // The first holder settling late takes nothing from the second: its mark goes in, the second's hold stays.
    if (held.status === 'held') held.applied(60_000);
    expect(store.hold('store_xyz/product/p1', T0 + 2).status).toBe('busy');
    if (second.status === 'held') second.applied(60_000);
    expect(store.hold('store_xyz/product/p1', T0).status).toBe('superseded');
  });

  it('order: false applies every delivery as it comes, the old price last (what latest wins prevents)', async () => {
    const { webhooks, prices } = receiver({ order: false });
    await webhooks.receive(snapshot('p1', 2, 2));
    await expect(webhooks.receive(snapshot('p1', 1, 1))).resolves.toMatchObject({ outcome: 'handled' });
    expect(prices.get('p1')).toBe(1);
  });

  it('takes keys of your own, by name or prefix, the most specific one first; an event whose key is undefined is not ordered', async () => {
    const seen: (string | undefined)[] = [];
    const webhooks = createWebhookReceiver({
      secret,
      tolerance: false,
      order: {
        'chat.*': (event) => `session/${event.data.sessionId}`,
        'chat.message.received': (event) => (event.data.messageId === undefined ? undefined : `message/${event.data.messageId}`),
      },
    });
    webhooks.onAny((_event, context) => void seen.push(context.orderKey));
    const send = (event: 'chat.message.received' | 'chat.session.created' | 'product.updated', data: unknown, minutes: number) => {
      const { body, headers } = createDelivery(event, data, { secret, timestamp: at(minutes) });
      return webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    };
    const message = sampleEvents['chat.message.received'];
    await send('chat.session.created', sampleEvents['chat.session.created'], 5);
    await expect(send('chat.session.created', { ...sampleEvents['chat.session.created'], source: 'older' }, 1)).resolves.toMatchObject({ outcome: 'superseded' });
    await send('chat.message.received', { ...message, messageId: 'm1' }, 5);
    await expect(send('chat.message.received', { ...message, messageId: 'm1', message: 'older' }, 1)).resolves.toMatchObject({ outcome: 'superseded' });
    // No messageId: no key, so no ordering, even at an older timestamp.
    await expect(send('chat.message.received', { ...message, message: 'no id' }, 0)).resolves.toMatchObject({ outcome: 'handled' });
    // Not named by these keys: product events are no longer ordered (the keys replace the default).
    await send('product.updated', sampleEvents['product.updated'], 5);
    await expect(send('product.updated', { ...sampleEvents['product.updated'], changedFields: ['older'] }, 1)).resolves.toMatchObject({ outcome: 'handled' });
    expect(seen).toEqual(['session/sess_abc123', 'message/m1', undefined, undefined, undefined]);
  });

  it('gives the default keys on the seven sample events: products by store and id, daily reports by store and date, the rest none', async () => {
    const webhooks = createWebhookReceiver({ secret, tolerance: false });
    const keys: Record<string, string | undefined> = {};
    webhooks.onAny((event, context) => void (keys[event.event] = context.orderKey));
    for (const [event, data] of Object.entries(sampleEvents)) {
      const { body, headers } = createDelivery(event, data, { secret });
      await webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    }
    expect(keys).toEqual({
      'chat.session.created': undefined,
      'chat.message.received': undefined,
      'chat.message.sent': undefined,
      'product.viewed': undefined,
      'product.added': `${sampleEvents['product.added'].storeId}/product/${sampleEvents['product.added'].product.id}`,
      'product.updated': `${sampleEvents['product.updated'].storeId}/product/${sampleEvents['product.updated'].product.id}`,
      'analytics.daily': `${sampleEvents['analytics.daily'].storeId}/analytics/${sampleEvents['analytics.daily'].date}`,
    });
    expect(Object.keys(defaultOrderKeys).sort()).toEqual(['analytics.daily', 'product.added', 'product.updated']);
  });

  it('keeps order with dedupe off (marks in memory) and refuses keys that are not functions or match no event', () => {
    expect(() => createWebhookReceiver({ secret, dedupe: false })).not.toThrow();
    expect(() => createWebhookReceiver({ secret, order: { 'product.updated': 'id' as never } })).toThrow(/order\['product.updated'\] must be a function/);
    // @ts-expect-error: no event's name starts with order.
    expect(() => createWebhookReceiver({ secret, order: { 'order.*': () => 'x' } })).toThrow(/order: no event matches 'order\.\*'/);
  });

  it('answers a key function that returns something other than a string as a misconfiguration, with the key named', async () => {
    const webhooks = createWebhookReceiver({ secret, order: { 'product.updated': () => 42 as unknown as string } });
    webhooks.onError(() => {}); // heard here, not printed
    const { body, headers } = createDelivery('product.updated', sampleEvents['product.updated'], { secret });
    await expect(webhooks.receive({ body, signature: headers['x-webhook-signature'] })).rejects.toMatchObject({
      status: 500,
      code: 'misconfigured',
      cause: { message: expect.stringContaining("order['product.updated'] returned 42") },
    });
  });

  it('keeps marks in memory, with a warning, for a dedupe store of your own that has no hold()', async () => {
    const warnings: string[] = [];
    const listener = (warning: Error) => void warnings.push(warning.message);
    process.on('warning', listener);
    const custom: DedupeStore = { claim: () => ({ status: 'claimed', commit: () => {}, release: () => {} }) };
    const { webhooks, prices } = receiver({ dedupe: custom });
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    process.off('warning', listener);
    expect(warnings).toEqual([expect.stringContaining('latest-wins marks are kept in this process only')]);
    await webhooks.receive(snapshot('p1', 2, 2));
    await expect(webhooks.receive(snapshot('p1', 1, 1))).resolves.toMatchObject({ outcome: 'superseded' });
    expect(prices.get('p1')).toBe(2);
  });

  it('answers 503 store_unavailable and runs nothing when the store cannot hold the entity; the retry is processed', async () => {
    const store = new MemoryDedupeStore();
    let down = true;
    const flaky = Object.assign(Object.create(store) as MemoryDedupeStore, {
      claim: (key: string) => store.claim(key),
      hold: (key: string, timestampMs: number) => (down ? Promise.reject(new Error('ECONNREFUSED')) : store.hold(key, timestampMs)),
    });
    const { webhooks, applied } = receiver({ dedupe: flaky });
    const delivery = snapshot('p1', 1, 1);
    await expect(webhooks.receive(delivery)).rejects.toMatchObject({ status: 503, code: 'store_unavailable', headers: { 'retry-after': '5' } });
    expect(applied).toEqual([]);
    down = false;
    await expect(webhooks.receive(delivery)).resolves.toMatchObject({ outcome: 'handled' });
    expect(applied).toHaveLength(1);
  });
});

describe('latest wins on a store of your own', () => {
  /** A minimal PromiseLike (what a store built on another promise library answers): no `catch`, not `instanceof Promise`. */
  const later = <T>(value: T): PromiseLike<T> => ({ then: (ok, fail) => Promise.resolve(value).then(ok, fail) });

  it('awaits answers that are thenables of another kind: superseded, 409 while held, and the mark raised after the handlers', async () => {
    const store = new MemoryDedupeStore();
    const thenables = {
      claim: (key: string) => later(store.claim(key)),
      hold: (key: string, timestampMs: number) => {
        const held = store.hold(key, timestampMs);
        return later(held.status === 'held' ? { status: 'held' as const, applied: (ms: number) => later(held.applied(ms)), release: () => later(held.release()) } : held);
      },
    };
    const { webhooks, prices, errors } = receiver({ dedupe: thenables });
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    webhooks.on('product.updated', (event) => (event.data.product.price === 2 ? blocked : undefined));
    const newer = webhooks.receive(snapshot('p1', 2, 2));
    await expect.poll(() => prices.get('p1')).toBe(2);
    await expect(webhooks.receive(snapshot('p1', 3, 3))).rejects.toMatchObject({ status: 409, code: 'in_flight' });
    release();
    await expect(newer).resolves.toMatchObject({ outcome: 'handled' });
    await expect(webhooks.receive(snapshot('p1', 1, 1))).resolves.toMatchObject({ outcome: 'superseded' });
    expect(prices.get('p1')).toBe(2);
    expect(errors.map((e) => e.code)).toEqual(['in_flight']);
  });

  it('reports a store that fails to record the mark once, with the event and delivery id, and still answers the processed delivery handled', async () => {
    const store = new MemoryDedupeStore();
    const failing = Object.assign(Object.create(store) as MemoryDedupeStore, {
      claim: (key: string) => store.claim(key),
      hold: (key: string, timestampMs: number) => {
        const held = store.hold(key, timestampMs);
        if (held.status !== 'held') return held;
        return { status: 'held' as const, applied: () => { throw new Error('READONLY'); }, release: () => held.release() };
      },
    });
    const { webhooks, applied, errors } = receiver({ dedupe: failing });
    await expect(webhooks.receive(snapshot('p1', 1, 1))).resolves.toMatchObject({ outcome: 'handled' });
    expect(applied).toHaveLength(1);
    expect(errors).toMatchObject([{ status: 503, code: 'store_unavailable', eventName: 'product.updated', deliveryId: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(errors[0]!.message).toMatch(/Order store failed to record an entity/);
  });
});

describe('superseded, as the outside sees it', () => {
  it('is logged at info with its event and delivery id, never as an error', async () => {
    const records: { level: string; record: unknown; message: string }[] = [];
    const logger = {
      info: (record: unknown, message: string) => void records.push({ level: 'info', record, message }),
      warn: (record: unknown, message: string) => void records.push({ level: 'warn', record, message }),
      error: (record: unknown, message: string) => void records.push({ level: 'error', record, message }),
    };
    const { webhooks } = receiver({ logger });
    await webhooks.receive(snapshot('p1', 2, 2));
    const older = snapshot('p1', 1, 1);
    await webhooks.receive(older);
    expect(records).toEqual([
      {
        level: 'info',
        record: { outcome: 'superseded', status: 200, event: 'product.updated', deliveryId: expect.stringMatching(/^[0-9a-f]{64}$/) },
        message: expect.stringContaining('superseded'),
      },
    ]);
  });

  it('the context names the key, and the handler can upsert by it', async () => {
    const rows = new Map<string, number>();
    const webhooks = createWebhookReceiver({ secret, tolerance: false });
    webhooks.on('product.updated', (event, context: DeliveryContext) => void rows.set(context.orderKey!, event.data.product.price!));
    await webhooks.receive(snapshot('p1', 3, 3));
    await webhooks.receive(snapshot('p1', 1, 1));
    expect([...rows]).toEqual([['store_xyz/product/p1', 3]]);
  });
});
