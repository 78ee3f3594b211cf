import { createHmac, randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { signPayload } from 'aicommerce-webhooks';
import { EVENT, PRODUCT_EVENT, SECRET } from './constants.js';

export { EVENT, PRODUCT_EVENT, SECRET, WEBHOOK_PATH } from './constants.js';

// The bytes every contender receives: one `chat.message.received` body, signed once in each
// peer's own scheme, so no contender is timed on anything but its own verification.

/** Standard Webhooks wants a base64 key behind `whsec_`: the same secret's bytes. */
export const STANDARD_SECRET = `whsec_${Buffer.from(SECRET).toString('base64')}`;

/** A delivery of `chat.message.received` with 8 products, about 1 KB. */
export function smallBody(now = new Date()): string {
  const products = Array.from({ length: 8 }, (_, i) => ({
    id: `prod_${4810 + i}`,
    name: `Trail Runner ${i + 1} GTX, waterproof`,
    relevanceScore: Math.round((0.97 - i * 0.06) * 100) / 100,
  }));
  return JSON.stringify({
    event: EVENT,
    timestamp: now.toISOString(),
    data: {
      sessionId: 'sess_7Kq2mXw9Lp4R',
      storeId: 'store_nordic_outdoor',
      messageId: 'msg_01J9ZP6Q8R2T',
      message:
        'Looking for waterproof trail running shoes in size 44 for long, muddy autumn runs in the forest; light, but with a grippy sole and a wide toe box, under 150 EUR.',
      products,
    },
  });
}

export const MIB = 1024 * 1024;

/** A valid delivery of exactly `size` bytes: the message is padded until the body is that long. */
export function paddedBody(size: number, now = new Date()): string {
  const shell = JSON.parse(smallBody(now)) as { data: { message: string } };
  shell.data.message = '';
  const pad = size - Buffer.byteLength(JSON.stringify(shell));
  shell.data.message = 'x'.repeat(pad);
  const body = JSON.stringify(shell);
  if (Buffer.byteLength(body) !== size) throw new Error(`padded body is ${Buffer.byteLength(body)} bytes, not ${size}`);
  return body;
}

export const stripe = new Stripe('sk_test_bench');

/** Every header every contender needs, each peer's signature made by the peer's own signer. */
export function signedHeaders(body: string, now = new Date()): Record<string, string> {
  const seconds = Math.floor(now.getTime() / 1000);
  const standard = new StandardWebhook(STANDARD_SECRET).sign('msg_bench', now, body);
  return {
    'content-type': 'application/json',
    // ours and @octokit/webhooks share the scheme: sha256=<hex HMAC of the body>
    'x-webhook-signature': signPayload(body, SECRET),
    'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    'x-github-event': EVENT,
    'x-github-delivery': randomBytes(8).toString('hex'),
    'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: seconds }),
    'webhook-id': 'msg_bench',
    'webhook-timestamp': String(seconds),
    'webhook-signature': standard,
  };
}

/** Numbers the distinct deliveries of the whole run, so no two are ever the same bytes. */
let deliveries = 0;

/**
 * Distinct signed deliveries, one per call: smallBody() with its messageId numbered, so each has a
 * delivery id of its own (the job id in queued mode: a repeated body would add no job). Signed
 * here, per call, by the load generator: the servers see only our scheme's header.
 */
export function distinctDeliveries(now = new Date()): () => { body: string; headers: Record<string, string> } {
  const template = smallBody(now);
  const messageId = '"msg_01J9ZP6Q8R2T"';
  const at = template.indexOf(messageId);
  if (at === -1) throw new Error('smallBody() no longer has the messageId distinctDeliveries numbers');
  const head = `${template.slice(0, at)}"msg_`;
  const tail = `"${template.slice(at + messageId.length)}`;
  return () => {
    const body = `${head}${String(deliveries++).padStart(9, '0')}${tail}`;
    return { body, headers: { 'content-type': 'application/json', 'x-webhook-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` } };
  };
}

/** Numbers the products of the whole run, so no two product snapshots are of the same entity. */
let products = 0;

/**
 * Distinct signed `product.updated` snapshots (latest wins orders them by product), one per call,
 * each of a product of its own: every one is applied, none superseded, and none a copy of another.
 */
export function distinctProductDeliveries(now = new Date()): () => { body: string; headers: Record<string, string> } {
  const timestamp = now.toISOString();
  return () => {
    const body = JSON.stringify({
      event: PRODUCT_EVENT,
      timestamp,
      data: {
        storeId: 'store_nordic_outdoor',
        product: { id: `prod_${String(products++).padStart(9, '0')}`, name: 'Trail Runner 2 GTX, waterproof', price: 129.99, currency: 'EUR' },
        changedFields: ['price'],
      },
    });
    return { body, headers: { 'content-type': 'application/json', 'x-webhook-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` } };
  };
}
