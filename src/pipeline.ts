import { isUtf8 } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { WebhookError, WebhookPayloadError, invalidSignature, type PayloadIssue } from './errors.js';
import { anyEnvelopeSchema } from './events.js';
import { matchesAnyKey, parseSignatureHeader, toKeys, type BodyInput } from './signature.js';
import type { RequestInfo, Settings } from './options.js';
import { MAX_DEPTH, withinDepth } from './validation/depth.js';
import { compileFastCheck, type FastCheck } from './validation/fast-check.js';
import { timestampMs } from './validation/timestamp.js';

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

/** The authenticated bytes as text; strict UTF-8, so no byte is silently replaced. */
export function utf8Text(body: BodyInput): string {
  if (typeof body === 'string') return body;
  if (!isUtf8(body)) throw notJson('it is not UTF-8');
  return (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)).toString('utf8');
}

/** That text as a JSON value. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the body, and error bodies never echo it.
    throw notJson('it could not be parsed');
  }
}

/** The authenticated bytes as a JSON value. */
export const parseJson = (body: BodyInput): unknown => parseJsonText(utf8Text(body));

/** 400 for JSON nested deeper than `MAX_DEPTH` (checked without recursing deeper than that itself). */
function checkDepth(json: unknown): void {
  if (!withinDepth(json, MAX_DEPTH)) {
    throw new WebhookPayloadError('invalid_payload', `Payload is nested deeper than ${MAX_DEPTH} levels`);
  }
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

/** A whole-delivery schema and its fast check, compiled once (`undefined` when zod must always run). */
export interface EventValidator {
  readonly schema: z.ZodType;
  readonly fast: FastCheck | undefined;
}

export const eventValidator = (schema: z.ZodType): EventValidator => ({ schema, fast: compileFastCheck(schema) });

const anyEnvelope = eventValidator(anyEnvelopeSchema);

/**
 * Envelope and `data` against the event's schema (400 with issue paths), and the depth limit. An
 * event we have no schema for is checked as an envelope only, then ignored or rejected as configured.
 */
export function validate(json: unknown, validators: ReadonlyMap<string, EventValidator>, rejectUnknown: boolean): Validated {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    checkDepth(json);
    throw new WebhookPayloadError('invalid_payload', 'Payload must be a JSON object', [{ path: '', message: 'Expected an object' }]);
  }
  const name = (json as { event?: unknown }).event;
  const validator = typeof name === 'string' ? validators.get(name) : undefined;
  if (validator !== undefined) {
    return { known: true, event: conform(json, validator, 'Payload does not match the event schema') as { event: string; timestamp: string; data: unknown } };
  }
  const envelope = conform(json, anyEnvelope, 'Payload is not an AICommerce event') as z.output<typeof anyEnvelopeSchema>;
  if (rejectUnknown) {
    throw new WebhookPayloadError('unknown_event', 'Unknown event', [{ path: 'event', message: 'No schema is registered for this event' }]);
  }
  return { known: false, event: envelope };
}

/**
 * The schema's output for `json`. The fast check, when it passes, vouches that the output equals
 * the input (and that the depth limit holds); otherwise the depth is checked and zod decides.
 */
function conform(json: object, { schema, fast }: EventValidator, message: string): unknown {
  if (fast !== undefined && fast(json, MAX_DEPTH)) return json;
  checkDepth(json);
  const result = schema.safeParse(json);
  if (!result.success) throw new WebhookPayloadError('invalid_payload', message, toIssues(result.error));
  return result.data;
}

/** 401 when the envelope's timestamp is further from now than the tolerance, either way. */
export function checkFreshness(timestamp: string, settings: Settings): void {
  if (settings.toleranceMs === undefined) return;
  const skewMs = settings.now() - timestampMs(timestamp);
  if (!(Math.abs(skewMs) <= settings.toleranceMs)) {
    throw new WebhookError(
      'stale_timestamp',
      `Timestamp outside the tolerance window: ${skewMs > 0 ? 'older' : 'later'} than ${settings.toleranceMs / 1000} s from now`,
    );
  }
}
