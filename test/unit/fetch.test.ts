import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, type ReceiverOptions, type WebhookError } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';

// webhooks.fetchHandler(): real `Request` objects in, real `Response` objects out, no server: what
// only a Fetch handler meets (body streams, a Request already read, bodyUsed). The status table
// runs against the same handler served over HTTP, in test/integration/fetch-hono.test.ts.

const secret = 'fetch-secret';
const endpoint = 'https://shop.example/webhooks/aicommerce';
const message = sampleEvents['chat.message.received'];

/** A receiver whose handler runs and errors are recorded. */
function setup(options: ReceiverOptions = {}) {
  const webhooks = createWebhookReceiver({ secret, ...options });
  const seen: { event: string; data: unknown }[] = [];
  const errors: WebhookError[] = [];
  webhooks.onAny((event) => void seen.push({ event: event.event, data: event.data }));
  webhooks.onError((error) => void errors.push(error));
  return { handler: webhooks.fetchHandler(), seen, errors };
}

function post(body: RequestInit['body'], headers: Record<string, string> = {}, url = endpoint): Request {
  return new Request(url, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

/** A delivery of the docs' example as a Request. */
function signed(): Request {
  const { body, headers } = createDelivery('chat.message.received', message, { secret });
  return post(body, headers);
}

/** A body stream that yields `chunk` whenever asked, forever, and records what happened to it. */
function endless(chunk = new Uint8Array(1024)) {
  const state = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulls++;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/** A body stream that sends `first` and then nothing, never ending. */
function stalled(first: string) {
  const state = { cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function answer(response: Response) {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('fetchHandler() with Request objects', () => {
  describe('200', () => {
    it('verifies the bytes as sent, however many chunks they come in (escapes, 1.0, spaces)', async () => {
      const { handler, seen } = setup();
      const body = `{ "event": "chat.message.received", "timestamp": "${new Date().toISOString()}",
        "data": { "sessionId": "s\\u0031", "storeId": "st", "message": "caf\\u00e9 \u00e9", "products": [{ "id": "p", "name": "n", "relevanceScore": 1.0 }] } }`;
      const bytes = new TextEncoder().encode(body);
      const parts = [bytes.subarray(0, 7), bytes.subarray(7, 100), bytes.subarray(100)];
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      });
      const { createHmac } = await import('node:crypto');
      const signature = `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;
      const response = await handler(post(stream, { 'content-type': 'application/json', 'x-webhook-signature': signature }));
      expect(response.status).toBe(200);
      expect(seen[0]?.data).toMatchObject({ sessionId: 's1', message: 'café é', products: [{ relevanceScore: 1 }] });
    });
  });

  describe('400', () => {
    it('a body stream that fails while arriving: 400 incomplete_body', async () => {
      const { handler, errors } = setup();
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"event"'));
          controller.error(new Error('connection reset'));
        },
      });
      const { status, body } = await answer(await handler(post(stream, { 'content-type': 'application/json' })));
      expect([status, body['code']]).toEqual([400, 'incomplete_body']);
      expect(JSON.stringify(body)).not.toContain('connection reset');
      expect(errors.map((e) => e.code)).toEqual(['incomplete_body']);
    });
  });

  describe('413', () => {
    it('a declared Content-Length over the limit is refused before a byte is read', async () => {
      const { handler, seen } = setup({ limit: '1kb' });
      const { stream, state } = endless();
      const response = await handler(post(stream, { 'content-type': 'application/json', 'content-length': '2048' }));
      expect(await answer(response)).toEqual({ status: 413, body: { error: 'Payload too large: the limit is 1024 bytes', code: 'payload_too_large' } });
      expect(state.pulls).toBeLessThanOrEqual(1); // a stream may pre-fetch one chunk when it is made; none was read
      expect(seen).toEqual([]);
    });

    it('a streamed body without Content-Length is cut off at the limit, never held whole', async () => {
      const { handler, seen, errors } = setup({ limit: '4kb' });
      const { stream, state } = endless(new Uint8Array(1024));
      const response = await handler(post(stream, { 'content-type': 'application/json' }));
      expect((await answer(response)).status).toBe(413);
      expect(state.cancelled).toBe(true);
      expect(state.pulls).toBeLessThanOrEqual(8); // 5 chunks pass the limit; a stream reads at most a little ahead
      expect(seen).toEqual([]);
      expect(errors.map((e) => e.code)).toEqual(['payload_too_large']);
    });

    it('a signed delivery just under the limit still passes', async () => {
      const { body, headers } = createDelivery('chat.message.received', message, { secret });
      const { handler } = setup({ limit: Buffer.byteLength(body) });
      expect((await handler(post(body, headers))).status).toBe(200);
      const { handler: smaller } = setup({ limit: Buffer.byteLength(body) - 1 });
      expect((await smaller(post(body, headers))).status).toBe(413);
    });
  });

  describe('415, 408, 404', () => {
    it.each([
      ['text/plain', { 'content-type': 'text/plain' }],
      ['no content type', {}],
      ['a charset other than UTF-8', { 'content-type': 'application/json; charset=latin1' }],
      ['gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ])('%s: 415 unsupported_media_type, body not read', async (_, headers) => {
      const { handler } = setup();
      const { body, headers: signedHeaders } = createDelivery('chat.message.received', message, { secret });
      const request = post(body, { 'x-webhook-signature': signedHeaders['x-webhook-signature'], ...headers });
      const { status, body: json } = await answer(await handler(request));
      expect([status, json['code']]).toEqual([415, 'unsupported_media_type']);
      expect(request.bodyUsed).toBe(false);
    });

    it('a body that does not arrive within bodyTimeout: 408, the stream is cancelled', async () => {
      const { handler, seen, errors } = setup({ bodyTimeout: 100 });
      const { stream, state } = stalled('{"event":"chat.message.received",');
      const { status, body } = await answer(await handler(post(stream, { 'content-type': 'application/json' })));
      expect(status).toBe(408);
      expect(body).toEqual({ error: 'Request body not received within 100 ms', code: 'body_timeout' });
      expect(state.cancelled).toBe(true);
      expect(seen).toEqual([]);
      expect(errors.map((e) => e.code)).toEqual(['body_timeout']);
    });

    it('with `path`, another path is 404 and the path itself (any trailing slash or query) is handled', async () => {
      const { handler, seen } = setup({ path: '/webhooks/aicommerce' });
      const { body, headers } = createDelivery('chat.message.received', message, { secret });
      expect((await handler(post(body, headers, 'https://shop.example/other'))).status).toBe(404);
      expect((await handler(post(body, headers, 'https://shop.example/webhooks/aicommerce/?store=1'))).status).toBe(200);
      expect(seen).toHaveLength(1);
    });
  });

  describe('500', () => {
    it('a body something else already read: 500 misconfigured, not 401', async () => {
      const { handler } = setup();
      const request = signed();
      await request.text();
      const { status, body } = await answer(await handler(request));
      expect([status, body['code']]).toEqual([500, 'misconfigured']);
    });
  });

  it('gives a secret resolver the request headers and the path and query, as the node adapter does', async () => {
    const calls: { store: unknown; url: string | undefined }[] = [];
    const { handler } = setup({
      secret: ({ headers, url }) => {
        calls.push({ store: headers['x-store-id'], url });
        return headers['x-store-id'] === 'store_xyz' ? secret : undefined;
      },
    });
    const { body, headers } = createDelivery('chat.message.received', message, { secret });
    expect((await handler(post(body, { ...headers, 'x-store-id': 'store_xyz' }))).status).toBe(200);
    expect((await handler(post(body, { ...headers, 'x-store-id': 'other' }))).status).toBe(401);
    expect(calls).toEqual([
      { store: 'store_xyz', url: new URL(endpoint).pathname },
      { store: 'other', url: new URL(endpoint).pathname },
    ]);
  });
});
