import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, WebhookError } from 'aicommerce-webhooks';
import { validEnvelope } from '../helpers/hostile-arbitraries.js';
import { rawPost, rawRequest } from '../helpers/hostile-raw-http.js';
import { pathFor, SECRET, startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Property: no single flipped bit gets a delivery in. Any bit of the body, of the header as it
// is written, or of the digest it carries → 401 and no handler run. The one exception is named:
// a flip that only changes the case of a hex letter names the same digest, and hex is read in
// either case (DESIGN.md: "decode the hex").

/** A correctly signed delivery with valid data, as bytes. */
const signedDelivery = validEnvelope(new Date().toISOString()).map((json) => {
  const body = Buffer.from(JSON.stringify(json));
  return { body, signature: signPayload(body, SECRET) };
});

const flipBit = (bytes: Uint8Array, bit: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

/** The header with one bit of its written form flipped, and what that flip means. */
function flipHeaderBit(signature: string, bit: number): { header: string; sameDigest: boolean; flipped: number } {
  const bytes = flipBit(Buffer.from(signature, 'latin1'), bit);
  const before = signature[bit >> 3]!;
  const after = bytes.toString('latin1')[bit >> 3]!;
  const isHexLetter = /[a-f]/.test(before) && bit >> 3 >= 'sha256='.length;
  return { header: bytes.toString('latin1'), sameDigest: isHexLetter && after === before.toUpperCase(), flipped: bytes[bit >> 3]! };
}

/** The header carrying the signed digest with one of its 256 bits flipped, still well-formed hex. */
function flipDigestBit(signature: string, bit: number): string {
  const digest = Buffer.from(signature.slice('sha256='.length), 'hex');
  return `sha256=${flipBit(digest, bit).toString('hex')}`;
}

async function rejection(promise: Promise<unknown>): Promise<WebhookError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WebhookError)) throw new Error(`expected a WebhookError rejection, got ${String(error)}`);
  return error;
}

describe('receive(): a single flipped bit', () => {
  // Deduplication is off: a case-flipped header resends a body already accepted, and that must be
  // "handled" again here, not "duplicate".
  const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
  let runs = 0;
  webhooks.onAny(() => void runs++);

  it('in the body → 401 invalid_signature, no handler run', async () => {
    await fc.assert(
      fc.asyncProperty(signedDelivery, fc.nat(), async ({ body, signature }, n) => {
        const before = runs;
        const error = await rejection(webhooks.receive({ body: flipBit(body, n % (body.length * 8)), signature }));
        expect([error.status, error.code]).toEqual([401, 'invalid_signature']);
        expect(runs).toBe(before);
      }),
      { numRuns: 2000 },
    );
  });

  it('in the written header → 401, no handler run (a hex letter changing case is the same digest)', async () => {
    await fc.assert(
      fc.asyncProperty(signedDelivery, fc.nat({ max: 71 * 8 - 1 }), async ({ body, signature }, bit) => {
        const before = runs;
        const { header, sameDigest } = flipHeaderBit(signature, bit);
        if (sameDigest) {
          await expect(webhooks.receive({ body, signature: header })).resolves.toMatchObject({ outcome: 'handled' });
          expect(runs).toBe(before + 1);
        } else {
          const error = await rejection(webhooks.receive({ body, signature: header }));
          expect([error.status, error.code]).toEqual([401, 'invalid_signature']);
          expect(runs).toBe(before);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('in the digest the header carries → 401, no handler run', async () => {
    await fc.assert(
      fc.asyncProperty(signedDelivery, fc.nat({ max: 255 }), async ({ body, signature }, bit) => {
        const before = runs;
        const error = await rejection(webhooks.receive({ body, signature: flipDigestBit(signature, bit) }));
        expect([error.status, error.code]).toEqual([401, 'invalid_signature']);
        expect(runs).toBe(before);
      }),
      { numRuns: 1000 },
    );
  });

  it('the unflipped deliveries are accepted (so the properties above can fail)', async () => {
    await fc.assert(
      fc.asyncProperty(signedDelivery, async ({ body, signature }) => {
        await expect(webhooks.receive({ body, signature })).resolves.toMatchObject({ outcome: 'handled' });
      }),
      { numRuns: 200 },
    );
  });
});

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
