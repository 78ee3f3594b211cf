import { isUtf8 } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { WebhookError, WebhookPayloadError, invalidSignature, type PayloadIssue } from './errors.js';
import { anyEnvelopeSchema } from './events.js';
import { matchesAnyKey, parseSignatureHeader, toKeys, type BodyInput } from './signature.js';
import type { RequestInfo, Settings } from './options.js';

// The steps of "one way through" (DESIGN.md) that look at a delivery, each in one function, in
// the order the receiver calls them. None of them runs handlers or touches the dedupe store.

/** 413 before anything else is done with a body that is too large. */
export function checkSize(body: BodyInput, limit: number): void {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > limit) throw new WebhookError('payload_too_large', `Payload too large: the limit is ${limit} bytes`);
}

/** The keys to verify with: fixed ones, or whatever the resolver picks for this request. */
export async function keysFor(settings: Settings, request: RequestInfo): Promise<readonly KeyObject[]> {
  let secrets;
  try {
    secrets = await settings.resolveSecret!(request);
  } catch (cause) {
    throw new WebhookError('misconfigured', 'The webhook secret could not be resolved', { cause });
  }
  const list = (typeof secrets === 'string' ? [secrets] : (secrets ?? [])).filter((s) => typeof s === 'string' && s !== '');
  if (list.length === 0) {
    throw new WebhookError('invalid_signature', 'Invalid signature', { cause: new Error('the secret resolver gave no secret for this request') });
  }
  return toKeys(list);
}

/** 401 unless the header is a valid HMAC of these exact bytes under one of the keys. */
export function authenticate(body: BodyInput, signature: unknown, keys: readonly KeyObject[]): void {
  const digest = parseSignatureHeader(signature);
  if (digest === undefined || !matchesAnyKey(body, digest, keys)) throw invalidSignature();
}

const notJson = (reason: string): WebhookPayloadError =>
  new WebhookPayloadError('invalid_json', `Body is not valid JSON: ${reason}`);

/** The authenticated bytes as a JSON value; strict UTF-8, so no byte is silently replaced. */
export function parseJson(body: BodyInput): unknown {
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    if (!isUtf8(body)) throw notJson('it is not UTF-8');
    text = (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)).toString('utf8');
  }
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the body, and error bodies never echo it.
    throw notJson('it could not be parsed');
  }
}

/** Deeper JSON than any AICommerce payload needs; it could only overflow the stack of code that recurses over it. */
export const MAX_DEPTH = 64;

/** 400 for JSON nested deeper than `MAX_DEPTH` (checked without recursing deeper than that itself). */
export function checkDepth(json: unknown): void {
  if (!withinDepth(json, MAX_DEPTH)) {
    throw new WebhookPayloadError('invalid_payload', `Payload is nested deeper than ${MAX_DEPTH} levels`);
  }
}

function withinDepth(value: unknown, levelsLeft: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (levelsLeft === 0) return false;
  // Indexed and for…in loops: no array of children is allocated on this per-request path.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!withinDepth(value[i], levelsLeft - 1)) return false;
  } else {
    for (const key in value) if (!withinDepth((value as Record<string, unknown>)[key], levelsLeft - 1)) return false;
  }
  return true;
}

const MAX_ISSUES = 20;

function toIssues(error: z.ZodError): PayloadIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** The result of validation: the event as its schema outputs it, and whether we know its name. */
export type Validated = { known: true; event: { event: string; timestamp: string; data: unknown } } | {
  known: false;
  event: z.output<typeof anyEnvelopeSchema>;
};

/**
 * Envelope and `data` against the event's schema (400 with issue paths). An event we have no
 * schema for is checked as an envelope only, then ignored or rejected as configured.
 */
export function validate(json: unknown, schemas: ReadonlyMap<string, z.ZodType>, rejectUnknown: boolean): Validated {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new WebhookPayloadError('invalid_payload', 'Payload must be a JSON object', [{ path: '', message: 'Expected an object' }]);
  }
  const name = (json as { event?: unknown }).event;
  const schema = typeof name === 'string' ? schemas.get(name) : undefined;
  if (schema !== undefined) {
    const result = schema.safeParse(json);
    if (!result.success) throw new WebhookPayloadError('invalid_payload', 'Payload does not match the event schema', toIssues(result.error));
    return { known: true, event: result.data as { event: string; timestamp: string; data: unknown } };
  }
  const envelope = anyEnvelopeSchema.safeParse(json);
  if (!envelope.success) throw new WebhookPayloadError('invalid_payload', 'Payload is not an AICommerce event', toIssues(envelope.error));
  if (rejectUnknown) {
    throw new WebhookPayloadError('unknown_event', 'Unknown event', [{ path: 'event', message: 'No schema is registered for this event' }]);
  }
  return { known: false, event: envelope.data };
}

/** 401 when the envelope's timestamp is further from now than the tolerance, either way. */
export function checkFreshness(timestamp: string, settings: Settings): void {
  if (settings.toleranceMs === undefined) return;
  const skewMs = settings.now() - Date.parse(timestamp);
  if (!(Math.abs(skewMs) <= settings.toleranceMs)) {
    throw new WebhookError(
      'stale_timestamp',
      `Timestamp outside the tolerance window: ${skewMs > 0 ? 'older' : 'later'} than ${settings.toleranceMs / 1000} s from now`,
    );
  }
}
