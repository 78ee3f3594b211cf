import { createRequire } from 'node:module';
import Router from '@koa/router';
import Koa from 'koa';
import koaBodyparser from 'koa-bodyparser';
import { describe, expect, it } from 'vitest';
import type { WebhookReceiver } from 'aicommerce-webhooks';
import { koaWebhooks } from 'aicommerce-webhooks/koa';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { deliveryCases, secret, start, type Mount } from '../helpers/delivery-cases.js';
import { WEBHOOK_PATH } from '../helpers/frameworks.js';
import { listen, post } from '../helpers/http.js';

// @koa/bodyparser and koa-body declare `rawBody` on Node's own IncomingMessage in their types
// (a global augmentation that would retype every request in this project); loaded untyped here.
const require = createRequire(import.meta.url);
const { bodyParser: koaBodyParser } = require('@koa/bodyparser') as { bodyParser: () => Koa.Middleware };
const { koaBody } = require('koa-body') as { koaBody: (options?: { includeUnparsed?: boolean }) => Koa.Middleware };

/** A Koa app built by `configure`, with a JSON route at /orders after it, on a free port. */
function koaApp(configure: (app: Koa, webhooks: WebhookReceiver) => void): Mount {
  return async (webhooks) => {
    const app = new Koa();
    app.silent = true; // Koa prints the socket error of a client that hangs up mid-body; the test checks onError instead
    configure(app, webhooks);
    app.use((ctx) => {
      if (ctx.method === 'POST' && ctx.path === '/orders') ctx.body = { order: ctx.request.body ?? null };
    });
    return listen(app.callback());
  };
}

const withRouter = koaApp((app, webhooks) => {
  const router = new Router();
  // all(), not post(): a GET then gets the webhook's 405 with `Allow: POST`.
  router.all(WEBHOOK_PATH, koaWebhooks(webhooks));
  app.use(router.routes());
});

describe("koaWebhooks in Koa 3 with app.use() and the receiver's path option", () => {
  deliveryCases(koaApp((app, webhooks) => app.use(koaWebhooks(webhooks))), { path: WEBHOOK_PATH });
});

describe('koaWebhooks on a @koa/router route', () => {
  deliveryCases(withRouter);
});

describe('koaWebhooks beside the rest of a Koa app', () => {
  const order = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"prod_1"}' };

  it('with path: other paths go to next(), and the body parser after it still parses them', async () => {
    const app = await start(
      koaApp((instance, webhooks) => {
        instance.use(koaWebhooks(webhooks));
        instance.use(koaBodyparser());
      }),
      { path: WEBHOOK_PATH },
    );
    expect(await (await fetch(`${app.origin}/orders`, order)).json()).toEqual({ order: { sku: 'prod_1' } });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    expect((await post(app.url, { body, headers })).status).toBe(200);
    expect((await post(`${app.url}/`, { body, headers })).body).toEqual({ received: true, duplicate: true }); // one path, with or without the slash
    expect(app.runs).toHaveLength(1);
    expect(app.errors).toEqual([]);
  });

  it('without path and without a router, every request that reaches it is taken for a delivery', async () => {
    const app = await start(koaApp((instance, webhooks) => instance.use(koaWebhooks(webhooks))));
    const answer = await post(`${app.origin}/orders`, { body: '{"sku":"prod_1"}', headers: { 'content-type': 'application/json' } });
    expect(answer).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
  });

  it('on a router, the routes beside it are untouched', async () => {
    const app = await start(
      koaApp((instance, webhooks) => {
        const router = new Router();
        router.all(WEBHOOK_PATH, koaWebhooks(webhooks));
        router.post('/orders', koaBodyparser(), (ctx) => void (ctx.body = { routed: ctx.request.body }));
        instance.use(router.routes());
      }),
    );
    expect(await (await fetch(`${app.origin}/orders`, order)).json()).toEqual({ routed: { sku: 'prod_1' } });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    expect((await post(app.url, { body, headers })).status).toBe(200);
  });
});

describe('koaWebhooks after a body parser', () => {
  const parsers: [string, () => Koa.Middleware][] = [
    ['@koa/bodyparser', () => koaBodyParser()],
    ['koa-bodyparser', () => koaBodyparser()],
    ['koa-body with includeUnparsed: true', () => koaBody({ includeUnparsed: true })],
  ];

  describe.each(parsers)('%s (keeps ctx.request.rawBody)', (_, parser) => {
    const mount = koaApp((app, webhooks) => app.use(parser()).use(koaWebhooks(webhooks)));

    it('a signed delivery is verified on the raw copy and handled; a forged one is 401', async () => {
      const app = await start(mount, { path: WEBHOOK_PATH });
      const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
      expect(await post(app.url, { body, headers })).toMatchObject({ status: 200, body: { received: true } });
      expect(app.runs).toEqual([sampleEvents['product.added']]);
      const forged = createDelivery('product.added', sampleEvents['product.added'], { secret: 'guessed' });
      expect(await post(app.url, forged)).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    });

    it("a body it cannot parse is the parser's answer (400, not the receiver's format), before the middleware", async () => {
      const app = await start(mount, { path: WEBHOOK_PATH });
      const body = '{"event": "product.added",';
      const answer = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-signature': `sha256=${'0'.repeat(64)}` }, body });
      expect(answer.status).toBe(400);
      expect(await answer.text()).toBe('Bad Request');
      expect(app.errors).toEqual([]); // the receiver never saw it
    });

    it('the copy is verified, not trusted: one changed byte is 401', async () => {
      const app = await start(mount, { path: WEBHOOK_PATH });
      const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
      expect((await post(app.url, { body: body.replace('prod_new', 'prod_neW'), headers })).status).toBe(401);
      expect(app.runs).toEqual([]);
    });
  });

  it('koa-body without includeUnparsed (no raw copy): 500 misconfigured saying how to mount it, no handler run', async () => {
    const app = await start(koaApp((instance, webhooks) => instance.use(koaBody()).use(koaWebhooks(webhooks))), { path: WEBHOOK_PATH });
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    const answer = await post(app.url, { body, headers });
    expect(answer).toMatchObject({ status: 500, body: { code: 'misconfigured' } });
    // The help says what to do, whatever its wording: mount it first, or keep a raw copy.
    const help = (answer.body as { error: string }).error;
    expect(help).toContain('app.use(koaWebhooks(webhooks)) before the body parser');
    expect(help).toContain('ctx.request.rawBody');
    expect(help).toContain('koaBody({ includeUnparsed: true })');
    expect(app.runs).toEqual([]);
    expect(app.errors.map((error) => error.code)).toEqual(['misconfigured']);
  });
});

describe('koaWebhooks given something that is not a receiver', () => {
  it('throws a TypeError at once', () => {
    expect(() => koaWebhooks({} as WebhookReceiver<never>)).toThrow(new TypeError('Expected a receiver made by createWebhookReceiver()'));
  });
});
