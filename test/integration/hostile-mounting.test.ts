import http from 'node:http';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, rawBodySaver, type WebhookEvent } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { SECRET } from '../helpers/deliveries.js';
import { WEBHOOK_PATH } from '../helpers/frameworks.js';

// A body parser mounted before the webhook middleware is the most common mistake with webhook
// receivers (peers.md §6.1). Without a raw copy it must be a loud 500 that says how to fix it,
// never a hang and never a 401 that sends the user hunting for a wrong secret.

const expressVersions = { 'express 5': express, 'express 4': express4 } as const;
type Parser = express.RequestHandler;

function appWith(version: keyof typeof expressVersions, parsers: Parser[]) {
  const webhooks = createWebhookReceiver({ secret: SECRET });
  const handled: WebhookEvent<'chat.message.received'>[] = [];
  webhooks.on('chat.message.received', (event) => void handled.push(event));
  const app = expressVersions[version]();
  for (const parser of parsers) app.use(parser);
  app.use(WEBHOOK_PATH, webhooks.middleware());
  return { server: http.createServer(app), handled };
}

const fresh = (message: string) =>
  createDelivery('chat.message.received', { ...sampleEvents['chat.message.received'], message }, { secret: SECRET });

describe.each(Object.keys(expressVersions) as (keyof typeof expressVersions)[])('%s', (version) => {
  it('express.json() first, no raw copy: 500 misconfigured saying how to mount it, promptly, no handler run', async () => {
    const { server, handled } = appWith(version, [express.json()]);
    const { body, headers } = fresh('parsed first');
    const started = Date.now();
    const response = await request(server).post(WEBHOOK_PATH).set(headers).send(body).timeout(5_000);
    expect(response.status).toBe(500);
    expect(response.body.code).toBe('misconfigured');
    expect(response.body.error).toMatch(/before express\.json\(\)/);
    expect(response.body.error).toMatch(/express\.json\(\{ verify: rawBodySaver \}\)/);
    expect(Date.now() - started).toBeLessThan(5_000); // answered, not left to time out
    expect(handled).toEqual([]);
  });

  it('express.json({ verify: rawBodySaver }) first: verified on the raw bytes, handled', async () => {
    const { server, handled } = appWith(version, [express.json({ verify: rawBodySaver })]);
    const { body, headers } = fresh('saved raw');
    const response = await request(server).post(WEBHOOK_PATH).set(headers).send(body);
    expect(response.status).toBe(200);
    expect(handled.map((e) => e.data.message)).toEqual(['saved raw']);
  });

  it('express.raw() first: the Buffer is the raw body, handled', async () => {
    const { server, handled } = appWith(version, [express.raw({ type: 'application/json' })]);
    const { body, headers } = fresh('raw buffer');
    const response = await request(server).post(WEBHOOK_PATH).set(headers).send(body);
    expect(response.status).toBe(200);
    expect(handled.map((e) => e.data.message)).toEqual(['raw buffer']);
  });

  it('a middleware that rewrites req.body after parsing cannot change what handlers get', async () => {
    const tamper: Parser = (req, _res, next) => {
      (req.body as { data: { message: string } }).data.message = 'tampered';
      next();
    };
    const { server, handled } = appWith(version, [express.json({ verify: rawBodySaver }), tamper]);
    const { body, headers } = fresh('as signed');
    expect((await request(server).post(WEBHOOK_PATH).set(headers).send(body)).status).toBe(200);
    expect(handled.map((e) => e.data.message)).toEqual(['as signed']);
  });

  it('a tampered body with a raw copy is still a 401 (the copy is verified, not trusted)', async () => {
    const { server, handled } = appWith(version, [express.json({ verify: rawBodySaver })]);
    const { body, headers } = fresh('original');
    const response = await request(server).post(WEBHOOK_PATH).set(headers).send(body.replace('original', 'changed!'));
    expect(response.status).toBe(401);
    expect(handled).toEqual([]);
  });
});
