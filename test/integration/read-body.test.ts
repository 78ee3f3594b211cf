import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type NodeMiddleware, type WebhookError } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { watchTimers } from '../helpers/hostile-server.js';
import { listen } from '../helpers/http.js';

// The node adapter reads the body with raw-body, and only watches the clock (a timer) for a body
// that has not fully arrived once Node has parsed the read that brought the headers. These cases
// drive each path with a raw socket, so the bytes arrive exactly when the test says.

const secret = 'whsec_read_body';
const BODY_TIMEOUT = 237; // a duration nothing else in the process uses, so its timers can be counted
const delivery = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret });
const head = (length: number | 'chunked'): string =>
  'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
  `X-Webhook-Signature: ${delivery.headers['x-webhook-signature']}\r\n` +
  (length === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${length}\r\n`) +
  'Connection: close\r\n\r\n';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A node:http server around the middleware (after `before`, if given), recording everything. */
async function serve(before?: (req: IncomingMessage, middleware: () => void) => void) {
  const webhooks = createWebhookReceiver({ secret, bodyTimeout: BODY_TIMEOUT, limit: 4096, dedupe: false });
  const handled: unknown[] = [];
  const errors: WebhookError[] = [];
  const requests: IncomingMessage[] = [];
  const listenersBefore: Record<string, number>[] = [];
  webhooks.onAny((event) => void handled.push(event.data));
  webhooks.onError((error) => void errors.push(error));
  const middleware: NodeMiddleware = webhooks.middleware();
  const server = http.createServer((req, res) => {
    requests.push(req);
    listenersBefore.push(Object.fromEntries(['data', 'error', 'close'].map((event) => [event, req.listenerCount(event)])));
    if (before === undefined) middleware(req, res);
    else before(req, () => middleware(req, res));
  });
  const listening = await listen(server);
  close = listening.close;
  const port = listening.port;
  /** What the middleware left attached to the first request. */
  const leftOn = () => added(requests[0]!, listenersBefore[0]!);
  return { port, handled, errors, leftOn };
}

/** Writes the pieces with pauses between them; resolves with the status line's code ('' if none came). */
async function send(port: number, pieces: readonly (string | number)[]): Promise<{ status: number | undefined; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let response = '';
  socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  for (const piece of pieces) {
    if (typeof piece === 'number') await pause(piece);
    else socket.write(piece);
  }
  await Promise.race([ended, pause(BODY_TIMEOUT + 3_000)]);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1];
  return { status: status === undefined ? undefined : Number(status), socket };
}

/** Listeners on the request beyond those it had before the middleware ran (Node adds its own to 'end' once answered). */
const added = (req: IncomingMessage, before: Record<string, number>) =>
  Object.fromEntries(['data', 'error', 'close'].map((event) => [event, req.listenerCount(event) - (before[event] ?? 0)]));

describe('the node adapter reading a body', () => {
  it('a body that arrives with its headers: 200, no timer was needed, no listener is left', async () => {
    const { port, handled, leftOn } = await serve();
    const timers = watchTimers(BODY_TIMEOUT);
    try {
      const { status } = await send(port, [head(delivery.body.length) + delivery.body]);
      expect(status).toBe(200);
      expect(timers.created()).toBe(0);
    } finally {
      timers.stop();
    }
    expect(handled).toEqual([sampleEvents['chat.message.received']]);
    expect(leftOn()).toEqual({ data: 0, error: 0, close: 0 });
  });

  it('a body that trickles in, well within bodyTimeout: read whole (several chunks), 200', async () => {
    const { port, handled } = await serve();
    const [first, second] = [delivery.body.slice(0, 30), delivery.body.slice(30)];
    const { status } = await send(port, [head(delivery.body.length) + first, 60, second]);
    expect(status).toBe(200);
    expect(handled).toEqual([sampleEvents['chat.message.received']]);
  });

  it('a chunked body (no Content-Length) in several pieces: 200', async () => {
    const { port, handled } = await serve();
    const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const { status } = await send(port, [head('chunked') + chunk(delivery.body.slice(0, 10)), 30, chunk(delivery.body.slice(10)) + '0\r\n\r\n']);
    expect(status).toBe(200);
    expect(handled).toHaveLength(1);
  });

  it('part of the body, then nothing: 408 after bodyTimeout, and the listeners are gone', async () => {
    const { port, handled, errors, leftOn } = await serve();
    const started = Date.now();
    const { status } = await send(port, [head(delivery.body.length) + delivery.body.slice(0, 20)]);
    expect(status).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(BODY_TIMEOUT - 20);
    expect(errors.map((error) => error.code)).toEqual(['body_timeout']);
    expect(handled).toEqual([]);
    expect(leftOn()).toEqual({ data: 0, error: 0, close: 0 });
  });

  it('a chunked body past the limit: 413 while it streams', async () => {
    const { port, handled, errors } = await serve();
    const big = 'x'.repeat(3000);
    const chunk = `${big.length.toString(16)}\r\n${big}\r\n`;
    const { status } = await send(port, [head('chunked') + chunk, 20, chunk]);
    expect(status).toBe(413);
    expect(errors.map((error) => error.code)).toEqual(['payload_too_large']);
    expect(handled).toEqual([]);
  });

  it('a client that hangs up mid-body: incomplete_body, no handler run, its timer cleared', async () => {
    const { port, handled, errors, leftOn } = await serve();
    const timers = watchTimers(BODY_TIMEOUT);
    try {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(head(delivery.body.length) + delivery.body.slice(0, 20)));
      await expect.poll(() => timers.alive(), { timeout: 5_000 }).toBeGreaterThan(0); // the body is late: the reader watches the clock
      socket.destroy();
      await expect.poll(() => ({ reported: errors.length > 0, timers: timers.alive() }), { timeout: 5_000 }).toEqual({ reported: true, timers: 0 });
    } finally {
      timers.stop();
    }
    expect(errors.map((error) => error.code)).toEqual(['incomplete_body']);
    expect(handled).toEqual([]);
    expect(leftOn()).toEqual({ data: 0, error: 0, close: 0 });
  });

  it('a request destroyed without an error while its body is awaited: incomplete_body', async () => {
    // Something else (a proxy timeout, a framework) destroys the request: only 'close' tells.
    const { port, errors } = await serve((req, next) => {
      next();
      setTimeout(() => req.destroy(), 50);
    });
    await send(port, [head(delivery.body.length) + delivery.body.slice(0, 20)]);
    await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(errors.map((error) => error.code)).toEqual(['incomplete_body']);
  });

  it('a body that had fully arrived before the middleware ran (an async step before it): 200', async () => {
    const { port, handled } = await serve((req, next) => {
      const waitForAll = (): void => (req.complete ? next() : void setTimeout(waitForAll, 5));
      waitForAll();
    });
    const { status } = await send(port, [head(delivery.body.length) + delivery.body]);
    expect(status).toBe(200);
    expect(handled).toHaveLength(1);
  });

  it('a stream given an encoding by something before it: 500 misconfigured, saying why', async () => {
    const { port, errors } = await serve((req, next) => {
      req.setEncoding('utf8');
      next();
    });
    const { status } = await send(port, [head(delivery.body.length) + delivery.body]);
    expect(status).toBe(500);
    expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/setEncoding/)]);
  });
});
