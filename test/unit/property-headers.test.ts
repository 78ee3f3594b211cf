import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, WebhookError, type IncomingHeaders } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { SECRET } from '../helpers/deliveries.js';
import { headerText as text } from '../helpers/hostile-arbitraries.js';

// Property: whatever a client puts in the headers, receive() answers a 4xx, never an exception,
// never a 5xx, never a handler run. Over HTTP, byte by byte: property-headers-http.test.ts.

const delivery = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret: SECRET });
const validSignature = delivery.headers['x-webhook-signature'];
const validHex = validSignature.slice('sha256='.length);

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
