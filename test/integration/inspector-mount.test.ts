import http from 'node:http';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import connect from 'connect';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type Inspector } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { listen } from '../helpers/http.js';

// The inspector mounted in each framework the way docs/inspector.md says, over real HTTP on
// 127.0.0.1: the page, its list (at the page's own relative URL, with and without the trailing
// slash), an action, and a delivery that shows up in the list.

const secret = 'whsec_inspector_mount';
const MOUNT = '/webhooks/inspector';

type Mount = (inspector: Inspector) => Promise<{ origin: string; close: () => Promise<void> }>;

const mounts: Record<string, Mount> = {
  'express 5': (inspector) => listen(http.createServer(express().use(MOUNT, inspector))),
  'express 4': (inspector) => listen(http.createServer(express4().use(MOUNT, inspector))),
  connect: (inspector) => listen(http.createServer(connect().use(MOUNT, inspector))),
  'node:http': (inspector) =>
    listen(http.createServer((req, res) => (req.url?.startsWith(MOUNT) ? inspector(req, res) : res.writeHead(404).end()))),
  'fastify 5': async (inspector) => {
    const app = Fastify();
    const inspect = (request: { raw: http.IncomingMessage }, reply: { hijack(): void; raw: http.ServerResponse }) => {
      reply.hijack();
      inspector(request.raw, reply.raw);
    };
    app.all(MOUNT, inspect);
    app.all(`${MOUNT}/*`, inspect);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    return { origin: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
  'koa 3': (inspector) => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (!ctx.path.startsWith(MOUNT)) return next();
      ctx.respond = false; // the inspector writes the response itself
      inspector(ctx.req, ctx.res);
    });
    return listen(http.createServer(app.callback()));
  },
  'hono (Fetch)': async (inspector) => {
    const app = new Hono();
    app.all(`${MOUNT}/*`, (c) => inspector.fetch(c.req.raw, { clientAddress: getConnInfo(c).remote.address }));
    app.all(MOUNT, (c) => inspector.fetch(c.req.raw, { clientAddress: getConnInfo(c).remote.address }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    return { origin: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()) };
  },
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe.each(Object.keys(mounts))('the inspector mounted in %s', (name) => {
  it('serves the page, its list, its stream and its actions under the mount path', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const ran: string[] = [];
    webhooks.onAny((event) => void ran.push(event.event));
    const inspector = webhooks.inspector();
    const { origin, close } = await mounts[name]!(inspector);
    closers.push(async () => {
      inspector.close();
      await close();
    });

    for (const page of [`${origin}${MOUNT}`, `${origin}${MOUNT}/`]) {
      const response = await fetch(page);
      expect(response.status, page).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await response.text()).toContain('<title>Webhook inspector');
    }
    const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
    await webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    // The page's script asks `api/…` relative to the page: `…/inspector/api/…` either way.
    const list = await fetch(`${origin}${MOUNT}/api/deliveries`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { deliveries: { event: string }[] }).deliveries.map((d) => d.event)).toEqual(['product.added']);

    const stream = await fetch(`${origin}${MOUNT}/api/stream`);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = stream.body!.getReader();
    const sample = await fetch(`${origin}${MOUNT}/api/sample/chat.message.received`, { method: 'POST', headers: { 'x-inspector-page': '1' } });
    expect(sample.status).toBe(200);
    expect(await sample.json()).toMatchObject({ status: 200, outcome: 'handled', seq: 2 });
    expect(ran).toEqual(['product.added', 'chat.message.received']);
    let text = '';
    while (!text.includes('"seq":2')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
  });
});
