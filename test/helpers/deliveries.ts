import { createHash } from 'node:crypto';
import type { EventName } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';

// The deliveries most tests send: the sample of an event, signed with one test secret.

export const SECRET = 'whsec_hostile-test-secret-4f7c1d';

/** The body of the sample delivery of `event`, signed with SECRET and stamped `timestamp`. */
export const signedBody = (event: EventName = 'product.added', timestamp = new Date()): string =>
  createDelivery(event, sampleEvents[event] as never, { secret: SECRET, timestamp }).body;

/** The delivery id of a body (`context.id`, the `deliveryId` of logs and spans): its SHA-256 in hex. */
export const sha256 = (body: string): string => createHash('sha256').update(body).digest('hex');
