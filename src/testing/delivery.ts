import type { EventName } from '../events.js';
import { signPayload } from '../signature.js';
import type { EventData } from './samples.js';

/** A signed request as AICommerce sends it: the exact body and the headers that go with it. */
export interface Delivery {
  readonly body: string;
  readonly headers: { readonly 'content-type': 'application/json'; readonly 'x-webhook-signature': string };
}

/** The options of `createDelivery()`: the secret to sign with, and the envelope timestamp. */
export interface DeliveryOptions {
  secret: string;
  /** The envelope timestamp. Default: now. */
  timestamp?: Date | string | undefined;
}

/** Builds and signs a delivery of `event` with `data`, for supertest, fetch or `receive()`. */
export function createDelivery<Name extends EventName>(event: Name, data: EventData<Name>, options: DeliveryOptions): Delivery;
/** A delivery of an event of your own (or a deliberately invalid one): `data` is sent as given. */
export function createDelivery(event: string, data: unknown, options: DeliveryOptions): Delivery;
export function createDelivery(event: string, data: unknown, { secret, timestamp = new Date() }: DeliveryOptions): Delivery {
  const body = JSON.stringify({ event, timestamp: typeof timestamp === 'string' ? timestamp : timestamp.toISOString(), data });
  return { body, headers: { 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, secret) } };
}
