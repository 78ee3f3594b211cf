import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { SECRET } from '../helpers/deliveries.js';
import { headerText as text } from '../helpers/hostile-arbitraries.js';
import { rawPost, rawRequest } from '../helpers/hostile-raw-http.js';
import { pathFor, startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Property: whatever a client puts in the headers, the answer is a 4xx from the receiver (or
// Node's own 400 for bytes HTTP forbids), never an exception, never a 5xx, never a handler run.
// What receive() makes of arbitrary header values is in test/unit/property-headers.test.ts.

const delivery = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: SECRET });
const validSignature = delivery.headers['x-webhook-signature'];

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
