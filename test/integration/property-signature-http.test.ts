import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flipBit, flipHeaderBit, signedDelivery } from '../helpers/hostile-arbitraries.js';
import { rawPost, rawRequest } from '../helpers/hostile-raw-http.js';
import { pathFor, startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Property: no single flipped bit gets a delivery in, over real HTTP to every framework's
// middleware and the Fetch handler: a bit of the body, or of the header bytes on the wire → 401
// and no handler run (a hex letter changing case is the same digest). receive() alone, the digest
// too: test/unit/property-signature.test.ts.

describe('over HTTP, every framework and the Fetch handler: a single flipped bit', () => {
  const servers = new Map<Transport, HostileServer>();
  beforeAll(async () => {
    for (const name of transports) servers.set(name, await startServer(name, { dedupe: false }));
  });
  afterAll(async () => {
    for (const server of servers.values()) await server.close();
  });
  const framework = fc.constantFrom(...transports);

  it('in the body → 401, no handler run', async () => {
    await fc.assert(
      fc.asyncProperty(framework, signedDelivery, fc.nat(), async (name, { body, signature }, n) => {
        const server = servers.get(name)!;
        const before = server.handled.length;
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-webhook-signature': signature },
          body: flipBit(body, n % (body.length * 8)),
        });
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({ error: 'Invalid signature', code: 'invalid_signature' });
        expect(server.handled.length).toBe(before);
      }),
      { numRuns: 200 },
    );
  });

  it('in the header bytes on the wire → 401 (Node itself answers 400 to control characters), no handler run', async () => {
    await fc.assert(
      fc.asyncProperty(framework, signedDelivery, fc.nat({ max: 71 * 8 - 1 }), async (name, { body, signature }, bit) => {
        const server = servers.get(name)!;
        const before = server.handled.length;
        const { header, sameDigest, flipped } = flipHeaderBit(signature, bit);
        const wire = rawPost(pathFor(name), [['Content-Type', 'application/json'], ['X-Webhook-Signature', Buffer.from(header, 'latin1')]], body);
        const response = await rawRequest(server.port, wire);
        const control = (flipped < 0x20 && flipped !== 0x09) || flipped === 0x7f;
        expect(response.status).toBe(sameDigest ? 200 : control ? 400 : 401);
        expect(server.handled.length).toBe(before + (sameDigest ? 1 : 0));
      }),
      { numRuns: 200 },
    );
  });
});
