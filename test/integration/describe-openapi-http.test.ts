import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, type ReceiverOptions, type WebhookErrorCode } from 'aicommerce-webhooks';
import { sampleEvents } from 'aicommerce-webhooks/testing';
import { listen } from '../helpers/http.js';
import { openApiValidator, pointerTo } from '../helpers/json-schema.js';

// webhooks.toOpenAPI() against a running receiver: every answer it gives over real HTTP is the
// documented answer of its status (Ajv on every body), and between them they cover the document.

const secret = 'openapi-secret';
const NOW = new Date('2026-11-26T12:00:00.000Z');

describe('the documented answers are the answers a running receiver gives (real HTTP, Ajv on every body)', () => {
  const options: ReceiverOptions = { secret, limit: '2kb', bodyTimeout: 150, now: () => NOW };
  const receiver = createWebhookReceiver(options);
  const brokenStore = createWebhookReceiver({
    ...options,
    dedupe: { claim: () => Promise.reject(new Error('ECONNREFUSED')) },
  });
  let started!: () => void;
  const handlerStarted = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  receiver.on('chat.session.created', () => {
    started();
    return new Promise<void>((resolve) => (release = resolve));
  });
  receiver.on('product.added', () => {
    throw new Error('database down');
  });
  receiver.onError(() => {}); // the expected 4xx/5xx stay quiet
  brokenStore.onError(() => {});

  const servers: { origin: string; close: () => Promise<void> }[] = [];
  beforeAll(async () => {
    servers.push(await listen(http.createServer(receiver.middleware())), await listen(http.createServer(brokenStore.middleware())));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  const doc = receiver.toOpenAPI();
  const schemaAt = openApiValidator(doc);
  const seen = new Map<number, Set<string>>();

  /** Checks an answer against the documented response of its status, for a delivery of `event`. */
  async function expectDocumented(response: Response, event = 'chat.message.received'): Promise<void> {
    const status = String(response.status);
    const documented = doc.webhooks[event]!.post.responses[status];
    expect(documented, `status ${status} is documented`).toBeDefined();
    const json = (await response.json()) as { code?: string };
    const validate = schemaAt(pointerTo('webhooks', event, 'post', 'responses', status, 'content', 'application/json', 'schema'));
    expect(validate(json), JSON.stringify({ json, errors: validate.errors })).toBe(true);
    for (const [name, header] of Object.entries(documented!.headers ?? {})) {
      if (header.required) expect(response.headers.get(name), name).not.toBeNull();
    }
    if (!seen.has(response.status)) seen.set(response.status, new Set());
    seen.get(response.status)!.add(json.code ?? 'received');
  }

  const delivery = (event: string, data: unknown, timestamp = NOW.toISOString()): string => JSON.stringify({ event, timestamp, data });
  const post = (body: string, { origin = servers[0]!.origin, signature = signPayload(body, secret), type = 'application/json' } = {}) =>
    fetch(origin, { method: 'POST', headers: { 'content-type': type, 'x-webhook-signature': signature }, body });

  it('200 handled and duplicate; 400 invalid_json and invalid_payload; 401 invalid_signature and stale_timestamp', async () => {
    const body = delivery('chat.message.received', sampleEvents['chat.message.received']);
    await expectDocumented(await post(body));
    await expectDocumented(await post(body));
    await expectDocumented(await post('{not json'));
    await expectDocumented(await post(delivery('chat.message.received', { storeId: '' })));
    await expectDocumented(await post(body, { signature: signPayload(body, 'wrong') }));
    await expectDocumented(await post(delivery('chat.message.received', sampleEvents['chat.message.received'], '2026-11-26T10:00:00.000Z')));
  });

  it('405 with Allow, 413, 415', async () => {
    await expectDocumented(await fetch(servers[0]!.origin));
    await expectDocumented(await post(delivery('chat.message.received', { ...sampleEvents['chat.message.received'], message: 'x'.repeat(4096) })));
    await expectDocumented(await post(delivery('chat.message.received', sampleEvents['chat.message.received']), { type: 'text/plain' }));
  });

  it('408 for a body that never finishes', async () => {
    const { port } = new URL(servers[0]!.origin);
    const response = await new Promise<Response>((resolve, reject) => {
      const request = http.request({ port, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 100 } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers: res.headers as Record<string, string> })));
      });
      request.on('error', reject);
      request.write('{"event":');
    });
    await expectDocumented(response);
  });

  it('409 in_flight while the same delivery runs, 500 handler_failed, 503 store_unavailable with Retry-After', async () => {
    const body = delivery('chat.session.created', sampleEvents['chat.session.created']);
    const first = post(body);
    await handlerStarted; // the first request holds the claim
    await expectDocumented(await post(body), 'chat.session.created');
    release();
    await expectDocumented(await first, 'chat.session.created');
    await expectDocumented(await post(delivery('product.added', sampleEvents['product.added'])), 'product.added');
    await expectDocumented(await post(delivery('product.viewed', sampleEvents['product.viewed']), { origin: servers[1]!.origin }), 'product.viewed');
  });

  it('queued mode: 202 queued, 200 duplicate, 503 queue_unavailable with Retry-After', async () => {
    const stored = new Set<string>();
    const queued = createWebhookReceiver({
      ...options,
      queue: { enqueue: (delivery) => Promise.resolve(stored.has(delivery.id) ? 'duplicate' : (stored.add(delivery.id), 'queued')) },
    });
    const unreachable = createWebhookReceiver({ ...options, queue: { enqueue: () => Promise.reject(new Error('ECONNREFUSED')) } });
    unreachable.onError(() => {});
    const queuedDoc = queued.toOpenAPI();
    const queuedSchemaAt = openApiValidator(queuedDoc);
    const answered: string[] = [];
    for (const [receiverOfCase, body] of [
      [queued, delivery('product.added', sampleEvents['product.added'])],
      [queued, delivery('product.added', sampleEvents['product.added'])],
      [unreachable, delivery('product.added', sampleEvents['product.added'])],
    ] as const) {
      const server = await listen(http.createServer(receiverOfCase.middleware()));
      try {
        const response = await post(body, { origin: server.origin });
        const status = String(response.status);
        const json = (await response.json()) as { code?: string; queued?: boolean; duplicate?: boolean };
        const documented = queuedDoc.webhooks['product.added']!.post.responses[status];
        expect(documented, `status ${status} is documented`).toBeDefined();
        const validate = queuedSchemaAt(pointerTo('webhooks', 'product.added', 'post', 'responses', status, 'content', 'application/json', 'schema'));
        expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
        if (status === '503') expect(response.headers.get('retry-after')).not.toBeNull();
        answered.push(`${status} ${json.code ?? (json.queued ? 'queued' : json.duplicate ? 'duplicate' : 'received')}`);
      } finally {
        await server.close();
      }
    }
    expect(answered).toEqual(['202 queued', '200 duplicate', '503 queue_unavailable']);
  });

  it('between them, the answers above cover every documented status', () => {
    const documented = Object.keys(doc.webhooks['chat.message.received']!.post.responses).map(Number);
    expect([...seen.keys()].sort()).toEqual(documented.sort());
    expect(Object.fromEntries([...seen].map(([status, codes]) => [status, [...codes].sort()]))).toEqual({
      200: ['received'],
      400: ['invalid_json', 'invalid_payload'],
      401: ['invalid_signature', 'stale_timestamp'],
      405: ['method_not_allowed'],
      408: ['body_timeout'],
      409: ['in_flight'],
      413: ['payload_too_large'],
      415: ['unsupported_media_type'],
      500: ['handler_failed'],
      503: ['store_unavailable'],
    } satisfies Record<number, (WebhookErrorCode | 'received')[]>);
  });
});
