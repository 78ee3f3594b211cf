import http from 'node:http';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, type ReceiverOptions, type SchemaMap, type WebhookError } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { deliveryCases } from '../helpers/delivery-cases.js';
import { frameworkNames, frameworks, WEBHOOK_PATH, type FrameworkName } from '../helpers/frameworks.js';
import { listen } from '../helpers/http.js';

// webhooks.middleware() in node:http, Express 5, Express 4 and Connect: the status table
// (helpers/delivery-cases.ts) in each, then what is particular to the node middleware: how it
// reads Content-Type, the raw bytes it verifies, and mounting next to body parsers.

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

describe.each(frameworkNames)('middleware in %s', (framework) => {
  deliveryCases((webhooks) => listen(frameworks[framework](webhooks.middleware())));

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

  it('accepts either secret during a rotation', async () => {
    const { post, runs } = setup(framework, { secret: ['new-secret', 'old-secret'] });
    const now = Date.now();
    for (const [index, key] of ['old-secret', 'new-secret'].entries()) {
      // A timestamp of its own: two bodies made in the same millisecond would be one delivery (a duplicate).
      const timestamp = new Date(now + index);
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
