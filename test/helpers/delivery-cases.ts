import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  createWebhookReceiver,
  signPayload,
  STATUS_BY_CODE,
  WebhookHandlerError,
  type EventName,
  type ReceiverOptions,
  type WebhookError,
  type WebhookErrorCode,
  type WebhookReceiver,
} from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { connectRaw } from './hostile-raw-http.js';
import { post, WEBHOOK_PATH, type Answer } from './http.js';

// The status answers every adapter must give the same way, over real HTTP: one table, run by each
// adapter's test file (node:http, Express 4 and 5, Connect, Fetch, Fastify, Koa, NestJS) against
// the app that file builds.

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

/**
 * A receiver (4 kB limit, 300 ms body timeout) in the app `mount` builds, stopped when the test
 * ends; `setup` may register more handlers before it starts (a failing one …).
 */
export async function start(mount: Mount, options: ReceiverOptions = {}, setup: (webhooks: WebhookReceiver) => void = () => {}): Promise<Started> {
  const webhooks = createWebhookReceiver({ secret, limit: '4kb', bodyTimeout: 300, ...options });
  const runs: unknown[] = [];
  const errors: WebhookError[] = [];
  webhooks.onAny((event) => void runs.push(event.data));
  webhooks.onError((error) => void errors.push(error));
  setup(webhooks);
  const mounted = await mount(webhooks);
  onTestFinished(() => mounted.close());
  return { ...mounted, url: mounted.origin + WEBHOOK_PATH, port: Number(new URL(mounted.origin).port), runs, errors };
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Every error answer: its code's status, `{ error, code }` (and `issues`), JSON, never cached. */
function expectErrorAnswer(answer: Answer, code: WebhookErrorCode): void {
  expect(answer.status).toBe(STATUS_BY_CODE[code]);
  expect(answer.headers.get('content-type')).toBe(JSON_TYPE);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.body).toMatchObject({ error: expect.any(String), code });
  expect(Object.keys(answer.body as object).filter((key) => !['error', 'code', 'issues'].includes(key))).toEqual([]);
}

const events = Object.keys(sampleEvents) as EventName[];
const added = () => createDelivery('product.added', sampleEvents['product.added'], { secret });
const signed = (body: string) => ({ 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, secret) });

/** Deliveries that must be answered 401 invalid_signature: forged, unsigned and malformed ones. */
const unsigned: [string, () => { body: string; headers: Record<string, string> }][] = (() => {
  const { body, headers } = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret });
  const json = { 'content-type': 'application/json' };
  const signature = headers['x-webhook-signature'];
  return [
    ['a forged signature (another secret)', () => createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: 'guessed' })],
    ['a well-formed signature of other bytes', () => ({ body, headers: { ...json, 'x-webhook-signature': `sha256=${'ab'.repeat(32)}` } })],
    ['one tampered byte', () => ({ body: body.replace('running', 'rUnning'), headers })],
    ['no signature header', () => ({ body, headers: json })],
    ['an empty body and no signature', () => ({ body: '', headers: json })],
    ['a short header (the docs snippet crash)', () => ({ body, headers: { ...json, 'x-webhook-signature': 'sha256=abc' } })],
    ['a bare hex digest without the scheme', () => ({ body, headers: { ...json, 'x-webhook-signature': signature.slice('sha256='.length) } })],
    ['another scheme (sha1=)', () => ({ body, headers: { ...json, 'x-webhook-signature': signature.replace('sha256=', 'sha1=') } })],
  ];
})();

export interface CaseOptions {
  /**
   * The framework's own JSON parser reads the body before the middleware (NestJS with the
   * middleware applied in a module): a body it cannot parse is its answer, and the body's
   * arrival (slow, aborted) is its business, not the receiver's.
   */
  parsedFirst?: boolean;
  /** A Fetch handler cannot close the connection of a request whose body never came: it answers, that's all. */
  fetchHandler?: boolean;
}

/** Registers the table (`it`s) for one adapter. `options` are added to every receiver (e.g. `path`). */
export function deliveryCases(mount: Mount, options: ReceiverOptions = {}, { parsedFirst = false, fetchHandler = false }: CaseOptions = {}): void {
  const run = (extra: ReceiverOptions = {}, setup?: (webhooks: WebhookReceiver) => void) => start(mount, { ...options, ...extra }, setup);

  describe('200', () => {
    it.each(events)('a signed %s delivery: 200 { received: true }, its handler run once with the exact data', async (event) => {
      const app = await run();
      const answer = await post(app.url, createDelivery(event, sampleEvents[event], { secret }));
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ received: true });
      expect(answer.headers.get('content-type')).toBe(JSON_TYPE);
      expect(app.runs).toEqual([sampleEvents[event]]);
    });

    it('an event with no schema: 200 ignored, no handler run; 400 unknown_event under unknownEvents: reject', async () => {
      const delivery = createDelivery('order.created', { orderId: 'o1' }, { secret });
      const ignoring = await run();
      expect(await post(ignoring.url, delivery)).toMatchObject({ status: 200, body: { received: true, ignored: true } });
      expect(ignoring.runs).toEqual([]);
      const rejecting = await run({ unknownEvents: 'reject' });
      const rejected = await post(rejecting.url, delivery);
      expectErrorAnswer(rejected, 'unknown_event');
      expect(rejecting.runs).toEqual([]);
    });

    it('the same delivery again: 200 duplicate, no second run', async () => {
      const app = await run();
      const delivery = added();
      expect(await post(app.url, delivery)).toMatchObject({ status: 200, body: { received: true } });
      expect(await post(app.url, delivery)).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
      expect(app.runs).toHaveLength(1);
    });

    it('an older snapshot of a product after a newer one: 200 superseded, its handler not run, no onError (latest wins)', async () => {
      const app = await run();
      const now = Date.now();
      const snapshot = (price: number, ago: number) =>
        createDelivery('product.updated', { ...sampleEvents['product.updated'], product: { ...sampleEvents['product.updated'].product, price } }, { secret, timestamp: new Date(now - ago) });
      expect(await post(app.url, snapshot(2, 1_000))).toMatchObject({ status: 200, body: { received: true } });
      const answer = await post(app.url, snapshot(1, 60_000));
      expect(answer).toMatchObject({ status: 200, body: { received: true, superseded: true } });
      expect(answer.headers.get('content-type')).toBe(JSON_TYPE);
      expect(app.runs).toMatchObject([{ product: { price: 2 } }]);
      expect(app.errors).toEqual([]);
    });
  });

  describe('401', () => {
    it.each(unsigned)('%s: 401 invalid_signature, no handler run, nothing echoed', async (_, delivery) => {
      const app = await run();
      const answer = await post(app.url, delivery());
      expectErrorAnswer(answer, 'invalid_signature');
      expect(answer.body).toEqual({ error: 'Invalid signature', code: 'invalid_signature' });
      expect(app.runs).toEqual([]);
      expect(app.errors.map((error) => error.code)).toEqual(['invalid_signature']);
    });

    it('a stale timestamp (10 minutes old), correctly signed: 401 stale_timestamp, no handler run', async () => {
      const app = await run();
      const answer = await post(app.url, createDelivery('product.added', sampleEvents['product.added'], { secret, timestamp: new Date(Date.now() - 600_000) }));
      expectErrorAnswer(answer, 'stale_timestamp');
      expect(app.runs).toEqual([]);
    });
  });

  describe('400', () => {
    it(`a signed body that is not JSON: 400${parsedFirst ? " (the framework parser's answer)" : ' invalid_json, the body not quoted'}, no handler run`, async () => {
      const app = await run();
      const body = '{"event": "product.added",';
      const answer = await post(app.url, { body, headers: signed(body) });
      expect(answer.status).toBe(400);
      if (!parsedFirst) {
        expectErrorAnswer(answer, 'invalid_json');
        expect(answer.body).toEqual({ error: 'Body is not valid JSON: it could not be parsed', code: 'invalid_json', issues: [] });
        expect(JSON.stringify(answer.body)).not.toContain('product.added'); // V8's parse message would have quoted the body
      }
      expect(app.runs).toEqual([]);
    });

    it('a signed body that fails its schema: 400 invalid_payload with the path and a message of each issue', async () => {
      const app = await run();
      const answer = await post(app.url, createDelivery('product.added', { storeId: 'store_xyz' }, { secret }));
      expectErrorAnswer(answer, 'invalid_payload');
      expect(answer.body).toMatchObject({ issues: [{ path: 'data.product' }] });
      const body = JSON.stringify({
        event: 'chat.message.sent',
        timestamp: new Date().toISOString(),
        data: { sessionId: '', storeId: 'store_xyz', message: 7, products: [{ id: 'p', relevanceScore: 2 }] },
      });
      const several = await post(app.url, { body, headers: signed(body) });
      expectErrorAnswer(several, 'invalid_payload');
      const issues = (several.body as { issues: { path: string; message: unknown }[] }).issues;
      expect(issues.map((issue) => issue.path).sort()).toEqual(['data.message', 'data.products.0.name', 'data.products.0.relevanceScore', 'data.sessionId']);
      for (const issue of issues) expect(issue.message).toEqual(expect.any(String));
      expect(app.runs).toEqual([]);
    });
  });

  describe('413, 415, 405', () => {
    it('a body over the limit, announced by Content-Length: 413 payload_too_large', async () => {
      const app = await run();
      const body = JSON.stringify({ event: 'product.added', padding: 'x'.repeat(5_000) });
      const answer = await post(app.url, { body, headers: signed(body) });
      expectErrorAnswer(answer, 'payload_too_large');
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

    it('text/plain, a charset other than UTF-8, and a gzip Content-Encoding: 415 unsupported_media_type', async () => {
      const app = await run();
      const { body, headers } = added();
      const plain = await post(app.url, { body, headers: { ...headers, 'content-type': 'text/plain' } });
      expectErrorAnswer(plain, 'unsupported_media_type');
      expect(plain.headers.get('accept')).toBe('application/json');
      const latin1 = await post(app.url, { body, headers: { ...headers, 'content-type': 'application/json; charset=latin1' } });
      expect(latin1.status).toBe(415);
      if (!parsedFirst) expectErrorAnswer(latin1, 'unsupported_media_type'); // else the framework's JSON parser refused the charset
      const gzip = await fetch(app.url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipSync(body) });
      expect(gzip.status).toBe(415);
      expect(await gzip.json()).toMatchObject({ code: 'unsupported_media_type' });
      expect(app.runs).toEqual([]);
    });

    it('GET, PUT and HEAD: 405 method_not_allowed with Allow: POST', async () => {
      const app = await run();
      for (const method of ['GET', 'PUT', 'HEAD']) {
        const answer = await post(app.url, added(), method);
        expect([method, answer.status, answer.headers.get('allow')]).toEqual([method, 405, 'POST']);
        if (method !== 'HEAD') expectErrorAnswer(answer, 'method_not_allowed');
      }
      expect(app.errors.map((error) => error.code)).toEqual(['method_not_allowed', 'method_not_allowed', 'method_not_allowed']);
      expect(app.runs).toEqual([]);
    });
  });

  describe('500, 503', () => {
    it('a handler that throws: 500 handler_failed and no internals; onError gets the failure', async () => {
      const failure = new Error('database password is hunter2');
      const app = await run({}, (webhooks) =>
        webhooks.on('product.added', () => {
          throw failure;
        }),
      );
      const answer = await post(app.url, added());
      expectErrorAnswer(answer, 'handler_failed');
      expect(answer.body).toEqual({ error: 'Webhook handler failed', code: 'handler_failed' });
      expect(JSON.stringify(answer.body)).not.toMatch(/hunter2|at /);
      expect(app.errors).toHaveLength(1);
      expect(app.errors[0]).toBeInstanceOf(WebhookHandlerError);
      expect((app.errors[0] as WebhookHandlerError).errors).toEqual([failure]);
    });

    it('a dedupe store that is unreachable: 503 store_unavailable with Retry-After, nothing processed, no internals', async () => {
      const app = await run({ dedupe: { claim: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) } });
      const answer = await post(app.url, added());
      expectErrorAnswer(answer, 'store_unavailable');
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(JSON.stringify(answer.body)).not.toContain('ECONNREFUSED');
      expect(app.runs).toEqual([]);
      expect(app.errors.map((error) => error.code)).toEqual(['store_unavailable']);
    });
  });

  if (parsedFirst) return;

  describe('408, and a client gone', () => {
    it(`a body that stops arriving: 408 body_timeout after bodyTimeout${fetchHandler ? '' : ', and the connection closed'}`, async () => {
      const app = await run();
      const connection = await connectRaw(app.port);
      onTestFinished(() => connection.destroy());
      await connection.write(
        `POST ${WEBHOOK_PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"event":`,
      );
      const answer = await connection.response();
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body)).toEqual({ error: 'Request body not received within 300 ms', code: 'body_timeout' });
      if (!fetchHandler) expect(answer.headers['connection']).toBe('close');
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
  });
}
