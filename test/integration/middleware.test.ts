import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  createWebhookReceiver,
  signPayload,
  type EventName,
  type ReceiverOptions,
  type SchemaMap,
  type WebhookError,
} from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { frameworkNames, frameworks, WEBHOOK_PATH, type FrameworkName } from '../helpers/frameworks.js';

const secret = 'whsec_middleware';

/** A receiver mounted in one framework, recording every handler run and every reported error. */
function setup(framework: FrameworkName, options: ReceiverOptions<SchemaMap> = {}) {
  const webhooks = createWebhookReceiver({ secret, ...options });
  const runs: { event: string; data: unknown }[] = [];
  const errors: WebhookError[] = [];
  webhooks.onAny((event) => void runs.push({ event: event.event, data: event.data }));
  webhooks.onError((error) => void errors.push(error));
  const server = frameworks[framework](webhooks.middleware());
  const post = (body: string | Buffer, headers: Record<string, string>) => request(server).post(WEBHOOK_PATH).set(headers).send(body);
  return { webhooks, runs, errors, server, post };
}

const signedHeaders = (body: string | Buffer, key = secret) => ({
  'content-type': 'application/json',
  'x-webhook-signature': signPayload(body, key),
});

const eventNames = Object.keys(sampleEvents) as EventName[];

describe.each(frameworkNames)('middleware in %s', (framework) => {
  it.each(eventNames)('delivers %s to its handler exactly once with the exact data', async (name) => {
    const { webhooks, post, runs } = setup(framework);
    const typed: unknown[] = [];
    webhooks.on(name, (event) => void typed.push(event.data));
    const { body, headers } = createDelivery(name, sampleEvents[name], { secret });
    const res = await post(body, headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(typed).toEqual([sampleEvents[name]]);
    expect(runs).toEqual([{ event: name, data: sampleEvents[name] }]);
  });

  describe('401 without running a handler', () => {
    const { body } = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret });
    const cases: [string, Record<string, string>, string][] = [
      ['a forged signature', { 'x-webhook-signature': `sha256=${'ab'.repeat(32)}` }, body],
      ['one tampered byte', signedHeaders(body), body.replace('running', 'rUnning')],
      ['no signature header', {}, body],
      ['the wrong secret', signedHeaders(body, 'not-the-secret'), body],
      ['a short header (the docs snippet crash)', { 'x-webhook-signature': 'sha256=abc' }, body],
      ['a bare hex digest without the scheme', { 'x-webhook-signature': signPayload(body, secret).slice(7) }, body],
    ];
    it.each(cases)('%s', async (_, headers, sent) => {
      const { post, runs, errors } = setup(framework);
      const res = await post(sent, { 'content-type': 'application/json', ...headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'Invalid signature', code: 'invalid_signature' });
      expect(runs).toEqual([]);
      expect(errors.map((e) => e.code)).toEqual(['invalid_signature']);
    });
  });

  it('400 for a signed body that is not JSON, with no handler run', async () => {
    const { post, runs } = setup(framework);
    const body = '{"event": "product.added",';
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_json', error: expect.stringContaining('not valid JSON') });
    expect(res.text).not.toContain('product.added'); // V8's parse message would have quoted the body
    expect(runs).toEqual([]);
  });

  it('400 with issue paths for each schema failure', async () => {
    const { post, runs } = setup(framework);
    const body = JSON.stringify({
      event: 'chat.message.sent',
      timestamp: new Date().toISOString(),
      data: { sessionId: '', storeId: 'store_xyz', message: 7, products: [{ id: 'p', relevanceScore: 2 }] },
    });
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_payload');
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'data.message',
      'data.products.0.name',
      'data.products.0.relevanceScore',
      'data.sessionId',
    ]);
    for (const issue of res.body.issues) expect(issue.message).toEqual(expect.any(String));
    expect(runs).toEqual([]);
  });

  it('413 over the limit, announced by Content-Length', async () => {
    const { post, runs } = setup(framework, { limit: '1kb' });
    const body = JSON.stringify({ event: 'product.added', padding: 'x'.repeat(2000) });
    const res = await post(body, signedHeaders(body));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(runs).toEqual([]);
  });

  it('413 over the limit when the body is streamed without Content-Length', async () => {
    const { server, runs } = setup(framework, { limit: '1kb' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, path: WEBHOOK_PATH, method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-signature': 'sha256=00' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 4; i++) req.write('x'.repeat(512)); // chunked: no Content-Length
        req.end();
      });
      expect(status).toBe(413);
      expect(runs).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('415 for text/plain, and for a compressed body', async () => {
    const { post, runs } = setup(framework);
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    const plain = await post(body, { ...headers, 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.body.code).toBe('unsupported_media_type');
    const gzip = await post(body, { ...headers, 'content-encoding': 'gzip' });
    expect(gzip.status).toBe(415);
    expect(runs).toEqual([]);
  });

  it('accepts application/json with a UTF-8 charset and +json media types', async () => {
    const { post, runs } = setup(framework, { dedupe: false });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    expect((await post(body, { ...headers, 'content-type': 'application/json; charset=UTF-8' })).status).toBe(200);
    expect((await post(body, { ...headers, 'content-type': 'application/vnd.aicommerce+json' })).status).toBe(200);
    expect((await post(body, { ...headers, 'content-type': 'application/json; charset=latin1' })).status).toBe(415);
    expect(runs).toHaveLength(2);
  });

  it('reads Content-Type parameters as content-type does: quoted, unspaced, in any order', async () => {
    const { post, runs } = setup(framework, { dedupe: false });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    for (const type of ['application/json; charset="utf-8"', 'application/json;charset=utf8', 'application/json; version=2; Charset=UTF-8']) {
      expect([type, (await post(body, { ...headers, 'content-type': type })).status]).toEqual([type, 200]);
    }
    for (const type of ['application/json; charset="latin1"', 'application/json; version=2; charset=utf-16']) {
      expect([type, (await post(body, { ...headers, 'content-type': type })).status]).toEqual([type, 415]);
    }
    expect(runs).toHaveLength(3);
  });

  it('405 with Allow: POST for GET', async () => {
    const { server, runs } = setup(framework);
    const res = await request(server).get(WEBHOOK_PATH);
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('POST');
    expect(res.body.code).toBe('method_not_allowed');
    expect(runs).toEqual([]);
  });

  it('500 without internals when a handler throws, and onError is told', async () => {
    const { webhooks, post, errors } = setup(framework);
    webhooks.on('product.added', () => {
      throw new Error('database password is hunter2');
    });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    const res = await post(body, headers);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'Webhook handler failed', code: 'handler_failed' });
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('at ');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'handler_failed', errors: [expect.objectContaining({ message: 'database password is hunter2' })] });
  });

  it('200 ignored for an unknown event by default, 400 under unknownEvents: reject', async () => {
    const { body, headers } = createDelivery('order.created', { orderId: 'o1' }, { secret });
    const ignoring = setup(framework);
    const ignored = await ignoring.post(body, headers);
    expect(ignored.status).toBe(200);
    expect(ignored.body).toEqual({ received: true, ignored: true });
    expect(ignoring.runs).toEqual([]);
    const rejecting = setup(framework, { unknownEvents: 'reject' });
    const rejected = await rejecting.post(body, headers);
    expect(rejected.status).toBe(400);
    expect(rejected.body.code).toBe('unknown_event');
  });

  it('accepts either secret during a rotation', async () => {
    const { post, runs } = setup(framework, { secret: ['new-secret', 'old-secret'] });
    const now = Date.now();
    for (const [index, key] of ['old-secret', 'new-secret'].entries()) {
      // A timestamp of its own: two bodies made in the same millisecond would be one delivery (a duplicate).
      const timestamp = new Date(now - index);
      const { body, headers } = createDelivery('product.updated', sampleEvents['product.updated'], { secret: key, timestamp });
      expect((await post(body, headers)).status).toBe(200);
    }
    const { body, headers } = createDelivery('product.updated', sampleEvents['product.updated'], { secret: 'retired-secret' });
    expect((await post(body, headers)).status).toBe(401);
    expect(runs).toHaveLength(2);
  });

  it('verifies JSON whose bytes differ from JSON.stringify(JSON.parse(body))', async () => {
    const { post, runs } = setup(framework);
    // Escaped unicode, 1.0, spaces, newlines and key order that a re-serialisation would all change.
    const body = `{ "data" : {"storeId":"store_xyz","product":{"name":"Caf\\u00e9 \\u2615 \u{1F45F}","id":"prod_1","price":1.0 }},\n  "event":"product.added",\t"timestamp":"${new Date().toISOString()}"}`;
    expect(JSON.stringify(JSON.parse(body))).not.toBe(body);
    const res = await post(body, signedHeaders(body)); // a string: superagent would JSON-encode a Buffer
    expect(res.status).toBe(200);
    expect(runs).toEqual([{ event: 'product.added', data: { storeId: 'store_xyz', product: { name: 'Café ☕ 👟', id: 'prod_1', price: 1 } } }]);
  });

  it('answers a duplicate of a processed delivery with 200 duplicate and no second run', async () => {
    const { post, runs } = setup(framework);
    const { body, headers } = createDelivery('product.viewed', sampleEvents['product.viewed'], { secret });
    expect((await post(body, headers)).body).toEqual({ received: true });
    expect((await post(body, headers)).body).toEqual({ received: true, duplicate: true });
    expect(runs).toHaveLength(1);
  });
});

describe('mounting next to body parsers (Express 5)', () => {
  const delivery = () => createDelivery('product.added', sampleEvents['product.added'], { secret });

  function app(configure: (app: express.Express, middleware: ReturnType<ReturnType<typeof createWebhookReceiver>['middleware']>) => void) {
    const webhooks = createWebhookReceiver({ secret });
    const runs: unknown[] = [];
    webhooks.onAny((event) => void runs.push(event.data));
    webhooks.onError(() => {});
    const expressApp = express();
    configure(expressApp, webhooks.middleware());
    return { server: http.createServer(expressApp), runs };
  }

  it('works after express.json({ verify: rawBodySaver })', async () => {
    const { rawBodySaver } = await import('aicommerce-webhooks');
    const { server, runs } = app((a, mw) => a.use(express.json({ verify: rawBodySaver })).use(WEBHOOK_PATH, mw));
    const { body, headers } = delivery();
    expect((await request(server).post(WEBHOOK_PATH).set(headers).send(body)).status).toBe(200);
    expect(runs).toEqual([sampleEvents['product.added']]);
  });

  it('works after express.raw() and express.text() for JSON', async () => {
    for (const parser of [express.raw({ type: 'application/json' }), express.text({ type: 'application/json' })]) {
      const { server, runs } = app((a, mw) => a.use(parser).use(WEBHOOK_PATH, mw));
      const { body, headers } = delivery();
      expect((await request(server).post(WEBHOOK_PATH).set(headers).send(body)).status).toBe(200);
      expect(runs).toHaveLength(1);
    }
  });

  it('answers 500 misconfigured, saying how to mount it, after express.json() without a raw copy', async () => {
    const { server, runs } = app((a, mw) => a.use(express.json()).use(WEBHOOK_PATH, mw));
    const { body, headers } = delivery();
    const res = await request(server).post(WEBHOOK_PATH).set(headers).send(body);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('misconfigured');
    expect(res.body.error).toMatch(/before express\.json\(\).*rawBodySaver/);
    expect(runs).toEqual([]);
  });

  it('still reads the stream when a parser for another type ran first (Express 4 sets req.body = {})', async () => {
    const { default: express4 } = await import('express4');
    const webhooks = createWebhookReceiver({ secret });
    const runs: unknown[] = [];
    webhooks.onAny((event) => void runs.push(event));
    const server = http.createServer(express4().use(express4.urlencoded({ extended: false })).use(WEBHOOK_PATH, webhooks.middleware()));
    const { body, headers } = delivery();
    expect((await request(server).post(WEBHOOK_PATH).set(headers).send(body)).status).toBe(200);
    expect(runs).toHaveLength(1);
  });

  it('with app.post(path, middleware) other routes are untouched', async () => {
    const { server, runs } = app((a, mw) => {
      a.post(WEBHOOK_PATH, mw);
      a.get('/health', (_req, res) => void res.send('ok'));
    });
    expect((await request(server).get('/health')).text).toBe('ok');
    const { body, headers } = delivery();
    expect((await request(server).post(WEBHOOK_PATH).set(headers).send(body)).status).toBe(200);
    expect(runs).toHaveLength(1);
  });
});

describe('the path option', () => {
  it('handles only its path and passes other requests to next()', async () => {
    const webhooks = createWebhookReceiver({ secret, path: '/hooks/aicommerce/' });
    const expressApp = express().use(webhooks.middleware());
    expressApp.post('/other', (_req, res) => void res.status(204).end());
    const server = http.createServer(expressApp);
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    expect((await request(server).post('/hooks/aicommerce?x=1').set(headers).send(body)).status).toBe(200);
    expect((await request(server).post('/other').send('{}')).status).toBe(204);
  });

  it('answers 404 for other paths on a bare node:http server', async () => {
    const webhooks = createWebhookReceiver({ secret, path: '/hooks' });
    const res = await request(http.createServer(webhooks.middleware())).post('/elsewhere').send('{}');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Not found', code: 'not_found' });
  });
});
