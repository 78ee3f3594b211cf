import { STATUS_CODES } from 'node:http';
import { invalidSignature, STATUS_BY_CODE, WebhookHandlerError, type WebhookErrorCode } from '../errors.js';
import { answerForError, answerForResult } from '../http/answers.js';
import type { JsonSchema } from './json-schema.js';
import type { OpenAPIResponse } from './types.js';

// The answers of the status table (README.md) as OpenAPI responses. Which code answers with which
// status comes from STATUS_BY_CODE, and the examples are the bodies the adapters really write,
// so neither can drift from the code; only the sentences below are written by hand.

/** What each code means for the sender, in a few words. Typed by the codes: a new code needs a line. */
const MEANING: { readonly [Code in WebhookErrorCode]: string } = {
  invalid_signature: 'the `x-webhook-signature` header is missing, malformed or does not match the body',
  stale_timestamp: 'the envelope `timestamp` is outside the tolerance window',
  invalid_json: 'the body is not UTF-8 JSON',
  invalid_payload: "the body fails the envelope or the event's schema (`issues` say where), or nests deeper than 64 levels",
  unknown_event: 'no schema is registered for the event (`unknownEvents: "reject"`)',
  incomplete_body: 'the connection closed before the whole body arrived',
  not_found: 'another path, on a bare server with `path` set',
  method_not_allowed: 'a method other than POST',
  body_timeout: 'the body did not arrive within `bodyTimeout`',
  in_flight: 'the same delivery is being processed by another request',
  payload_too_large: 'the body is over the size limit',
  unsupported_media_type: 'the content type is not JSON, its charset not UTF-8, or the body is compressed',
  handler_failed: 'a handler threw or rejected (nothing of it is sent back)',
  misconfigured: 'the receiver is misconfigured: a body parser ran first and kept no raw copy, or the secret resolver failed',
  store_unavailable: 'the dedupe store is unreachable; nothing was processed',
  queue_unavailable: 'queued mode: the queue did not acknowledge the delivery in time; it may still be stored (a retry adds no second job)',
  no_handler: 'queued mode, worker only: no handler of the worker matches the event (never an answer)',
};

/** Headers some statuses always carry. */
const HEADERS: Readonly<Record<number, Record<string, { description: string; required: true; schema: JsonSchema }>>> = {
  405: { Allow: { description: 'The one method webhooks are delivered with.', required: true, schema: { type: 'string', const: 'POST' } } },
  503: {
    'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } },
  },
};

/** What the receiver is set up to do, which decides the answers it can give. */
export interface AnswerScope {
  /** A dedupe store is used (inline mode): duplicates, `in_flight` and `store_unavailable` can happen. */
  readonly dedupe: boolean;
  /** Queued mode: 202 once stored, `queue_unavailable`; 200 `duplicate` where the queue tells a copy apart (BullMQDeliveryQueue answers a copy 202); handlers run in workers. */
  readonly queue: boolean;
  /** Timestamps are checked (`tolerance` is not `false`). */
  readonly tolerance: boolean;
  /** How an event without a schema is answered; `undefined` where the event is known (a `webhooks` entry). */
  readonly unknownEvents: 'ignore' | 'reject' | undefined;
  /** Latest wins applies inline (the event has an entity key): 200 `superseded`, and 409 while another delivery of the entity runs. */
  readonly ordered: boolean;
}

/** Codes no single delivery endpoint answers with: a request for another path never reaches it; a worker's own failure. */
const NEVER = new Set<WebhookErrorCode>(['not_found', 'no_handler']);

function applicable(code: WebhookErrorCode, scope: AnswerScope): boolean {
  if (NEVER.has(code)) return false;
  if (code === 'unknown_event') return scope.unknownEvents === 'reject';
  if (code === 'in_flight' || code === 'store_unavailable') return scope.dedupe || (scope.ordered && !scope.queue);
  if (code === 'queue_unavailable') return scope.queue;
  if (code === 'handler_failed') return !scope.queue; // a worker's failure is retried by the queue, never answered
  if (code === 'stale_timestamp') return scope.tolerance;
  return true;
}

const json = (body: string): unknown => JSON.parse(body);
type Outcome = 'handled' | 'queued' | 'duplicate' | 'superseded' | 'ignored';
const successAnswer = (outcome: Outcome) => answerForResult({ outcome, event: {} } as Parameters<typeof answerForResult>[0]);

/** Bodies the adapters write, as examples of the codes they answer with. */
const ERROR_EXAMPLES: { readonly [Code in WebhookErrorCode]?: unknown } = {
  invalid_signature: json(answerForError(invalidSignature()).body),
  handler_failed: json(answerForError(new WebhookHandlerError([new Error('hidden')], undefined)).body),
};

/** `{ error, code, issues? }`, the body of every rejection: a schema shared by every response. */
export const errorBodySchema: JsonSchema = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'A message safe to show: never the body, the secret or a stack.' },
    code: { type: 'string', enum: Object.keys(STATUS_BY_CODE), description: 'The stable, machine-readable reason.' },
    issues: {
      type: 'array',
      description: 'For 400 answers: where the body is wrong (at most 20), never the values themselves.',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', description: 'Dotted path into the body, e.g. `data.products.0.name`; empty for the body itself.' },
          message: { type: 'string' },
        },
      },
    },
  },
};

/** `{ received: true, … }`, the body of every 2xx answer. */
export const receivedBodySchema: JsonSchema = {
  type: 'object',
  required: ['received'],
  properties: {
    received: { const: true },
    queued: { const: true, description: 'Queued mode: stored for the workers, not yet processed (202).' },
    duplicate: { const: true, description: 'Already processed, or already stored: nothing ran again.' },
    superseded: { const: true, description: 'Older than a delivery of the same entity already applied (latest wins): nothing ran.' },
    ignored: { const: true, description: 'No schema is registered for the event: nothing ran.' },
  },
  additionalProperties: false,
};

/** The responses of one delivery operation, by status; `$ref`s point into `components.schemas`. */
export function responses(scope: AnswerScope, refs: { error: string; received: string }): Record<string, OpenAPIResponse> {
  const out: Record<string, OpenAPIResponse> = {};
  for (const [status, outcomes] of successes(scope)) out[String(status)] = success(outcomes, scope, refs.received);
  const byStatus = new Map<number, WebhookErrorCode[]>();
  for (const [code, status] of Object.entries(STATUS_BY_CODE) as [WebhookErrorCode, number][]) {
    if (applicable(code, scope)) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) out[String(status)] = rejection(status, codes, refs.error);
  return out;
}

/** The 2xx answers this receiver can give, by status: 200, and 202 in queued mode. */
function successes(scope: AnswerScope): Map<number, Outcome[]> {
  const outcomes: Outcome[] = [scope.queue ? 'queued' : 'handled'];
  if (scope.dedupe || scope.queue) outcomes.push('duplicate');
  if (scope.ordered && !scope.queue) outcomes.push('superseded');
  if (scope.unknownEvents === 'ignore') outcomes.push('ignored');
  const byStatus = new Map<number, Outcome[]>();
  for (const outcome of outcomes) {
    const { status } = successAnswer(outcome);
    byStatus.set(status, [...(byStatus.get(status) ?? []), outcome]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

const SAID: { readonly [O in Outcome]: string } = {
  handled: 'the handlers ran and succeeded',
  queued: 'the delivery is stored for the workers, which run the handlers',
  duplicate: 'the delivery is a copy of one already processed (nothing ran again)',
  superseded: 'a newer delivery of the same entity was applied already (latest wins: nothing ran)',
  ignored: 'the event has no schema (nothing ran)',
};

function success(outcomes: readonly Outcome[], scope: AnswerScope, ref: string): OpenAPIResponse {
  const said = (o: Outcome): string => (o === 'duplicate' && scope.queue ? 'the delivery is a copy of one already stored (no second job)' : SAID[o]);
  return {
    description: `Received: ${outcomes.map(said).join('; or ')}. AICommerce does not retry.`,
    content: {
      'application/json': {
        schema: { $ref: ref },
        examples: Object.fromEntries(outcomes.map((outcome) => [outcome, { value: json(successAnswer(outcome).body) }])),
      },
    },
  };
}

function rejection(status: number, codes: readonly WebhookErrorCode[], ref: string): OpenAPIResponse {
  const examples = codes.flatMap((code) => (ERROR_EXAMPLES[code] === undefined ? [] : [[code, { value: ERROR_EXAMPLES[code] }] as const]));
  return {
    description: `${STATUS_CODES[status]}: the delivery was not processed. \`code\`:\n\n${codes.map((code) => `- \`${code}\`: ${MEANING[code]}`).join('\n')}`,
    ...(HEADERS[status] === undefined ? {} : { headers: HEADERS[status] }),
    content: {
      'application/json': {
        schema: { allOf: [{ $ref: ref }, { type: 'object', properties: { code: { enum: [...codes] } } }] },
        ...(examples.length === 0 ? {} : { examples: Object.fromEntries(examples) }),
      },
    },
  };
}
