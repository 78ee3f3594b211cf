import { WebhookError, WebhookHandlerError } from '../errors.js';
import { DeliveryContext } from '../context.js';
import type { ReceiveInput, ReceiveResult } from '../core.js';
import type { DeliveryFacts } from './logger.js';

// What logs and spans say about a delivery besides its outcome: its event name and its id. They
// are worked out after the fact, from the input and how it ended, and only when something records
// them, so the pipeline carries nothing extra for them.

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

const eventName = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length <= MAX_EVENT_NAME ? value : undefined;

export function factsOfResult({ body }: ReceiveInput, result: ReceiveResult<unknown>): DeliveryFacts {
  const facts: DeliveryFacts = { deliveryId: deliveryId(body) };
  const event = eventName((result.event as { event?: unknown }).event);
  if (event !== undefined) facts.event = event;
  return facts;
}

export function factsOfError({ body }: ReceiveInput, error: WebhookError): DeliveryFacts {
  if (!AUTHENTIC.has(error.code)) return {};
  const facts: DeliveryFacts = { deliveryId: deliveryId(body) };
  const event =
    error instanceof WebhookHandlerError
      ? eventName((error.event as { event?: unknown }).event)
      : PARSED.has(error.code)
        ? eventName(readEventName(body))
        : undefined;
  if (event !== undefined) facts.event = event;
  return facts;
}

/** The same id handlers see as `context.id`. */
const deliveryId = (body: ReceiveInput['body']): string => new DeliveryContext(body, {}, undefined).id;

/**
 * The `event` field of an authentic body that was parsed before the rejection (the rejection does
 * not carry it): read again, only for a rejected delivery that something records.
 */
function readEventName(body: ReceiveInput['body']): unknown {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const json: unknown = JSON.parse(text); // it parsed before (see PARSED)
  return typeof json === 'object' && json !== null ? (json as { event?: unknown }).event : undefined;
}

/** Whatever left the pipeline, as the `WebhookError` the adapters answer with. */
export const asWebhookError = (error: unknown): WebhookError =>
  error instanceof WebhookError ? error : new WebhookError('misconfigured', 'Webhook receiver failed', { cause: error });
