import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWebhookReceiver, type WebhookReceiver } from 'aicommerce-webhooks';
import { fastifyWebhooks } from 'aicommerce-webhooks/fastify';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { deliveryCases, secret, start, type Mount } from '../helpers/delivery-cases.js';
import { WEBHOOK_PATH } from '../helpers/frameworks.js';
import { post } from '../helpers/http.js';

/** An app with a JSON route, then the plugin registered as the README shows. */
function fastifyApp(configure: (app: FastifyInstance, webhooks: WebhookReceiver) => PromiseLike<unknown>): Mount {
  return async (webhooks) => {
    const app = Fastify();
    app.post('/orders', async (request) => ({ order: request.body }));
    await configure(app, webhooks);
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    return { origin, close: () => app.close() };
  };
}

const withPath = fastifyApp((app, webhooks) => app.register(fastifyWebhooks, { receiver: webhooks, path: WEBHOOK_PATH }));

describe('fastifyWebhooks in Fastify 5, registered with { receiver, path }', () => {
  deliveryCases(withPath);
});

describe("fastifyWebhooks with the receiver's path option", () => {
  deliveryCases(fastifyApp((app, webhooks) => app.register(fastifyWebhooks, { receiver: webhooks })), { path: WEBHOOK_PATH });
});

describe('fastifyWebhooks under a prefix', () => {
  deliveryCases(fastifyApp((app, webhooks) => app.register(fastifyWebhooks, { receiver: webhooks, path: '/aicommerce', prefix: '/webhooks' })));
});

describe('fastifyWebhooks beside the rest of a Fastify app', () => {
  const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('JSON routes registered before and after the plugin still get parsed JSON', async () => {
    const app = await start(
      fastifyApp(async (instance, webhooks) => {
        await instance.register(fastifyWebhooks, { receiver: webhooks, path: WEBHOOK_PATH });
        instance.post('/after', async (request) => ({ after: request.body }));
      }),
    );
    const before = await fetch(`${app.origin}/orders`, json({ sku: 'prod_1', quantity: 2 }));
    expect(await before.json()).toEqual({ order: { sku: 'prod_1', quantity: 2 } });
    const after = await fetch(`${app.origin}/after`, json([1, 2]));
    expect(await after.json()).toEqual({ after: [1, 2] });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    expect((await post(app.url, { body, headers })).status).toBe(200);
    expect(app.runs).toEqual([sampleEvents['product.added']]);
  });

  it("the app's own content-type parsers and body limit apply to its routes, the receiver's limit to the webhook", async () => {
    const webhooks = createWebhookReceiver({ secret, limit: '4kb' });
    const app = Fastify({ bodyLimit: 100 });
    app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, text, done) => done(null, String(text).split(',')));
    app.post('/orders', async (request) => ({ order: request.body }));
    await app.register(fastifyWebhooks, { receiver: webhooks, path: WEBHOOK_PATH });
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => app.close());

    const csv = await fetch(`${origin}/orders`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' });
    expect(await csv.json()).toEqual({ order: ['a', 'b'] });
    const large = await fetch(`${origin}/orders`, json({ padding: 'x'.repeat(200) }));
    expect(large.status).toBe(413); // Fastify's bodyLimit, Fastify's answer
    expect(await large.json()).toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });

    const { body, headers } = createDelivery('product.added', { ...sampleEvents['product.added'], note: 'x'.repeat(200) }, { secret });
    expect((await post(`${origin}${WEBHOOK_PATH}`, { body, headers })).status).toBe(200); // over 100 bytes, under 4 kB
  });

  it("an error that is not about the delivery (a parent's auth hook) is answered by the app's error handler", async () => {
    const app = await start(
      fastifyApp(async (instance, webhooks) => {
        instance.setErrorHandler((error, _request, reply) => reply.code(403).send({ app: (error as Error).message }));
        instance.addHook('onRequest', async (request) => {
          if (request.headers['x-blocked'] !== undefined) throw new Error('blocked by the app');
        });
        await instance.register(fastifyWebhooks, { receiver: webhooks, path: WEBHOOK_PATH });
      }),
    );
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    const answer = await post(app.url, { body, headers: { ...headers, 'x-blocked': '1' } });
    expect(answer).toEqual(expect.objectContaining({ status: 403, body: { app: 'blocked by the app' } }));
    expect(app.runs).toEqual([]);
    expect((await post(app.url, { body, headers })).status).toBe(200);
  });

  it('other paths are the app\'s: 404 from Fastify, nothing reported', async () => {
    const app = await start(withPath);
    const response = await fetch(`${app.origin}/webhooks/other`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(app.errors).toEqual([]);
  });
});

describe('registering fastifyWebhooks wrongly', () => {
  it('without a path (neither the option nor the receiver has one): the app does not start, with a TypeError', async () => {
    const app = Fastify();
    app.register(fastifyWebhooks, { receiver: createWebhookReceiver({ secret }) });
    await expect(app.ready()).rejects.toThrow(new TypeError('fastifyWebhooks: give a path, or create the receiver with the path option'));
  });

  it('with something that is not a receiver: the app does not start, with a TypeError', async () => {
    const app = Fastify();
    app.register(fastifyWebhooks, { receiver: {} as WebhookReceiver<never>, path: WEBHOOK_PATH });
    await expect(app.ready()).rejects.toThrow(new TypeError('Expected a receiver made by createWebhookReceiver()'));
  });
});
