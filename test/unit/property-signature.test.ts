import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, WebhookError } from 'aicommerce-webhooks';
import { SECRET } from '../helpers/deliveries.js';
import { flipBit, flipHeaderBit, signedDelivery } from '../helpers/hostile-arbitraries.js';

// Property: no single flipped bit gets a delivery in. Any bit of the body, of the header as it
// is written, or of the digest it carries → 401 and no handler run. The one exception is named:
// a flip that only changes the case of a hex letter names the same digest, and hex is read in
// either case (DESIGN.md: "decode the hex"). Over HTTP, on the wire: property-signature-http.test.ts.

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
