import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { expect, it, onTestFinished } from 'vitest';
import { createWebhookReceiver, signPayload, type ReceiverOptions, type WebhookError, type WebhookReceiver } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { WEBHOOK_PATH } from './frameworks.js';
import { connectRaw } from './hostile-raw-http.js';
import { post } from './http.js';

// The deliveries every adapter must answer the same way, over real HTTP: one list, run in each
// framework's test file against the app that file builds.

export const secret = 'whsec_frameworks';

/** A running app: its origin (`http://127.0.0.1:<port>`) and how to stop it. */
export interface Mounted {
  readonly origin: string;
  close(): Promise<void>;
}

/** Puts the receiver in a framework's app, mounted at WEBHOOK_PATH, and starts it on a free loopback port. */
export type Mount = (webhooks: WebhookReceiver) => Promise<Mounted>;

export interface Started extends Mounted {
  readonly url: string;
  readonly port: number;
  /** The `data` of every handler run. */
  readonly runs: unknown[];
  /** Every error reported to `onError`. */
  readonly errors: WebhookError[];
}

/** A receiver (4 kB limit, 300 ms body timeout) in the app `mount` builds; stopped when the test ends. */
export async function start(mount: Mount, options: ReceiverOptions = {}): Promise<Started> {
  const webhooks = createWebhookReceiver({ secret, limit: '4kb', bodyTimeout: 300, ...options });
  const runs: unknown[] = [];
  const errors: WebhookError[] = [];
  webhooks.onAny((event) => void runs.push(event.data));
  webhooks.onError((error) => void errors.push(error));
  const mounted = await mount(webhooks);
  onTestFinished(() => mounted.close());
  return { ...mounted, url: mounted.origin + WEBHOOK_PATH, port: Number(new URL(mounted.origin).port), runs, errors };
}

const fresh = () => createDelivery('product.added', sampleEvents['product.added'], { secret });
const signed = (body: string) => ({ 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, secret) });

export interface CaseOptions {
  /**
   * The framework's own JSON parser reads the body before the middleware (NestJS with the
   * middleware applied in a module): a body it cannot parse is its answer, and the body's
   * arrival (slow, aborted) is its business, not the receiver's.
   */
  parsedFirst?: boolean;
}

/** Registers the shared cases (`it`) for one framework. `options` are added to every receiver (e.g. `path`). */
export function deliveryCases(mount: Mount, options: ReceiverOptions = {}, { parsedFirst = false }: CaseOptions = {}): void {
  const run = (extra: ReceiverOptions = {}) => start(mount, { ...options, ...extra });

  it('a signed delivery: 200 { received: true }, its handler run once with the exact data', async () => {
    const app = await run();
    const { body, headers } = fresh();
    const answer = await post(app.url, { body, headers });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ received: true });
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(app.runs).toEqual([sampleEvents['product.added']]);
  });

  it('the same delivery again: 200 duplicate, no second run', async () => {
    const app = await run();
    const { body, headers } = fresh();
    expect((await post(app.url, { body, headers })).status).toBe(200);
    expect(await post(app.url, { body, headers })).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
    expect(app.runs).toHaveLength(1);
  });

  it('a forged signature: 401 invalid_signature, no handler run', async () => {
    const app = await run();
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret: 'guessed' });
    const answer = await post(app.url, { body, headers });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: 'Invalid signature', code: 'invalid_signature' });
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(app.runs).toEqual([]);
    expect(app.errors.map((error) => error.code)).toEqual(['invalid_signature']);
  });

  it('a stale timestamp (10 minutes old), correctly signed: 401 stale_timestamp, no handler run', async () => {
    const app = await run();
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret, timestamp: new Date(Date.now() - 600_000) });
    const answer = await post(app.url, { body, headers });
    expect(answer).toMatchObject({ status: 401, body: { code: 'stale_timestamp' } });
    expect(app.runs).toEqual([]);
  });

  it(`a signed body that is not JSON: 400${parsedFirst ? " (the framework parser's answer)" : ' invalid_json'}, no handler run`, async () => {
    const app = await run();
    const body = '{"event": "product.added",';
    const answer = await post(app.url, { body, headers: signed(body) });
    expect(answer.status).toBe(400);
    if (!parsedFirst) expect(answer.body).toEqual({ error: 'Body is not valid JSON: it could not be parsed', code: 'invalid_json', issues: [] });
    expect(app.runs).toEqual([]);
  });

  it('a signed body that fails its schema: 400 invalid_payload with the issue paths', async () => {
    const app = await run();
    const { body, headers } = createDelivery('product.added', { storeId: 'store_xyz' }, { secret });
    const answer = await post(app.url, { body, headers });
    expect(answer).toMatchObject({ status: 400, body: { code: 'invalid_payload', issues: [{ path: 'data.product' }] } });
    expect(app.runs).toEqual([]);
  });

  it('a body over the limit, announced by Content-Length: 413 payload_too_large', async () => {
    const app = await run();
    const body = JSON.stringify({ event: 'product.added', padding: 'x'.repeat(5_000) });
    const answer = await post(app.url, { body, headers: signed(body) });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({ error: 'Payload too large: the limit is 4096 bytes', code: 'payload_too_large' });
    expect(app.runs).toEqual([]);
  });

  it('a body over the limit, streamed without Content-Length: 413 payload_too_large', async () => {
    const app = await run();
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        app.url,
        { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-signature': `sha256=${'0'.repeat(64)}` } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      // Chunked (no Content-Length), and JSON, so that a JSON parser before the middleware takes it too.
      request.write('{"padding":"');
      for (let i = 0; i < 5; i++) request.write('x'.repeat(1024));
      request.end('"}');
    });
    expect(status).toBe(413);
    expect(app.errors.map((error) => error.code)).toEqual(['payload_too_large']);
    expect(app.runs).toEqual([]);
  });

  it('text/plain, and a gzip Content-Encoding: 415 unsupported_media_type', async () => {
    const app = await run();
    const { body, headers } = fresh();
    const plain = await post(app.url, { body, headers: { ...headers, 'content-type': 'text/plain' } });
    expect(plain).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    expect(plain.headers.get('accept')).toBe('application/json');
    const gzip = await fetch(app.url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipSync(body) });
    expect(gzip.status).toBe(415);
    expect(await gzip.json()).toMatchObject({ code: 'unsupported_media_type' });
    expect(app.runs).toEqual([]);
  });

  it('GET and PUT: 405 method_not_allowed with Allow: POST', async () => {
    const app = await run();
    const { body, headers } = fresh();
    for (const method of ['GET', 'PUT']) {
      const answer = await post(app.url, { body, headers }, method);
      expect(answer).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
      expect(answer.headers.get('allow')).toBe('POST');
    }
    expect(app.runs).toEqual([]);
  });

  if (parsedFirst) return;

  it('a body that stops arriving: 408 body_timeout after bodyTimeout, and the connection closed', async () => {
    const app = await run();
    const connection = await connectRaw(app.port);
    onTestFinished(() => connection.destroy());
    await connection.write(
      `POST ${WEBHOOK_PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"event":`,
    );
    const answer = await connection.response();
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'body_timeout' });
    expect(answer.headers['connection']).toBe('close');
    expect(app.runs).toEqual([]);
  });

  it('a client that hangs up mid-body: incomplete_body reported, no handler run', async () => {
    const app = await run({ bodyTimeout: 10_000 });
    const connection = await connectRaw(app.port);
    await connection.write(
      `POST ${WEBHOOK_PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"event":`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // the body is being read
    connection.destroy();
    await expect.poll(() => app.errors.map((error) => error.code)).toEqual(['incomplete_body']);
    expect(app.runs).toEqual([]);
  });
}
