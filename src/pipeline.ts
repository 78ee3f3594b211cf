import { isUtf8 } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import {
  invalidJson,
  invalidPayload,
  invalidSignature,
  misconfigured,
  payloadTooLarge,
  staleTimestamp,
  unknownEvent,
  type PayloadIssue,
} from './errors.js';
import { anyEnvelopeSchema, envelopeSchemaFor, type KnownEvent, type SchemaMap } from './events.js';

export type { KnownEvent } from './events.js';
import type { SecretResolver, Settings } from './options.js';
import type { ReceiveInput, RequestInfo } from './request.js';
import { matchesAnyKey, parseSignatureHeader, toKeys, type BodyInput } from './signature.js';
import { MAX_DEPTH, withinDepth } from './validation/depth.js';
import { compileCheck, type CompiledCheck } from './validation/compiled-check.js';
import { timestampMs } from './validation/timestamp.js';

// The checks of one delivery, in the order docs/architecture.md gives: size → signature → JSON →
// schema → freshness. Nothing unverified is parsed. None of them runs a handler or touches a store.

/** A delivery that passed every check: its event as the schema outputs it, and its body as text (for the queue). */
export type CheckedDelivery =
  | { readonly known: true; readonly event: KnownEvent; readonly body: BodyInput; readonly text: string; readonly timestampMs: number }
  | { readonly known: false; readonly event: z.output<typeof anyEnvelopeSchema>; readonly body: BodyInput; readonly text: string };

/** A whole-delivery schema and its compiled check, built once (`check` is `undefined` when zod must always run). */
export interface EventValidator {
  readonly schema: z.ZodType;
  readonly check: CompiledCheck | undefined;
}

/** Event name → its validator: the built-in schemas with the user's replacements and additions. */
export function compileSchemas(schemas: SchemaMap): Map<string, EventValidator> {
  const validators = new Map<string, EventValidator>();
  for (const [name, schema] of Object.entries(schemas)) {
    if (typeof (schema as Partial<z.ZodType> | undefined)?.safeParse !== 'function') {
      throw new TypeError(`schemas['${name}'] must be a zod schema of the event's data`);
    }
    validators.set(name, validatorOf(envelopeSchemaFor(name, schema)));
  }
  return validators;
}

const validatorOf = (schema: z.ZodType): EventValidator => ({ schema, check: compileCheck(schema) });
const anyEnvelope = validatorOf(anyEnvelopeSchema);

/**
 * Every check, in order; the first that fails throws its `WebhookError`. `keys` are the fixed
 * secrets' keys, or what `keysFor()` resolved for this request.
 */
export function checkDelivery(
  input: ReceiveInput,
  keys: readonly KeyObject[],
  settings: Settings,
  validators: ReadonlyMap<string, EventValidator>,
): CheckedDelivery {
  const body = rawBody(input.body); // 500: a parsed object can no longer be verified
  checkSize(body, settings.limit); // 413
  authenticate(body, input.signature, keys); // 401
  const text = utf8Text(body); // 400 invalid_json
  const json = parseJson(text); // 400 invalid_json
  const checked = validate(json, validators, settings.rejectUnknownEvents); // 400 invalid_payload, unknown_event
  const at = timestampMs(checked.event.timestamp); // read once: freshness, then latest wins
  checkFreshness(at, settings); // 401 stale_timestamp
  return checked.known ? { known: true, event: checked.event, body, text, timestampMs: at } : { known: false, event: checked.event, body, text };
}

function rawBody(body: unknown): BodyInput {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  throw misconfigured('receive() needs the raw body as a string, Buffer or Uint8Array: a parsed object can no longer be verified');
}

function checkSize(body: BodyInput, limit: number): void {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > limit) throw payloadTooLarge(limit);
}

/** The keys a secret resolver (the `secret` option as a function) picks for this request. */
export async function keysFor(resolveSecret: SecretResolver, request: RequestInfo): Promise<readonly KeyObject[]> {
  let secrets;
  try {
    secrets = await resolveSecret(request);
  } catch (cause) {
    throw misconfigured('The webhook secret could not be resolved', cause);
  }
  const list = (typeof secrets === 'string' ? [secrets] : (secrets ?? [])).filter((s) => typeof s === 'string' && s !== '');
  if (list.length === 0) throw invalidSignature(new Error('the secret resolver gave no secret for this request'));
  return toKeys(list);
}

/** 401 unless the header is a valid HMAC of these exact bytes under one of the keys. */
function authenticate(body: BodyInput, signature: unknown, keys: readonly KeyObject[]): void {
  const digest = parseSignatureHeader(signature);
  if (digest === undefined || !matchesAnyKey(body, digest, keys)) throw invalidSignature();
}

/** The authenticated bytes as text; strict UTF-8, so no byte is silently replaced. */
export function utf8Text(body: BodyInput): string {
  if (typeof body === 'string') return body;
  if (!isUtf8(body)) throw invalidJson('it is not UTF-8');
  return (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)).toString('utf8');
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJson('it could not be parsed'); // V8's message quotes the body, and error bodies never echo it
  }
}

type Validated = { known: true; event: KnownEvent } | { known: false; event: z.output<typeof anyEnvelopeSchema> };

/**
 * Envelope and `data` against the event's schema (400 with issue paths), and the depth limit. An
 * event we have no schema for is checked as an envelope only, then ignored or rejected as configured.
 */
export function validate(json: unknown, validators: ReadonlyMap<string, EventValidator>, rejectUnknown: boolean): Validated {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    checkDepth(json);
    throw invalidPayload('Payload must be a JSON object', [{ path: '', message: 'Expected an object' }]);
  }
  const name = (json as { event?: unknown }).event;
  const validator = typeof name === 'string' ? validators.get(name) : undefined;
  if (validator !== undefined) return { known: true, event: conform(json, validator, 'Payload does not match the event schema') as KnownEvent };
  const envelope = conform(json, anyEnvelope, 'Payload is not an AICommerce event') as z.output<typeof anyEnvelopeSchema>;
  if (rejectUnknown) throw unknownEvent();
  return { known: false, event: envelope };
}

/**
 * The schema's output for `json`. The compiled check, when it passes, vouches that the output
 * equals the input (and that the depth limit holds); otherwise the depth is checked and zod decides.
 */
function conform(json: object, { schema, check }: EventValidator, message: string): unknown {
  if (check !== undefined && check(json, MAX_DEPTH)) return json;
  checkDepth(json);
  const result = schema.safeParse(json);
  if (!result.success) throw invalidPayload(message, toIssues(result.error));
  return result.data;
}

/** 400 for JSON nested deeper than `MAX_DEPTH` (checked without recursing deeper than that itself). */
function checkDepth(json: unknown): void {
  if (!withinDepth(json, MAX_DEPTH)) throw invalidPayload(`Payload is nested deeper than ${MAX_DEPTH} levels`);
}

const MAX_ISSUES = 20;

const toIssues = (error: z.ZodError): PayloadIssue[] =>
  error.issues.slice(0, MAX_ISSUES).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));

/** 401 when the envelope's timestamp is further from now than the tolerance, either way. */
function checkFreshness(timestampMs: number, settings: Settings): void {
  if (settings.toleranceMs === undefined) return;
  const skewMs = settings.now() - timestampMs;
  if (!(Math.abs(skewMs) <= settings.toleranceMs)) throw staleTimestamp(skewMs > 0 ? 'older' : 'later', settings.toleranceMs);
}
