import { SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, type DedupeStore } from 'aicommerce-webhooks';
import { createDelivery } from 'aicommerce-webhooks/testing';
import { SECRET, sha256, signedBody as delivery } from '../helpers/deliveries.js';
import { isChildOf, registerTracing, type Tracing } from '../helpers/otel.js';

// The OpenTelemetry Node SDK registered as an app registers it, spans exported to memory: what
// the receiver records for each delivery and each handler run, through receive(). Through every
// adapter over HTTP: telemetry-traces-adapters.test.ts.

const DELIVERY = 'aicommerce.webhook.delivery';
const HANDLER = 'aicommerce.webhook.handler';

let tracing: Tracing;
beforeAll(() => void (tracing = registerTracing()));
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());

describe('what the spans say', () => {
  it('a failing handler: its own span records the exception, the delivery span is an ERROR with error.type handler_failed', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET });
    webhooks.onError(() => {});
    webhooks.on('product.added', function saveProduct() {
      throw new Error('database is down');
    });
    const body = delivery('product.added');
    await expect(webhooks.receive({ body, signature: signPayload(body, SECRET) })).rejects.toMatchObject({ code: 'handler_failed' });

    const span = tracing.only(DELIVERY);
    expect(span.attributes).toEqual({
      'aicommerce.webhook.event': 'product.added',
      'aicommerce.webhook.delivery_id': sha256(body),
      'aicommerce.webhook.outcome': 'failed',
      'http.response.status_code': 500,
      'error.type': 'handler_failed',
    });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Webhook handler failed' });
    expect(span.events.map((event) => [event.name, event.attributes?.['exception.type'], event.attributes?.['exception.message']])).toEqual([
      ['exception', 'handler_failed', 'Webhook handler failed'],
    ]);

    const handler = tracing.only(HANDLER);
    expect(isChildOf(handler, span)).toBe(true);
    expect(handler.attributes).toMatchObject({ 'code.function.name': 'saveProduct', 'error.type': 'handler_failed' });
    expect(handler.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Webhook handler failed' });
    expect(handler.events.map((event) => event.attributes?.['exception.message'])).toEqual(['database is down']);
  });

  it('several handlers: one span each, all children of the delivery span; an async one lasts until it settles', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET });
    webhooks.on('product.added', function indexProduct() {});
    webhooks.on('product.*', async function notifyTeam() {
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
    const body = delivery('product.added');
    await webhooks.receive({ body, signature: signPayload(body, SECRET) });

    const span = tracing.only(DELIVERY);
    const handlers = tracing.named(HANDLER);
    expect(handlers.map((h) => h.attributes['code.function.name']).sort()).toEqual(['indexProduct', 'notifyTeam']);
    for (const handler of handlers) expect(isChildOf(handler, span)).toBe(true);
    const slow = handlers.find((h) => h.attributes['code.function.name'] === 'notifyTeam')!;
    const ms = (time: [number, number]): number => time[0] * 1000 + time[1] / 1e6;
    expect(ms(slow.duration)).toBeGreaterThanOrEqual(25);
    // Spans are exported as they end: both handler spans ended before the delivery span did.
    expect(tracing.spans().map((s) => s.name)).toEqual([HANDLER, HANDLER, DELIVERY]);
  });

  it("spans a handler starts itself are children of its handler span, after an await too; the app's span is the delivery span's parent", async () => {
    const tracer = trace.getTracer('the-app');
    const webhooks = createWebhookReceiver({ secret: SECRET });
    webhooks.on('product.added', async () => {
      tracer.startSpan('before await').end();
      await new Promise((resolve) => setTimeout(resolve, 1));
      tracer.startSpan('after await').end();
    });
    const body = delivery('product.added');
    await tracer.startActiveSpan('POST /webhooks', async (request) => {
      await webhooks.receive({ body, signature: signPayload(body, SECRET) });
      request.end();
    });

    const span = tracing.only(DELIVERY);
    const handler = tracing.only(HANDLER);
    expect(isChildOf(span, tracing.only('POST /webhooks'))).toBe(true);
    expect(isChildOf(tracing.only('before await'), handler)).toBe(true);
    expect(isChildOf(tracing.only('after await'), handler)).toBe(true);
  });

  it('rejections of an authentic body name the event and the delivery; duplicates and ignored events are outcomes of their own', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET, unknownEvents: 'ignore' });
    webhooks.onError(() => {});
    webhooks.onAny(() => {});
    const strict = createWebhookReceiver({ secret: SECRET, unknownEvents: 'reject' });
    strict.onError(() => {});
    const send = (receiver: typeof webhooks, body: string): Promise<unknown> =>
      receiver.receive({ body, signature: signPayload(body, SECRET) }).catch(() => undefined);

    const stale = delivery('product.added', new Date(Date.now() - 3_600_000));
    const invalid = createDelivery('product.added', { storeId: 'store_1' }, { secret: SECRET }).body;
    const unknown = createDelivery('store.closed', {}, { secret: SECRET }).body;
    const handled = delivery('chat.message.received');
    await send(webhooks, stale);
    await send(webhooks, invalid);
    await send(strict, unknown);
    await send(webhooks, unknown);
    await send(webhooks, handled);
    await send(webhooks, handled);
    await send(webhooks, '{"event": "product.added", ');

    const summary = tracing.named(DELIVERY).map((span) => ({
      outcome: span.attributes['aicommerce.webhook.outcome'],
      code: span.attributes['error.type'],
      event: span.attributes['aicommerce.webhook.event'],
      id: span.attributes['aicommerce.webhook.delivery_id'],
    }));
    expect(summary).toEqual([
      { outcome: 'rejected', code: 'stale_timestamp', event: 'product.added', id: sha256(stale) },
      { outcome: 'rejected', code: 'invalid_payload', event: 'product.added', id: sha256(invalid) },
      { outcome: 'rejected', code: 'unknown_event', event: 'store.closed', id: sha256(unknown) },
      { outcome: 'ignored', code: undefined, event: 'store.closed', id: sha256(unknown) },
      { outcome: 'handled', code: undefined, event: 'chat.message.received', id: sha256(handled) },
      { outcome: 'duplicate', code: undefined, event: 'chat.message.received', id: sha256(handled) },
      { outcome: 'rejected', code: 'invalid_json', event: undefined, id: sha256('{"event": "product.added", ') },
    ]);
    expect(tracing.named(HANDLER)).toHaveLength(1); // the one handled delivery
  });

  it('a dedupe store that is down: a 503 span, an ERROR, with the store\'s own error recorded', async () => {
    const store: DedupeStore = { claim: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) };
    const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: store });
    webhooks.onError(() => {});
    const body = delivery();
    await expect(webhooks.receive({ body, signature: signPayload(body, SECRET) })).rejects.toMatchObject({ status: 503 });
    const span = tracing.only(DELIVERY);
    expect(span.attributes).toMatchObject({ 'aicommerce.webhook.outcome': 'failed', 'http.response.status_code': 503, 'error.type': 'store_unavailable' });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.map((event) => event.attributes?.['exception.message'])).toEqual([
      'Dedupe store unavailable; nothing was processed',
      'connect ECONNREFUSED 127.0.0.1:6379',
    ]);
  });

  it('no span holds the body or the secret, whatever the outcome', async () => {
    const CANARY = 'CANARY-0tel-9d41';
    const webhooks = createWebhookReceiver({ secret: SECRET });
    webhooks.onError(() => {});
    webhooks.on('chat.message.received', (event) => {
      if (event.data.message.endsWith('fail')) throw new Error('user code failed');
    });
    const chat = (message: string, timestamp = new Date()): string =>
      createDelivery('chat.message.received', { sessionId: 's', storeId: CANARY, message }, { secret: SECRET, timestamp }).body;
    const bodies = [
      chat(CANARY),
      chat(`${CANARY} fail`),
      chat(CANARY, new Date(Date.now() - 3_600_000)),
      createDelivery('chat.message.received', { sessionId: CANARY, storeId: 7, message: [CANARY] }, { secret: SECRET }).body,
      `{"event":"${CANARY}`,
    ];
    for (const body of bodies) {
      await webhooks.receive({ body, signature: signPayload(body, SECRET) }).catch(() => {});
      await webhooks.receive({ body, signature: `sha256=${'0'.repeat(64)}` }).catch(() => {});
    }
    const spans = tracing.spans();
    expect(new Set(spans.map((span) => span.attributes['error.type']))).toEqual(
      new Set([undefined, 'handler_failed', 'stale_timestamp', 'invalid_payload', 'invalid_json', 'invalid_signature']),
    );
    const exported = JSON.stringify(spans.map(({ name, attributes, events, status, links }) => ({ name, attributes, events, status, links })));
    expect(exported).not.toContain(CANARY);
    expect(exported).not.toContain(SECRET);
  });
});
