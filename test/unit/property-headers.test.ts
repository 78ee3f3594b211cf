import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, WebhookError, type IncomingHeaders } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { rawPost, rawRequest } from '../helpers/hostile-raw-http.js';
import { pathFor, SECRET, startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Property: whatever a client puts in the headers, the answer is a 4xx from the receiver (or
// Node's own 400 for bytes HTTP forbids), never an exception, never a 5xx, never a handler run.

const delivery = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: SECRET });
const validSignature = delivery.headers['x-webhook-signature'];
const validHex = validSignature.slice('sha256='.length);

const long = fc.tuple(fc.nat({ max: 4000 }), fc.string({ minLength: 1, maxLength: 3 })).map(([n, unit]) => unit.repeat(n));
const text = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), long);

/** Values that look almost like a signature: each must still be refused. */
const nearMiss = fc.oneof(
  fc.constantFrom('sha1=', 'SHA256=', 'sha256:', 'sha256 =', 'v1,', 'sha512=', '', 'sha256=sha256=').map((p) => p + validHex),
  fc.integer({ min: 0, max: 63 }).map((n) => `sha256=${validHex.slice(0, n)}`),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 8 }).map((more) => validSignature + more),
  fc.integer({ min: 8, max: 70 }).map((at) => `${validSignature.slice(0, at)} ${validSignature.slice(at)}`),
  fc.constant(`sha256=${Buffer.from(validHex, 'hex').toString('base64')}`),
  fc.constant(`${validSignature}, ${validSignature}`),
  fc.constant(`sha256=${validHex.replace(/[0-9]/, 'g')}`),
  fc.constant(signPayload(delivery.body, `${SECRET} `)), // another secret
);

/** Every shape `receive()` may be given as the signature. */
const signatureValue = fc.oneof(
  text,
  nearMiss,
  fc.array(fc.oneof(text, nearMiss, fc.constant(validSignature)), { minLength: 0, maxLength: 3 }), // repeated headers
  fc.constant(undefined),
);

const headerName = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('x-store-id', 'content-type', '__proto__', 'constructor'));
const headerValue = fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.constant(undefined));
const headersArbitrary = fc.dictionary(headerName, headerValue, { maxKeys: 6 }) as fc.Arbitrary<IncomingHeaders>;

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (!(error instanceof WebhookError)) throw error; // anything but a WebhookError is a crash
    return error.status;
  }
}

describe('receive(): arbitrary header values', () => {
  it('any signature value that is not the right one → 401, no handler run', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET });
    let runs = 0;
    webhooks.onAny(() => void runs++);
    await fc.assert(
      fc.asyncProperty(signatureValue, headersArbitrary, async (signature, headers) => {
        const error = await webhooks.receive({ body: delivery.body, signature, headers }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(WebhookError);
        expect((error as WebhookError).status).toBe(401);
        expect(runs).toBe(0);
      }),
      { numRuns: 2500 },
    );
  });

  it('a secret resolver given arbitrary headers: 401 unless they name the store, never a 5xx', async () => {
    // A resolver as a multi-store app writes it: pick the store's secret from a header.
    const webhooks = createWebhookReceiver({
      secret: ({ headers }) => (headers['x-store-id'] === 'store_xyz' ? SECRET : undefined),
      dedupe: false,
    });
    let runs = 0;
    webhooks.onAny(() => void runs++);
    const storeHeader = fc.option(fc.oneof(fc.constant('store_xyz'), text), { freq: 2 });
    await fc.assert(
      fc.asyncProperty(headersArbitrary, storeHeader, fc.oneof(signatureValue, fc.constant(validSignature)), async (headers, store, signature) => {
        const all: IncomingHeaders = store === null ? headers : { ...headers, 'x-store-id': store };
        const before = runs;
        const status = await statusOf(webhooks.receive({ body: delivery.body, signature, headers: all }));
        const accepted = all['x-store-id'] === 'store_xyz' && signature === validSignature;
        expect(status).toBe(accepted ? 200 : 401);
        expect(runs).toBe(before + (accepted ? 1 : 0));
      }),
      { numRuns: 2500 },
    );
  });
});

// On the wire: values are arbitrary bytes (UTF-8 unicode, latin-1, control characters, 4 KB long,
// repeated), written by a raw socket so that no client library cleans them first.
const wireBytes = fc.oneof(
  text.map((s) => Buffer.from(s, 'utf8')),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
).filter((b) => !b.includes(0x0d) && !b.includes(0x0a) && b.toString('latin1').trim() !== '');
const wireValues = fc.array(wireBytes, { minLength: 1, maxLength: 3 });
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/;
const RESERVED = /^(content-length|transfer-encoding|host|connection|expect|upgrade|te|trailer|x-webhook-signature|content-type|content-encoding)$/i;
const extraHeaders = fc.array(fc.tuple(fc.stringMatching(TOKEN).filter((n) => !RESERVED.test(n)), wireBytes), { maxLength: 4 });
const hasControl = (values: readonly Buffer[]): boolean => values.some((b) => b.some((c) => (c < 0x20 && c !== 0x09) || c === 0x7f));
/** Node answers 431 past 16 KB of headers (a named case of its own): stay well below it here. */
const fitsNodeLimit = (values: readonly Buffer[]): boolean => values.reduce((n, b) => n + b.length + 32, 0) < 12_000;

type Target = 'x-webhook-signature' | 'content-type' | 'content-encoding';
/** Values of the target header that the receiver would accept, so they are not "arbitrary" here. */
const acceptable: Record<Target, (value: string) => boolean> = {
  'x-webhook-signature': (v) => v.trim() === validSignature,
  'content-type': (v) => /json/i.test(v),
  'content-encoding': (v) => /^\s*(identity)?\s*$/i.test(v),
};
const expectedStatus: Record<Target, number> = { 'x-webhook-signature': 401, 'content-type': 415, 'content-encoding': 415 };

describe('over HTTP, every framework and the Fetch handler: arbitrary header bytes', () => {
  const servers = new Map<Transport, HostileServer>();
  beforeAll(async () => {
    for (const name of transports) servers.set(name, await startServer(name, { dedupe: false }));
  });
  afterAll(async () => {
    for (const server of servers.values()) await server.close();
  });
  const framework = fc.constantFrom(...transports);

  it('in a header the receiver reads → its 4xx (400 from Node for control bytes), no handler run', async () => {
    const target = fc.constantFrom<Target>('x-webhook-signature', 'content-type', 'content-encoding');
    await fc.assert(
      fc.asyncProperty(framework, target, wireValues, extraHeaders, async (name, header, values, extra) => {
        fc.pre(!values.some((v) => acceptable[header](v.toString('latin1'))));
        fc.pre(fitsNodeLimit([...values, ...extra.map(([, v]) => v)]));
        const server = servers.get(name)!;
        const before = server.handled.length;
        const headers: [string, string | Uint8Array][] = [['Content-Type', 'application/json'], ['X-Webhook-Signature', validSignature], ...extra];
        const sent = headers.filter(([n]) => n.toLowerCase() !== header);
        for (const value of values) sent.push([header, value]);
        const response = await rawRequest(server.port, rawPost(pathFor(name), sent, delivery.body));
        expect(response.status).toBe(hasControl([...values, ...extra.map(([, v]) => v)]) ? 400 : expectedStatus[header]);
        expect(server.handled.length).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('in headers the receiver does not read → the same answer as without them (Node refuses control bytes)', async () => {
    await fc.assert(
      fc.asyncProperty(framework, extraHeaders, async (name, extra) => {
        fc.pre(fitsNodeLimit(extra.map(([, v]) => v)));
        const server = servers.get(name)!;
        const before = server.handled.length;
        const headers: [string, string | Uint8Array][] = [['Content-Type', 'application/json'], ['X-Webhook-Signature', validSignature], ...extra];
        const response = await rawRequest(server.port, rawPost(pathFor(name), headers, delivery.body));
        const refused = hasControl(extra.map(([, v]) => v));
        expect(response.status).toBe(refused ? 400 : 200);
        expect(server.handled.length).toBe(before + (refused ? 0 : 1));
      }),
      { numRuns: 200 },
    );
  });
});
