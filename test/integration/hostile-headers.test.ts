import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { SECRET } from '../helpers/deliveries.js';
import { rawPost, rawRequest } from '../helpers/hostile-raw-http.js';
import { pathFor, startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Hostile header blocks over real HTTP (raw sockets, so repeated and oversized headers go out
// exactly as written), against every framework's middleware and the Fetch handler.

const delivery = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: SECRET });
const signature = delivery.headers['x-webhook-signature'];
const json: [string, string] = ['Content-Type', 'application/json'];

describe.each(transports)('%s', (transport: Transport) => {
  let server: HostileServer;
  beforeAll(async () => {
    server = await startServer(transport, { dedupe: false });
  });
  afterAll(() => server.close());
  const send = (headers: [string, string][], body: string | Uint8Array = delivery.body) =>
    rawRequest(server.port, rawPost(pathFor(transport), headers, body));

  it('two x-webhook-signature headers, even both valid: 401, no handler run', async () => {
    const before = server.handled.length;
    for (const pair of [
      [signature, signature],
      [signature, 'sha256=' + '0'.repeat(64)],
      ['sha256=' + '0'.repeat(64), signature],
    ]) {
      const answer = await send([json, ['X-Webhook-Signature', pair[0]!], ['X-Webhook-Signature', pair[1]!]]);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toEqual({ error: 'Invalid signature', code: 'invalid_signature' });
    }
    expect(server.handled.length).toBe(before);
    // The same request with the header once is accepted: the refusal is about the repetition.
    expect((await send([json, ['X-Webhook-Signature', signature]])).status).toBe(200);
  });

  it('a gzip Content-Encoding: 415, nothing inflated, no handler run', async () => {
    const before = server.handled.length;
    const gzipped = gzipSync(delivery.body);
    for (const [encoding, body] of [
      ['gzip', gzipped],
      ['GZIP', gzipped],
      ['x-gzip', gzipped],
      ['identity, gzip', gzipped],
      ['deflate', delivery.body],
      ['br', delivery.body],
    ] as const) {
      // Signed over the bytes sent, so only the encoding can be the reason.
      const answer = await send([json, ['Content-Encoding', encoding], ['X-Webhook-Signature', signPayload(body, SECRET)]], body);
      expect([encoding, answer.status]).toEqual([encoding, 415]);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'unsupported_media_type' });
    }
    expect(server.handled.length).toBe(before);
    expect((await send([json, ['Content-Encoding', 'identity'], ['X-Webhook-Signature', signature]])).status).toBe(200);
  });

  it('a Content-Type that is not JSON in UTF-8: 415, no handler run', async () => {
    const before = server.handled.length;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonx', 'json']) {
      const answer = await send([['Content-Type', type], ['X-Webhook-Signature', signature]]);
      expect([type, answer.status]).toEqual([type, 415]);
    }
    expect(server.handled.length).toBe(before);
    for (const type of ['application/json; charset=UTF-8', 'Application/JSON', 'application/vnd.aicommerce+json']) {
      expect([type, (await send([['Content-Type', type], ['X-Webhook-Signature', signature]])).status]).toEqual([type, 200]);
    }
  });

  it("a 64 KB header block: Node answers 431, the receiver never sees it, no handler run", async () => {
    const before = { handled: server.handled.length, requests: server.requests.length, errors: server.errors.length };
    const answer = await send([json, ['X-Webhook-Signature', signature], ['X-Padding', 'a'.repeat(64 * 1024)]]);
    expect(answer.status).toBe(431);
    expect(server.handled.length).toBe(before.handled);
    expect(server.requests.length).toBe(before.requests);
    expect(server.errors.length).toBe(before.errors);
  });
});
