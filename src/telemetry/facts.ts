import { WebhookHandlerError, type WebhookError } from '../errors.js';
import { DeliveryContext } from '../context.js';
import type { ReceiveResult } from '../outcome.js';
import type { ReceiveInput } from '../request.js';
import type { DeliveryFacts } from './logger.js';

// What reports, logs and spans say about a delivery besides its outcome: its event name and its
// id. They are worked out after the fact, from the input and how it ended, and only when something
// needs them, so the pipeline carries nothing extra for them.

/** Codes that can only happen once the signature matched: the body is the sender's, its id means something. */
const AUTHENTIC = new Set<string>([
  'invalid_json',
  'invalid_payload',
  'unknown_event',
  'stale_timestamp',
  'in_flight',
  'store_unavailable',
  'handler_failed',
  'queue_unavailable',
]);

/** Of those, the ones thrown after the body was parsed as JSON (so its `event` field can be read). */
const PARSED = new Set<string>(['invalid_payload', 'unknown_event', 'stale_timestamp', 'in_flight', 'store_unavailable', 'queue_unavailable']);

/** Longer names are not recorded: an event name is an identifier, not a place for data. */
const MAX_EVENT_NAME = 256;

const eventName = (value: unknown): string | undefined => (typeof value === 'string' && value.length <= MAX_EVENT_NAME ? value : undefined);

/** The facts of a delivery that ended with `ending`: a result, or the `WebhookError` it was rejected with. */
export function factsOf({ body }: ReceiveInput, ending: ReceiveResult<unknown> | WebhookError): DeliveryFacts {
  const result = 'outcome' in ending ? ending : undefined;
  const error = result === undefined ? (ending as WebhookError) : undefined;
  if (error !== undefined && !AUTHENTIC.has(error.code)) return {};
  const facts: DeliveryFacts = { deliveryId: deliveryId(body) };
  const event =
    result !== undefined
      ? eventName((result.event as { event?: unknown }).event)
      : error instanceof WebhookHandlerError
        ? eventName((error.event as { event?: unknown }).event)
        : PARSED.has(error!.code)
          ? eventName(readEventName(body))
          : undefined;
  if (event !== undefined) facts.event = event;
  return facts;
}

/** The same id handlers see as `context.id`. */
const deliveryId = (body: ReceiveInput['body']): string => new DeliveryContext(body, {}, undefined).id;

/**
 * The `event` field of an authentic body that was parsed before the rejection (the rejection does
 * not carry it): read again, only for a rejected delivery.
 */
function readEventName(body: ReceiveInput['body']): unknown {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const json: unknown = JSON.parse(text); // it parsed before (see PARSED)
  return typeof json === 'object' && json !== null ? (json as { event?: unknown }).event : undefined;
}
