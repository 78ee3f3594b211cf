import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Module, type MiddlewareConsumer, type NestModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { describe, expect, it } from 'vitest';
import type { WebhookReceiver } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { AppModule, OrdersController } from '../../examples/nestjs-server.js';
import { deliveryCases, secret, start, type Mount } from '../helpers/delivery-cases.js';
import { WEBHOOK_PATH } from '../helpers/frameworks.js';
import { post } from '../helpers/http.js';

// NestJS 12 on the Express platform, mounted both ways a Nest app mounts middleware. Decorators
// are called as functions, as in examples/nestjs-server.ts (no decorator compiler options).

/** The middleware applied in the module: `consumer.apply(webhooks.middleware()).forRoutes('webhooks/aicommerce')`. */
function moduleWithWebhooks(webhooks: WebhookReceiver): Type<NestModule> {
  class WebhookAppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(webhooks.middleware()).forRoutes('webhooks/aicommerce');
    }
  }
  Module({ controllers: [OrdersController] })(WebhookAppModule);
  return WebhookAppModule;
}

function nestApp({ rawBody, mount }: { rawBody: boolean; mount: 'app.use' | 'module' }): Mount {
  return async (webhooks) => {
    const app = await NestFactory.create<NestExpressApplication>(mount === 'module' ? moduleWithWebhooks(webhooks) : AppModule, { rawBody, logger: false });
    if (mount === 'app.use') app.use(WEBHOOK_PATH, webhooks.middleware()); // as examples/nestjs-server.ts does
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { origin: `http://127.0.0.1:${port}`, close: () => app.close() };
  };
}

const delivery = () => createDelivery('product.added', sampleEvents['product.added'], { secret });
const order = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"prod_1"}' };

describe('NestJS, NestFactory.create(AppModule, { rawBody: true }) and app.use(path, middleware) before listen()', () => {
  deliveryCases(nestApp({ rawBody: true, mount: 'app.use' }));

  it('the controllers still get parsed JSON bodies', async () => {
    const app = await start(nestApp({ rawBody: true, mount: 'app.use' }));
    const response = await fetch(`${app.origin}/orders`, order);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ order: { sku: 'prod_1' } });
  });

  it('needs no rawBody: the middleware runs ahead of the JSON parser Nest adds at listen()', async () => {
    const app = await start(nestApp({ rawBody: false, mount: 'app.use' }));
    const { body, headers } = delivery();
    expect(await post(app.url, { body, headers })).toMatchObject({ status: 200, body: { received: true } });
    expect(app.runs).toEqual([sampleEvents['product.added']]);
  });
});

describe('NestJS, NestFactory.create(AppModule, { rawBody: true }) and MiddlewareConsumer.apply(middleware).forRoutes(path)', () => {
  deliveryCases(nestApp({ rawBody: true, mount: 'module' }), {}, { parsedFirst: true });

  it("the controllers still get parsed JSON bodies", async () => {
    const app = await start(nestApp({ rawBody: true, mount: 'module' }));
    expect(await (await fetch(`${app.origin}/orders`, order)).json()).toEqual({ order: { sku: 'prod_1' } });
  });

  it("a body Nest's JSON parser rejects is Nest's answer (its format, its message quoting the body), before the middleware", async () => {
    const app = await start(nestApp({ rawBody: true, mount: 'module' }));
    const body = 'not json at all';
    const answer = await post(app.url, { body, headers: { 'content-type': 'application/json', 'x-webhook-signature': `sha256=${'0'.repeat(64)}` } });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining('"not json at all"') });
    expect(app.errors).toEqual([]); // the receiver never saw it
  });
});

describe('NestJS without rawBody: true, the middleware applied in the module', () => {
  it('500 misconfigured, saying what to change, and no handler run', async () => {
    const app = await start(nestApp({ rawBody: false, mount: 'module' }));
    const { body, headers } = delivery();
    const answer = await post(app.url, { body, headers });
    expect(answer).toMatchObject({ status: 500, body: { code: 'misconfigured' } });
    // The help names both ways out, whatever its wording: rawBody: true, or app.use() before listen().
    const help = (answer.body as { error: string }).error;
    expect(help).toContain('{ rawBody: true }');
    expect(help).toContain('app.use() before app.listen()');
    expect(app.runs).toEqual([]);
  });
});
