import http from 'node:http';
import { networkInterfaces } from 'node:os';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type Inspector, type InspectorOptions } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { listen } from '../helpers/http.js';

// Who the inspector answers, over real HTTP (node) and through its Fetch handler, and when it
// refuses to start. The server listens on 127.0.0.1 only; a non-loopback client is made by
// binding the client's socket to this machine's own non-loopback address, so the request still
// goes to 127.0.0.1 but its remote address, as the server's socket sees it, is not a loopback one.

const secret = 'whsec_inspector_guard';
const data = sampleEvents['chat.message.received'];

/** This machine's first non-loopback IPv4 address, if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal)?.address;

const opened: { close: () => Promise<void>; inspector: Inspector }[] = [];
afterEach(async () => {
  for (const { close, inspector } of opened.splice(0)) {
    inspector.close();
    await close();
  }
});

async function serve(options: InspectorOptions = {}) {
  const webhooks = createWebhookReceiver({ secret });
  const runs: string[] = [];
  webhooks.onAny((event) => void runs.push(event.event));
  const inspector = webhooks.inspector(options);
  const app = express().use('/inspector', inspector).use('/webhooks', webhooks.middleware());
  const { origin, close } = await listen(http.createServer(app));
  opened.push({ close, inspector });
  return { webhooks, inspector, origin, port: Number(new URL(origin).port), runs };
}

/** A raw request to 127.0.0.1 (so any Host header can be sent), optionally from another local address. */
function get(port: number, path: string, { headers = {}, localAddress, method = 'GET' }: { headers?: Record<string, string>; localAddress?: string | undefined; method?: string } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method, headers, ...(localAddress && { localAddress }) }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject).end();
  });
}

describe('the inspector answers loopback clients only', () => {
  it('serves the page and its list to a loopback client', async () => {
    const { port } = await serve();
    expect((await get(port, '/inspector/')).status).toBe(200);
    expect((await get(port, '/inspector/api/deliveries')).status).toBe(200);
    expect((await get(port, '/inspector/api/deliveries?fresh=1')).status).toBe(200);
    expect(await get(port, '/inspector/', { method: 'HEAD' })).toEqual({ status: 200, body: '' });
  });

  it.skipIf(externalAddress === undefined)('refuses a request whose socket comes from a non-loopback address', async () => {
    const { port } = await serve();
    for (const path of ['/inspector/', '/inspector/api/deliveries', '/inspector/api/stream']) {
      const answer = await get(port, path, { localAddress: externalAddress });
      expect(answer.status, path).toBe(403);
      expect(answer.body).toContain(`this request came from ${externalAddress}`);
    }
    const sample = await get(port, '/inspector/api/sample/chat.message.received', { localAddress: externalAddress, method: 'POST', headers: { 'x-inspector-page': '1' } });
    expect(sample.status).toBe(403);
  });

  it.skipIf(externalAddress === undefined)('answers that client with allowRemote: true', async () => {
    const { port } = await serve({ allowRemote: true });
    expect((await get(port, '/inspector/api/deliveries', { localAddress: externalAddress })).status).toBe(200);
  });

  it('refuses a loopback request for a host name that is not a loopback one (DNS rebinding), or one through a proxy', async () => {
    const { port } = await serve();
    const rebound = await get(port, '/inspector/api/deliveries', { headers: { host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('attacker.example');
    const tunnelled = await get(port, '/inspector/api/deliveries', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(tunnelled.status).toBe(403);
    expect(tunnelled.body).toContain('proxy or tunnel');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `app.localhost:${port}`]) {
      expect((await get(port, '/inspector/api/deliveries', { headers: { host } })).status, host).toBe(200);
    }
  });

  it("takes actions only from the page itself: its header, its origin", async () => {
    const { port, runs } = await serve();
    const path = '/inspector/api/sample/chat.message.received';
    expect((await get(port, path, { method: 'POST' })).status).toBe(403); // a cross-site form can send no custom header
    expect((await get(port, path, { method: 'POST', headers: { 'x-inspector-page': '1', origin: 'http://attacker.example' } })).status).toBe(403);
    expect((await get(port, path, { method: 'POST', headers: { 'x-inspector-page': '1', 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await get(port, path, { method: 'GET' })).status).toBe(405);
    expect(runs).toEqual([]);
    const own = await get(port, path, { method: 'POST', headers: { 'x-inspector-page': '1', origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' } });
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ status: 200, outcome: 'handled', seq: 1 });
    expect(runs).toEqual(['chat.message.received']);
  });
});

describe('the Fetch handler, which sees no socket', () => {
  const page = (host = 'localhost:3000') => new Request(`http://${host}/inspector/`, { headers: { host } });

  it('refuses every request unless it is told the client address, or allowRemote', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const refused = await webhooks.inspector().fetch(page());
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('clientAddress');
    expect((await webhooks.inspector({ allowRemote: true }).fetch(page())).status).toBe(200);
  });

  it('uses clientAddress, or its second argument (Deno.serve info, Bun.serve server, or the address itself)', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const told = (address: string) => webhooks.inspector({ clientAddress: () => address });
    expect((await told('127.0.0.1').fetch(page())).status).toBe(200);
    expect((await told('::1').fetch(page())).status).toBe(200);
    expect((await told('10.1.2.3').fetch(page())).status).toBe(403);
    const inspector = webhooks.inspector();
    expect((await inspector.fetch(page(), { remoteAddr: { hostname: '127.0.0.1' } })).status).toBe(200);
    expect((await inspector.fetch(page(), { remoteAddr: { hostname: '192.0.2.10' } })).status).toBe(403);
    expect((await inspector.fetch(page(), { requestIP: () => ({ address: '::ffff:127.0.0.1' }) })).status).toBe(200);
    expect((await inspector.fetch(page(), { requestIP: () => null })).status).toBe(403);
    expect((await inspector.fetch(page(), { clientAddress: '127.0.0.1' })).status).toBe(200);
    expect((await inspector.fetch(page(), { clientAddress: '203.0.113.7' })).status).toBe(403);
    expect((await inspector.fetch(page(), { clientAddress: undefined })).status).toBe(403);
    expect((await told('127.0.0.1').fetch(page('attacker.example'))).status).toBe(403);
  });

  it('streams deliveries as Server-Sent Events', async () => {
    const webhooks = createWebhookReceiver({ secret });
    const inspector = webhooks.inspector({ clientAddress: () => '127.0.0.1' });
    const response = await inspector.fetch(new Request('http://localhost/inspector/api/stream', { headers: { host: 'localhost' } }));
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const { body, headers } = createDelivery('chat.message.received', data, { secret });
    await webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    let text = '';
    while (!text.includes('event: delivery')) text += (await reader.read()).value ?? '';
    while (!text.endsWith('\n\n')) text += (await reader.read()).value ?? '';
    const line = text.split('\n').find((l) => l.startsWith('data: '))!;
    expect(JSON.parse(line.slice(6))).toMatchObject({ seq: 1, event: 'chat.message.received', status: 200, outcome: 'handled' });
    inspector.close();
    expect((await reader.read()).done).toBe(true);
  });
});

describe('recording', () => {
  it('records nothing before the inspector is mounted, nor after it is closed', async () => {
    const webhooks = createWebhookReceiver({ secret, dedupe: false });
    let ran = 0;
    webhooks.on('chat.message.received', () => void ran++);
    const send = async () => {
      const { body, headers } = createDelivery('chat.message.received', data, { secret });
      return webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    };
    await send();
    const inspector = webhooks.inspector({ allowRemote: true });
    const list = async () => ((await (await inspector.fetch(new Request('http://localhost/i/api/deliveries'))).json()) as { deliveries: { seq: number }[] }).deliveries;
    expect(await list()).toEqual([]);
    await send();
    expect((await list()).map((d) => d.seq)).toEqual([1]);
    inspector.close();
    await send();
    expect((await list()).map((d) => d.seq)).toEqual([1]);
    expect(ran).toBe(3);
  });

  it('keeps the last `limit` deliveries', async () => {
    const webhooks = createWebhookReceiver({ secret, dedupe: false });
    const inspector = webhooks.inspector({ allowRemote: true, limit: 3 });
    for (let i = 0; i < 5; i++) {
      const { body, headers } = createDelivery('chat.message.received', { ...data, message: `m${i}` }, { secret });
      await webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    }
    const { deliveries } = (await (await inspector.fetch(new Request('http://localhost/i/api/deliveries'))).json()) as { deliveries: { seq: number }[] };
    expect(deliveries.map((d) => d.seq)).toEqual([5, 4, 3]);
    expect((await inspector.fetch(new Request('http://localhost/i/api/deliveries/2'))).status).toBe(404);
  });
});

describe('under NODE_ENV=production', () => {
  const previous = process.env['NODE_ENV'];
  afterEach(() => {
    if (previous === undefined) delete process.env['NODE_ENV'];
    else process.env['NODE_ENV'] = previous;
  });

  it('refuses to start, unless allowInProduction, and then says so', async () => {
    process.env['NODE_ENV'] = 'production';
    const webhooks = createWebhookReceiver({ secret });
    expect(() => webhooks.inspector()).toThrow(/refuses to start under NODE_ENV=production.*allowInProduction: true/);
    const inspector = webhooks.inspector({ allowInProduction: true, allowRemote: true });
    const { about } = (await (await inspector.fetch(new Request('http://localhost/i/api/deliveries'))).json()) as { about: { production: boolean } };
    expect(about.production).toBe(true);
  });
});
