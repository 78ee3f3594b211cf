import http from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type EventName } from 'aicommerce-webhooks';
import { createDelivery, createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';

// webhooks.fetchHandler() inside Hono, served by @hono/node-server over HTTP on loopback.
// Request and Response objects alone, no server: test/unit/fetch.test.ts.

const secret = 'fetch-secret';
const events = Object.keys(sampleEvents) as EventName[];
const message = sampleEvents['chat.message.received'];

describe('fetchHandler() inside Hono, over HTTP', () => {
  const path = '/webhooks/aicommerce';
  let url: string;
  let close: () => Promise<void>;
  const seen: { event: string; data: unknown }[] = [];
  let failNext = false;

  beforeAll(async () => {
    const webhooks = createWebhookReceiver({ secret, limit: '16kb', bodyTimeout: 200 });
    webhooks.onAny((event) => {
      seen.push({ event: event.event, data: event.data });
      if (failNext) {
        failNext = false;
        throw new Error('internal detail');
      }
    });
    webhooks.onError(() => {});
    const handler = webhooks.fetchHandler();
    const app = new Hono();
    app.all(path, (c) => handler(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}${path}`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());
  });
  afterAll(() => close());

  it('delivers each of the seven events from the sender emulator to the handler', async () => {
    seen.length = 0;
    const aicommerce = createTestSender({ retries: 0 });
    await aicommerce.webhooks.create({ url, events, secret });
    for (const event of events) {
      const [report] = await aicommerce.send(event, sampleEvents[event]);
      expect(report?.attempts.map((a) => [a.status, a.response])).toEqual([[200, { received: true }]]);
    }
    expect(seen).toEqual(events.map((event) => ({ event, data: sampleEvents[event] })));
  });

  it('answers forged 401, GET 405 with Allow, text/plain 415, a failing handler 500 then the retry 200', async () => {
    seen.length = 0;
    const aicommerce = createTestSender({ retries: 1, baseDelayMs: 1 });
    const forged = await aicommerce.deliver(url, createDelivery('chat.message.received', message, { secret: 'guessed' }));
    expect(forged.attempts.map((a) => [a.status, a.response])).toEqual([
      [401, { error: 'Invalid signature', code: 'invalid_signature' }],
      [401, { error: 'Invalid signature', code: 'invalid_signature' }],
    ]);

    const get = await fetch(url);
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    await get.body?.cancel();

    const text = await fetch(url, { method: 'POST', body: 'hi', headers: { 'content-type': 'text/plain' } });
    expect([text.status, ((await text.json()) as { code: string }).code]).toEqual([415, 'unsupported_media_type']);

    failNext = true;
    const retried = await aicommerce.deliver(url, createDelivery('product.added', sampleEvents['product.added'], { secret }));
    expect(retried.attempts.map((a) => [a.status, a.response])).toEqual([
      [500, { error: 'Webhook handler failed', code: 'handler_failed' }],
      [200, { received: true }],
    ]);
    expect(seen.map((s) => s.event)).toEqual(['product.added', 'product.added']);
  });

  it('413 for a chunked upload past the limit and for a declared length over it; 408 for a body that stalls', async () => {
    const headers = { 'content-type': 'application/json' };
    const chunked = await rawPost(url, { ...headers, 'transfer-encoding': 'chunked' }, Array(40).fill('x'.repeat(1024)), true);
    expect([chunked.status, chunked.json['code']]).toEqual([413, 'payload_too_large']);
    const declared = await rawPost(url, { ...headers, 'content-length': String(1024 * 1024) }, ['{'], false);
    expect([declared.status, declared.json['code']]).toEqual([413, 'payload_too_large']);
    const slow = await rawPost(url, { ...headers, 'content-length': '100' }, ['{"event":'], false);
    expect([slow.status, slow.json['code']]).toEqual([408, 'body_timeout']);
  });
});

/** A POST written part by part with node:http, optionally never finished, for uploads fetch() can't make. */
function rawPost(url: string, headers: Record<string, string>, parts: string[], end: boolean) {
  return new Promise<{ status: number | undefined; json: Record<string, unknown> }>((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers, agent: false });
    request.once('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.once('end', () => {
        resolve({ status: response.statusCode, json: JSON.parse(text) as Record<string, unknown> });
        request.destroy();
      });
    });
    request.once('error', reject);
    for (const part of parts) request.write(part);
    if (end) request.end();
  });
}
