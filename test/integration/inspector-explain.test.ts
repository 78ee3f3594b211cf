import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, STATUS_BY_CODE, type ReceiverOptions, type SchemaMap, type WebhookErrorCode } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { listen } from '../helpers/http.js';

// "Why refused, in words": each rejection made for real (over HTTP to the middleware, or through
// receive()), then read back from the inspector as the page gets it. Every code of STATUS_BY_CODE
// that a delivery can be answered with is made at least once.

const secret = 'whsec_inspector_explain';
const data = sampleEvents['chat.message.received'];

interface Detail {
  status: number;
  code: string | null;
  explanation: { check: string; summary: string; details: string[] };
}

const seen = new Set<string>();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

/** A receiver with an inspector and its middleware on 127.0.0.1; `last()` is the newest delivery as the page reads it. */
async function setup(options: ReceiverOptions<SchemaMap> = {}) {
  const webhooks = createWebhookReceiver({ secret, ...options });
  webhooks.onError(() => {});
  const inspector = webhooks.inspector({ allowRemote: true });
  const { origin, close } = await listen(http.createServer(webhooks.middleware()));
  closers.push(async () => {
    inspector.close();
    await close();
  });
  const read = async <T>(path: string): Promise<T> => (await inspector.fetch(new Request(`http://localhost/i/api/${path}`))).json() as Promise<T>;
  const last = async (): Promise<Detail> => {
    const { deliveries } = await read<{ deliveries: { seq: number }[] }>('deliveries');
    const detail = await read<Detail>(`deliveries/${deliveries[0]!.seq}`);
    if (detail.code !== null) seen.add(detail.code);
    return detail;
  };
  const post = (body: string | Buffer, headers: Record<string, string>) => fetch(origin, { method: 'POST', body, headers });
  return { webhooks, origin, port: Number(new URL(origin).port), last, post };
}

const signed = (body: string | Buffer) => ({ 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, secret) });

/** Writes `head` and part of a body on a raw socket, then either hangs up or waits to be answered. */
function partial(port: number, head: string, body: string, hangUp: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`${head}\r\n\r\n${body}`);
      if (hangUp) setTimeout(() => (socket.destroy(), resolve()), 50);
    });
    socket.on('data', () => (socket.destroy(), resolve()));
    socket.on('error', () => resolve());
  });
}


describe('why a delivery was refused, in words', () => {
  it('the signature: missing, malformed, repeated, another secret, no secret from the resolver', async () => {
    const { last, post, webhooks } = await setup();
    const { body } = createDelivery('chat.message.received', data, { secret });
    await post(body, { 'content-type': 'application/json' });
    expect((await last()).explanation).toMatchObject({ check: 'signature', summary: 'no x-webhook-signature header' });
    await post(body, { 'content-type': 'application/json', 'x-webhook-signature': 'sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0' });
    const malformed = await last();
    expect(malformed.explanation.summary).toBe('malformed signature header');
    expect(malformed.explanation.details[0]).toContain('(scheme sha1)');
    await post(body, { 'content-type': 'application/json', 'x-webhook-signature': 'sha256=abc' });
    expect((await last()).explanation.details[0]).toBe('Expected sha256= and 64 hex digits; got "sha256=abc" (3 characters after sha256=).');
    await post(body, { 'content-type': 'application/json', 'x-webhook-signature': 'v'.repeat(100) });
    expect((await last()).explanation.details[0]).toBe(`Expected sha256= and 64 hex digits; got "${'v'.repeat(80)}…".`);
    await expect(webhooks.receive({ body, signature: [signPayload(body, secret), signPayload(body, secret)] })).rejects.toThrow();
    expect((await last()).explanation.summary).toBe('the x-webhook-signature header was sent 2 times');
    await post(body, { 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, 'another') });
    expect((await last()).explanation.summary).toBe('signed with another secret, or the body was changed after signing');

    const resolver = await setup({ secret: () => undefined });
    await resolver.post(body, signed(body));
    expect((await resolver.last()).explanation.summary).toBe('your secret resolver gave no secret for this request');
  });

  it('freshness: how old, or how far in the future, against the tolerance', async () => {
    const { last, post } = await setup({ tolerance: 120 });
    const old = createDelivery('chat.message.received', data, { secret, timestamp: new Date(Date.now() - 10 * 60_000) }).body;
    await post(old, signed(old));
    expect((await last()).explanation).toMatchObject({ check: 'freshness', summary: 'timestamp 10 min old (tolerance 2 min)' });
    const ahead = createDelivery('chat.message.received', data, { secret, timestamp: new Date(Date.now() + 3 * 3600_000) }).body;
    await post(ahead, signed(ahead));
    expect((await last()).explanation.summary).toBe('timestamp 3 h in the future (tolerance 2 min)');
    for (const [agoMs, words] of [
      [5.5 * 60_000, '5 min 30 s old'],
      [(2 * 60 + 30) * 60_000, '2 h 30 min old'],
      [3 * 24 * 3600_000, '3 days old'],
    ] as const) {
      const stale = createDelivery('chat.message.received', data, { secret, timestamp: new Date(Date.now() - agoMs) }).body;
      await post(stale, signed(stale));
      expect((await last()).explanation.summary).toBe(`timestamp ${words} (tolerance 2 min)`);
    }
  });

  it('JSON and the schema: where parsing stopped, which field, unknown events', async () => {
    const { last, post } = await setup({ unknownEvents: 'reject' });
    await post('{"event": "chat.message.received",', signed('{"event": "chat.message.received",'));
    const json = await last();
    expect(json.explanation).toMatchObject({ check: 'JSON', summary: 'the body is not JSON' });
    expect(json.explanation.details[0]).toMatch(/JSON/);
    const latin1 = Buffer.from([0x7b, 0xe9, 0x7d]);
    await post(latin1, signed(latin1));
    expect((await last()).explanation.summary).toBe('the body is not UTF-8 text');

    const missingId = createDelivery('product.added', { storeId: 's', product: { name: 'x' } } as never, { secret }).body;
    await post(missingId, signed(missingId));
    expect((await last()).explanation).toMatchObject({ check: 'schema', summary: expect.stringMatching(/^field data\.product\.id: /) });
    const several = createDelivery('analytics.daily', { storeId: 's' } as never, { secret }).body;
    await post(several, signed(several));
    const many = await last();
    expect(many.explanation.summary).toMatch(/^field data\.date: .* \(and 2 more\)$/);
    expect(many.explanation.details.filter((line) => line.startsWith('field data.'))).toHaveLength(3);
    const deep = `{"event":"chat.message.received","timestamp":"${new Date().toISOString()}","data":${'['.repeat(80)}${']'.repeat(80)}}`;
    await post(deep, signed(deep));
    expect((await last()).explanation.summary).toMatch(/^Payload is nested deeper than \d+ levels$/);
    await post('[1]', signed('[1]'));
    expect((await last()).explanation.summary).toBe('the body: Expected an object');
    const unknown = createDelivery('order.created', {}, { secret }).body;
    await post(unknown, signed(unknown));
    expect((await last()).explanation.summary).toBe('no schema for event "order.created", and the receiver rejects unknown events');
  });

  it('the request itself: method, content type, encoding, size, a body that stops or never ends', async () => {
    const { last, post, origin, port } = await setup({ limit: 1024, bodyTimeout: 150 });
    await fetch(origin);
    expect((await last()).explanation).toMatchObject({ check: 'method', summary: 'method GET: webhooks are delivered with POST' });
    await post(Buffer.from('{}'), {}); // a string would be sent as text/plain
    expect((await last()).explanation.summary).toBe('no content-type header: send application/json');
    await post('{}', { 'content-type': 'text/plain' });
    expect((await last()).explanation.summary).toBe('content-type "text/plain": send application/json');
    await post('{}', { 'content-type': 'application/json; charset=latin1' });
    expect((await last()).explanation.summary).toBe('charset "latin1": send UTF-8 JSON');
    await post('{}', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect((await last()).explanation.summary).toBe('content-encoding "gzip": send the body uncompressed');
    await post('x'.repeat(2000), { 'content-type': 'application/json' });
    expect((await last()).explanation.summary).toBe('a body of 2,000 bytes (content-length) over the limit');
    await partial(port, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked`, `800\r\n${'x'.repeat(2048)}\r\n`, false);
    expect((await last()).explanation.summary).toBe('a body over the limit');

    await partial(port, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100`, '{"event"', false);
    expect((await last()).explanation).toMatchObject({ check: 'body', summary: 'the body did not arrive in time' });
    await partial(port, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100`, '{"event"', true);
    await expect.poll(async () => (await last()).code).toBe('incomplete_body');
    expect((await last()).explanation.summary).toBe('the client closed the connection before the whole body arrived');
  });

  it('after the checks: in flight, a handler that threw, a dedupe store or queue that failed, a misused receive()', async () => {
    const { last, webhooks } = await setup();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    webhooks.on('chat.message.received', async function slowThenFail(event) {
      const { message } = event.data as { message: string };
      if (message === 'hold') await held;
      if (message === 'fail') throw new TypeError('stock service said no');
    });
    const hold = createDelivery('chat.message.received', { ...data, message: 'hold' }, { secret });
    const first = webhooks.receive({ body: hold.body, signature: hold.headers['x-webhook-signature'] });
    await expect(webhooks.receive({ body: hold.body, signature: hold.headers['x-webhook-signature'] })).rejects.toMatchObject({ code: 'in_flight' });
    expect((await last()).explanation).toMatchObject({ check: 'dedupe', summary: 'the same delivery (the same body) was still being processed by another request' });
    release();
    await first;
    const fail = createDelivery('chat.message.received', { ...data, message: 'fail' }, { secret });
    await expect(webhooks.receive({ body: fail.body, signature: fail.headers['x-webhook-signature'] })).rejects.toMatchObject({ code: 'handler_failed' });
    expect((await last()).explanation).toMatchObject({ check: 'handlers', summary: 'handler slowThenFail (chat.message.received#1) threw: TypeError: stock service said no' });
    const off = webhooks.on('product.added', () => {
      throw 'a plain string'; // eslint-disable-line no-throw-literal -- handlers throw anything
    });
    webhooks.on('product.*', async () => {
      throw new Error('');
    });
    const both = createDelivery('product.added', sampleEvents['product.added'], { secret });
    await expect(webhooks.receive({ body: both.body, signature: both.headers['x-webhook-signature'] })).rejects.toMatchObject({ code: 'handler_failed' });
    expect((await last()).explanation).toMatchObject({
      summary: '2 handlers failed',
      details: ['handler product.added#1 threw: a plain string', 'handler product.*#1 threw: Error', expect.stringContaining('500')],
    });
    off();
    await expect(webhooks.receive({ body: {} as never, signature: undefined })).rejects.toMatchObject({ code: 'misconfigured' });
    expect((await last()).explanation.summary).toMatch(/^receive\(\) needs the raw body/);

    const down = { claim: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6390')) };
    const store = await setup({ dedupe: down });
    const ok = createDelivery('chat.message.received', data, { secret });
    await expect(store.webhooks.receive({ body: ok.body, signature: ok.headers['x-webhook-signature'] })).rejects.toMatchObject({ code: 'store_unavailable' });
    expect((await store.last()).explanation).toMatchObject({ summary: 'the dedupe store could not be reached; nothing was processed', details: expect.arrayContaining(['Cause: ECONNREFUSED 127.0.0.1:6390']) });
    const queue = await setup({ queue: { enqueue: () => Promise.reject(new Error('enqueue timed out')) } });
    await expect(queue.webhooks.receive({ body: ok.body, signature: ok.headers['x-webhook-signature'] })).rejects.toMatchObject({ code: 'queue_unavailable' });
    expect((await queue.last()).explanation).toMatchObject({ check: 'queue', details: expect.arrayContaining(['Cause: enqueue timed out']) });
  });

  it('latest wins: an older snapshot superseded, and one delivery per entity at a time, each in words', async () => {
    const { last, webhooks } = await setup();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    webhooks.on('product.updated', (event) => ((event.data as { product: { price?: number } }).product.price === 1 ? held : undefined));
    const now = Date.now();
    const snapshot = (price: number, ago: number) =>
      createDelivery('product.updated', { ...sampleEvents['product.updated'], product: { ...sampleEvents['product.updated'].product, price } }, { secret, timestamp: new Date(now - ago) });
    const send = ({ body, headers }: { body: string; headers: Record<string, string> }) => webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    const first = send(snapshot(1, 1_000));
    await expect(send(snapshot(2, 500))).rejects.toMatchObject({ code: 'in_flight' });
    expect((await last()).explanation).toMatchObject({ check: 'order', summary: expect.stringContaining('another delivery of the same entity') });
    release();
    await first;
    await expect(send(snapshot(3, 60_000))).resolves.toMatchObject({ outcome: 'superseded' });
    expect(await last()).toMatchObject({ status: 200, code: null, explanation: { check: 'order', summary: expect.stringContaining('later snapshot of the same entity') } });
  });

  it('covered every code a delivery can be answered with', () => {
    // not_found is no delivery: the middleware passes other paths to next() (or answers 404) and reports nothing;
    // no_handler is a queued mode worker's, never an answer.
    const codes = (Object.keys(STATUS_BY_CODE) as WebhookErrorCode[]).filter((code) => code !== 'not_found' && code !== 'no_handler');
    expect([...seen].sort()).toEqual(codes.sort());
  });
});
