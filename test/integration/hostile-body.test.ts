import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, type NodeMiddleware, type ReceiverOptions } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { SECRET } from '../helpers/deliveries.js';
import { frameworkNames, frameworks, WEBHOOK_PATH } from '../helpers/frameworks.js';
import { connectRaw, rawPost, rawRequest, type RawConnection } from '../helpers/hostile-raw-http.js';
import { bodyListeners, pathFor, serve, startServer, transports, watchTimers, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Hostile bodies over real HTTP, with a raw socket so every byte and every lie is exact:
// oversized, mis-framed, slow, abandoned. Each case runs against every framework's middleware
// and the Fetch handler.

const delivery = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: SECRET });
const signed: [string, string][] = [
  ['Content-Type', 'application/json'],
  ['X-Webhook-Signature', delivery.headers['x-webhook-signature']],
];

const BODY_TIMEOUT = 300;
const LIMIT = 64 * 1024;
/** Node reads a socket 64 KB at a time: a server that stops at the limit has read at most this much. */
const READ_SLACK = 2 * 64 * 1024 + 4096;

/** Writes `piece` as fast as the server takes it, until the connection fails or `max` bytes went out. */
async function writeUntilRefused(connection: RawConnection, piece: Buffer, max: number): Promise<number> {
  let written = 0;
  while (written < max && !connection.isClosed()) {
    // A server that stopped reading lets the kernel buffers fill; a write that never completes ends it.
    const accepted = await Promise.race([connection.write(piece), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
    if (!accepted) break;
    written += piece.length;
  }
  return written;
}

describe.each(transports)('%s', (transport: Transport) => {
  let server: HostileServer;
  const start = async (options: ReceiverOptions = {}): Promise<HostileServer> =>
    (server = await startServer(transport, { bodyTimeout: BODY_TIMEOUT, limit: LIMIT, ...options }));
  afterEach(() => server.close());
  const path = pathFor(transport);

  it('a chunked body over the limit, no Content-Length: reading stops at the limit, 413', async () => {
    await start();
    const connection = await connectRaw(server.port);
    await connection.write(rawPost(path, [...signed, ['Transfer-Encoding', 'chunked']], ''));
    const answer = connection.response();
    const chunk = Buffer.concat([Buffer.from('4000\r\n'), Buffer.alloc(0x4000, '['), Buffer.from('\r\n')]);
    const offered = 16 * 1024 * 1024;
    const written = await writeUntilRefused(connection, chunk, offered);

    expect((await answer).status).toBe(413);
    expect(JSON.parse((await answer).body)).toMatchObject({ code: 'payload_too_large' });
    await connection.closed; // the server hung up on the rest
    const socket = server.sockets.at(-1)!;
    expect(written).toBeLessThan(offered);
    expect(socket.bytesRead).toBeLessThan(LIMIT + READ_SLACK);
    expect(server.handled).toEqual([]);
  });

  it('a Content-Length over the limit: 413 before a byte of the body is sent', async () => {
    await start();
    const connection = await connectRaw(server.port);
    const offered = 16 * 1024 * 1024;
    await connection.write(rawPost(path, [...signed, ['Content-Length', String(offered)]], ''));
    expect((await connection.response()).status).toBe(413); // answered on the headers alone
    expect(server.handled).toEqual([]);
    if (transport !== 'fetch') {
      // The node adapter hangs up without reading on. (A Fetch handler cannot close the
      // connection: @hono/node-server drains an unread body, at most 64 MB or 500 ms, then closes.)
      await writeUntilRefused(connection, Buffer.alloc(0x4000, 'a'), offered);
      await connection.closed;
      expect(server.sockets.at(-1)!.bytesRead).toBeLessThan(READ_SLACK);
    }
    connection.destroy();
  });

  it('a Content-Length shorter than the body: only the declared bytes are read and verified, a 4xx, no handler run', async () => {
    await start();
    const lie = rawPost(path, [...signed, ['Content-Length', String(delivery.body.length - 5)]], delivery.body);
    const { status } = await rawRequest(server.port, lie);
    // 401 for the truncated body, or Node's 400 for the five bytes left over (parsed as a next request).
    expect([400, 401]).toContain(status);
    expect(server.handled).toEqual([]);
    // The receiver got the declared bytes only: a signature mismatch (or, when Node tore the
    // connection down first, an incomplete body), never anything that passed.
    await expect.poll(() => server.errors.length, { timeout: 2_000, message: 'the receiver reports the request' }).toBeGreaterThan(0);
    expect(['invalid_signature', 'incomplete_body']).toContain(server.errors[0]!.code);
  });

  it('a Content-Length longer than the body: 408 after bodyTimeout, no handler run', async () => {
    await start();
    const connection = await connectRaw(server.port);
    const started = Date.now();
    await connection.write(rawPost(path, [...signed, ['Content-Length', String(delivery.body.length + 10)]], delivery.body));
    const { status, body } = await connection.response();
    expect(status).toBe(408);
    expect(JSON.parse(body)).toEqual({ error: `Request body not received within ${BODY_TIMEOUT} ms`, code: 'body_timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(BODY_TIMEOUT - 20);
    expect(server.handled).toEqual([]);
    connection.destroy();
  });

  it('headers, then nothing: 408 within bodyTimeout, no handler run', async () => {
    await start();
    const connection = await connectRaw(server.port);
    const started = Date.now();
    await connection.write(rawPost(path, [...signed, ['Content-Length', String(delivery.body.length)]], ''));
    const { status } = await connection.response(BODY_TIMEOUT + 5_000);
    const waited = Date.now() - started;
    expect(status).toBe(408);
    expect(waited).toBeGreaterThanOrEqual(BODY_TIMEOUT - 20);
    expect(waited).toBeLessThan(BODY_TIMEOUT + 5_000);
    expect(server.handled).toEqual([]);
    if (transport !== 'fetch') {
      // The node adapter hangs up: the unread body must not be taken for the next request.
      await connection.closed;
    }
    connection.destroy();
  });

  it('a body dripped one byte at a time: 408 at bodyTimeout, which is a deadline for the whole body, not an idle timeout', async () => {
    await start();
    const connection = await connectRaw(server.port);
    const started = Date.now();
    await connection.write(rawPost(path, [...signed, ['Content-Length', String(delivery.body.length)]], ''));
    const answer = connection.response(BODY_TIMEOUT + 5_000);
    let sent = 0;
    const drip = setInterval(() => void connection.write(delivery.body.slice(sent, ++sent)), 20);
    try {
      expect((await answer).status).toBe(408);
    } finally {
      clearInterval(drip);
    }
    expect(Date.now() - started).toBeLessThan(BODY_TIMEOUT + 5_000);
    expect(sent).toBeLessThan(delivery.body.length); // bytes were still arriving, and did not extend it
    expect(server.handled).toEqual([]);
    connection.destroy();
  });

  it('a client that aborts mid-body: no handler run, no timer or listener left, the next request is answered', async () => {
    // A long bodyTimeout: a timer left behind would still be alive when it is counted.
    const bodyTimeout = 61_234; // long, so a timer left behind is still alive when counted; and unique
    await start({ bodyTimeout });
    const connection = await connectRaw(server.port);
    const timers = watchTimers(bodyTimeout);
    try {
      await connection.write(rawPost(path, [...signed, ['Content-Length', String(delivery.body.length)]], delivery.body.slice(0, 40)));
      await expect.poll(() => server.requests.length, { timeout: 5_000, message: 'the request arrives' }).toBe(1);
      await expect.poll(() => timers.alive(), { timeout: 5_000, message: 'the body timer starts' }).toBeGreaterThan(0);
      connection.destroy();

      await expect.poll(() => server.errors.map((e) => e.code), { timeout: 5_000, message: 'the abort is reported' }).toContain('incomplete_body');
      expect(server.handled).toEqual([]);
      await expect.poll(() => timers.alive(), { timeout: 5_000, message: 'every timer of the request is cleared' }).toBe(0);
    } finally {
      timers.stop();
    }
    if (transport !== 'fetch') {
      // Everything the middleware and raw-body attached to the request is detached again.
      expect(bodyListeners(server.requests[0]!)).toEqual({ data: 0, end: 0, error: 0, aborted: 0, close: 0 });
    }
    const next = await rawRequest(server.port, rawPost(path, signed, delivery.body));
    expect([next.status, server.handled.length]).toEqual([200, 1]);
  });
});

describe.each(frameworkNames)('%s: a client gone before the middleware reads', (framework) => {
  // Before the fix this was reported as a 500 `misconfigured` ("a body parser was mounted before …"),
  // which is also logged with console.error: every early hang-up wrote a false alarm to the logs.
  it('is reported as an aborted request (incomplete_body, a 4xx), not as a misconfigured server (500)', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET });
    const errors: string[] = [];
    webhooks.onError((error) => void errors.push(error.code));
    const middleware = webhooks.middleware();
    // Something async before the webhook middleware (auth, rate limiting) outlives the client.
    const slowBefore: NodeMiddleware = (req, res, next) => void req.once('close', () => middleware(req, res, next));
    const server = await serve(frameworks[framework](slowBefore));
    try {
      const connection = await connectRaw(server.port);
      await connection.write(rawPost(WEBHOOK_PATH, [...signed, ['Content-Length', String(delivery.body.length)]], delivery.body.slice(0, 40)));
      await expect.poll(() => server.requests.length, { timeout: 5_000, message: 'the request arrives' }).toBe(1);
      connection.destroy();
      await expect.poll(() => errors.length, { timeout: 5_000, message: 'the middleware runs' }).toBeGreaterThan(0);
      expect(errors).toEqual(['incomplete_body']);
    } finally {
      await server.close();
    }
  });
});
