import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createWebhookReceiver, eventSchemas, signPayload, type EventName, type WebhookEvent } from 'aicommerce-webhooks';
import { sampleEvents } from 'aicommerce-webhooks/testing';

const secret = 'whsec_events';
const at = new Date('2026-11-27T12:00:00Z');
const envelope = (event: string, data: unknown, extra: object = {}) =>
  JSON.stringify({ event, timestamp: at.toISOString(), data, ...extra });

/** Receives one body through the public core and returns what the handler was given. */
async function deliver<Schemas extends Record<string, z.ZodType>>(body: string, schemas?: Schemas) {
  const webhooks = createWebhookReceiver({ secret, now: () => at, dedupe: false, ...(schemas && { schemas }) });
  const seen: unknown[] = [];
  webhooks.onAny((event) => void seen.push(event));
  const result = await webhooks.receive({ body, signature: signPayload(body, secret) });
  return { result, seen };
}

describe('the built-in event schemas', () => {
  it('lists the seven documented events', () => {
    expect(Object.keys(eventSchemas).sort()).toEqual([
      'analytics.daily',
      'chat.message.received',
      'chat.message.sent',
      'chat.session.created',
      'product.added',
      'product.updated',
      'product.viewed',
    ]);
  });

  it('accepts the AICommerce docs example exactly as written', async () => {
    const docsExample = `{
      "event": "chat.message.received",
      "timestamp": "2026-11-27T12:00:00Z",
      "data": {
        "sessionId": "sess_abc123",
        "storeId": "store_xyz",
        "message": "Looking for running shoes",
        "products": [{ "id": "prod_xyz", "name": "Nike Air Max", "relevanceScore": 0.95 }]
      }
    }`;
    const { result, seen } = await deliver(docsExample);
    expect(result.outcome).toBe('handled');
    expect(seen).toEqual([JSON.parse(docsExample)]);
  });

  it.each(Object.keys(sampleEvents) as EventName[])('accepts the sample %s', (name) => {
    expect(eventSchemas[name].safeParse(sampleEvents[name]).success).toBe(true);
  });

  it('keeps fields it does not know, at every level, and the ignored body signature', async () => {
    const data = {
      ...sampleEvents['chat.message.received'],
      locale: 'de-CH',
      products: [{ id: 'p1', name: 'Shoe', relevanceScore: 0.5, brand: 'Acme', tags: ['x'] }],
    };
    const { seen } = await deliver(envelope('chat.message.received', data, { signature: 'not-trusted', deliveryAttempt: 2 }));
    expect(seen[0]).toMatchObject({ signature: 'not-trusted', deliveryAttempt: 2, data: { locale: 'de-CH', products: [{ brand: 'Acme', tags: ['x'] }] } });
  });

  // One failing case per required field and per constraint, with the path the 400 will name.
  const invalid: [string, EventName, unknown, string][] = [
    ['missing sessionId', 'chat.session.created', { storeId: 's' }, 'data.sessionId'],
    ['empty storeId', 'chat.session.created', { sessionId: 'a', storeId: '' }, 'data.storeId'],
    ['message not a string', 'chat.message.received', { sessionId: 'a', storeId: 's', message: 42 }, 'data.message'],
    ['relevanceScore over 1', 'chat.message.received', { sessionId: 'a', storeId: 's', message: '', products: [{ id: 'p', name: 'n', relevanceScore: 1.5 }] }, 'data.products.0.relevanceScore'],
    ['sent without products', 'chat.message.sent', { sessionId: 'a', storeId: 's', message: 'hi' }, 'data.products'],
    ['viewed product without name', 'product.viewed', { sessionId: 'a', storeId: 's', product: { id: 'p' } }, 'data.product.name'],
    ['negative position', 'product.viewed', { sessionId: 'a', storeId: 's', product: { id: 'p', name: 'n' }, position: -1 }, 'data.position'],
    ['added without product', 'product.added', { storeId: 's' }, 'data.product'],
    ['negative price', 'product.added', { storeId: 's', product: { id: 'p', name: 'n', price: -1 } }, 'data.product.price'],
    ['changedFields not strings', 'product.updated', { storeId: 's', product: { id: 'p', name: 'n' }, changedFields: [1] }, 'data.changedFields.0'],
    ['date not YYYY-MM-DD', 'analytics.daily', { storeId: 's', date: '27/11/2026', sessions: 1, messages: 1 }, 'data.date'],
    ['fractional sessions', 'analytics.daily', { storeId: 's', date: '2026-11-27', sessions: 1.5, messages: 1 }, 'data.sessions'],
    ['negative messages', 'analytics.daily', { storeId: 's', date: '2026-11-27', sessions: 1, messages: -3 }, 'data.messages'],
  ];
  it.each(invalid)('rejects %s (%s) at %s', async (_, name, data, path) => {
    const webhooks = createWebhookReceiver({ secret, now: () => at });
    const body = envelope(name, data);
    const error = await webhooks.receive({ body, signature: signPayload(body, secret) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'invalid_payload' });
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(path);
  });

  const badEnvelopes: [string, unknown, string][] = [
    ['no timestamp', { event: 'product.added', data: sampleEvents['product.added'] }, 'timestamp'],
    ['a timestamp without offset', { event: 'product.added', timestamp: '2026-11-27T12:00:00', data: sampleEvents['product.added'] }, 'timestamp'],
    ['a timestamp that is not a date', { event: 'product.added', timestamp: 'yesterday', data: sampleEvents['product.added'] }, 'timestamp'],
    ['no data', { event: 'product.added', timestamp: at.toISOString() }, 'data'],
    ['data not an object', { event: 'product.added', timestamp: at.toISOString(), data: [] }, 'data'],
    ['no event', { timestamp: at.toISOString(), data: {} }, 'event'],
    ['event not a string', { event: 7, timestamp: at.toISOString(), data: {} }, 'event'],
    ['a JSON array instead of an object', [], ''],
  ];
  it.each(badEnvelopes)('rejects an envelope with %s', async (_, payload, path) => {
    const webhooks = createWebhookReceiver({ secret, now: () => at });
    const body = JSON.stringify(payload);
    const error = await webhooks.receive({ body, signature: signPayload(body, secret) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'invalid_payload' });
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(path);
  });

  it('accepts timestamps with an offset or Z, with or without fractions', async () => {
    for (const timestamp of ['2026-11-27T12:00:00Z', '2026-11-27T13:00:00.123+01:00', '2026-11-27T07:00:00-05:00']) {
      const webhooks = createWebhookReceiver({ secret, now: () => at });
      const body = JSON.stringify({ event: 'product.added', timestamp, data: sampleEvents['product.added'] });
      await expect(webhooks.receive({ body, signature: signPayload(body, secret) })).resolves.toMatchObject({ outcome: 'handled' });
    }
  });
});

describe('the schemas option', () => {
  const refund = z.looseObject({ orderId: z.string(), amount: z.number().positive() });

  it('adds an event of your own, typed in its handler', async () => {
    const webhooks = createWebhookReceiver({ secret, now: () => at, schemas: { 'order.refunded': refund } });
    const amounts: number[] = [];
    webhooks.on('order.refunded', (event) => {
      expectTypeOf(event.data.amount).toEqualTypeOf<number>();
      expectTypeOf(event.event).toEqualTypeOf<'order.refunded'>();
      amounts.push(event.data.amount);
    });
    const body = envelope('order.refunded', { orderId: 'o1', amount: 12.5 });
    await expect(webhooks.receive({ body, signature: signPayload(body, secret) })).resolves.toMatchObject({ outcome: 'handled' });
    expect(amounts).toEqual([12.5]);
    const invalid = envelope('order.refunded', { orderId: 'o1', amount: -1 });
    await expect(webhooks.receive({ body: invalid, signature: signPayload(invalid, secret) })).rejects.toMatchObject({ status: 400 });
  });

  it('replaces a built-in schema, transforms included, and the handler sees its output', async () => {
    const strictAdded = z.object({ storeId: z.string(), product: z.object({ id: z.string(), price: z.number() }) }).transform((d) => ({
      ...d,
      cents: Math.round(d.product.price * 100),
    }));
    const webhooks = createWebhookReceiver({ secret, now: () => at, schemas: { 'product.added': strictAdded } });
    const cents: number[] = [];
    webhooks.on('product.added', (event) => {
      expectTypeOf(event.data.cents).toEqualTypeOf<number>();
      cents.push(event.data.cents);
    });
    const body = envelope('product.added', { storeId: 's', product: { id: 'p', price: 1.25 } });
    await webhooks.receive({ body, signature: signPayload(body, secret) });
    expect(cents).toEqual([125]);
    // The replaced schema no longer requires a name; the built-in one would have.
    expect(eventSchemas['product.added'].safeParse({ storeId: 's', product: { id: 'p', price: 1.25 } }).success).toBe(false);
  });

  it("extends a built-in schema as the README shows, still keeping unknown fields", async () => {
    const schemas = { 'chat.message.received': eventSchemas['chat.message.received'].extend({ locale: z.string() }) };
    const data = { ...sampleEvents['chat.message.received'], locale: 'fr-FR', extra: true };
    const { seen } = await deliver(envelope('chat.message.received', data), schemas);
    expect(seen).toMatchObject([{ data: { locale: 'fr-FR', extra: true } }]);
    const missing = envelope('chat.message.received', sampleEvents['chat.message.received']);
    const webhooks = createWebhookReceiver({ secret, now: () => at, schemas });
    await expect(webhooks.receive({ body: missing, signature: signPayload(missing, secret) })).rejects.toMatchObject({
      issues: [{ path: 'data.locale' }],
    });
  });

  it('refuses something that is not a zod schema', () => {
    expect(() => createWebhookReceiver({ secret, schemas: { 'x.y': { parse: () => 1 } as unknown as z.ZodType } })).toThrow(/zod schema/);
  });
});

describe('types', () => {
  it('derives each event type from its schema', () => {
    type Received = WebhookEvent<'chat.message.received'>;
    expectTypeOf<Received['event']>().toEqualTypeOf<'chat.message.received'>();
    expectTypeOf<Received['data']['message']>().toEqualTypeOf<string>();
    expectTypeOf<Received['data']['products']>().toEqualTypeOf<{ id: string; name: string; relevanceScore?: number | undefined }[] | undefined>();
    expectTypeOf<Received['timestamp']>().toEqualTypeOf<string>();
    type Daily = WebhookEvent<'analytics.daily'>;
    expectTypeOf<Daily['data']['sessions']>().toEqualTypeOf<number>();
    expectTypeOf<Daily['data']['revenue']>().toEqualTypeOf<number | undefined>();
  });

  it('narrows handlers by name, list, prefix and wildcard', () => {
    const webhooks = createWebhookReceiver({ secret });
    webhooks.on('product.viewed', (event) => {
      expectTypeOf(event.data.product.id).toEqualTypeOf<string>();
    });
    webhooks.on(['product.added', 'product.updated'], (event) => {
      expectTypeOf(event.event).toEqualTypeOf<'product.added' | 'product.updated'>();
      if (event.event === 'product.updated') expectTypeOf(event.data.changedFields).toEqualTypeOf<string[] | undefined>();
    });
    webhooks.on('chat.*', (event) => {
      expectTypeOf(event.event).toEqualTypeOf<'chat.session.created' | 'chat.message.received' | 'chat.message.sent'>();
    });
    webhooks.on('chat.message.*', (event) => {
      expectTypeOf(event.event).toEqualTypeOf<'chat.message.received' | 'chat.message.sent'>();
      expectTypeOf(event.data.message).toEqualTypeOf<string>();
    });
    webhooks.onAny((event) => {
      expectTypeOf(event.event).toEqualTypeOf<EventName>();
    });
    // @ts-expect-error: not an event
    expect(() => webhooks.on('chat.mesage.received', () => {})).toThrow(TypeError);
    // @ts-expect-error: not a prefix of any event
    expect(() => webhooks.on('order.*', () => {})).toThrow(TypeError);
    webhooks.on('product.added', (event) => {
      // @ts-expect-error: a product event has no message field
      const message: string = event.data.message;
      return message;
    });
  });

  it('makes a misspelt field a compile error, deep, while unknown fields still arrive at runtime', async () => {
    const webhooks = createWebhookReceiver({ secret, now: () => at });
    const seen: unknown[] = [];
    webhooks.on('chat.message.received', (event) => {
      // @ts-expect-error: sessionId, misspelt
      seen.push(event.data.sesionId);
      // @ts-expect-error: a chat product's name, misspelt
      seen.push(event.data.products?.[0]?.nmae);
      expectTypeOf(event.data.sessionId).toEqualTypeOf<string>();
    });
    webhooks.on('chat.session.created', (event) => {
      // A record (no declared fields) keeps its index signature.
      expectTypeOf(event.data.context).toEqualTypeOf<Record<string, unknown> | undefined>();
    });
    const data = { ...sampleEvents['chat.message.received'], sesionId: 'kept', products: [{ id: 'p', name: 'n', nmae: 'kept too' }] };
    const body = envelope('chat.message.received', data);
    await webhooks.receive({ body, signature: signPayload(body, secret) });
    expect(seen).toEqual(['kept', 'kept too']);
  });
});
