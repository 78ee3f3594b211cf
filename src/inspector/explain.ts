import { isUtf8 } from 'node:buffer';
import { WebhookHandlerError, WebhookPayloadError, type WebhookErrorCode } from '../errors.js';
import type { IncomingHeaders } from '../request.js';
import { parseSignatureHeader } from '../signature.js';
import type { DeliveryRecord } from './source.js';

// Why a delivery was answered as it was, in words, from its record alone: the headers and body
// as they arrived, the error's code, message and issues, and the receiver's tolerance. The page
// shows `summary` in the list and `details` under it.

export interface Explanation {
  /** Which step decided: 'method', 'content type', 'size', 'body', 'signature', 'JSON', 'schema', 'freshness', … */
  readonly check: string;
  /** One line, e.g. "signed with another secret, or the body was changed after signing". */
  readonly summary: string;
  /** More lines: one per schema issue, per failed handler, the rule that applies. */
  readonly details: readonly string[];
}

export interface ExplainContext {
  readonly toleranceMs: number | undefined;
}

const SIGNATURE = 'x-webhook-signature';

export function explain(record: DeliveryRecord, context: ExplainContext): Explanation {
  const error = record.error;
  if (error === undefined) return explainSuccess(record);
  return BY_CODE[error.code](record, context);
}

type Explainer = (record: DeliveryRecord, context: ExplainContext) => Explanation;

const said = (check: string, summary: string, ...details: string[]): Explanation => ({ check, summary, details });

/** Every code has its words; a code added to STATUS_BY_CODE without them does not compile. */
const BY_CODE: Record<WebhookErrorCode, Explainer> = {
  invalid_signature: (record) => explainSignature(record),
  stale_timestamp: (record, { toleranceMs }) => explainStale(record, toleranceMs),
  invalid_json: (record) => explainJson(record),
  invalid_payload: (record) => explainPayload(record),
  unknown_event: (record) =>
    said('schema', `no schema for event ${quote(record.event ?? '?')}, and the receiver rejects unknown events`, "unknownEvents: 'reject' is set; add the event with createWebhookReceiver({ schemas }), or ignore unknown events."),
  incomplete_body: () => said('body', 'the client closed the connection before the whole body arrived'),
  not_found: (record) => said('path', `${quote(record.url ?? '?')} is not the receiver's path`, "The receiver's path option limits it to one path; other paths get 404 (or next())."),
  method_not_allowed: (record) => said('method', `method ${record.method ?? '?'}: webhooks are delivered with POST`),
  body_timeout: (record) => said('body', 'the body did not arrive in time', `${record.error!.message}. A slow or stalled client; the bodyTimeout option sets the wait.`),
  in_flight: (record) =>
    record.error!.message.includes('same entity')
      ? said('order', 'another delivery of the same entity was still being processed: one per entity runs at a time (latest wins)', 'The sender retries it; by then the other one is applied, and this one runs or is superseded.')
      : said('dedupe', 'the same delivery (the same body) was still being processed by another request', 'The sender retries it; by then it is done, and the retry is answered as a duplicate.'),
  payload_too_large: (record) => explainSize(record),
  unsupported_media_type: (record) => explainMediaType(record.headers),
  handler_failed: (record) => explainHandlers(record),
  misconfigured: (record) => said('setup', record.error!.message, ...causeOf(record)),
  store_unavailable: (record) => said('dedupe store', 'the dedupe store could not be reached; nothing was processed', ...causeOf(record), 'The answer is 503 with Retry-After, so the sender retries.'),
  queue_unavailable: (record) => said('queue', 'the delivery queue did not acknowledge the job in time', ...causeOf(record), 'The answer is 503 with Retry-After, so the sender retries.'),
  no_handler: (record) => said('handlers', `no handler of the worker matches event ${quote(record.event ?? '?')}`, 'A queued mode worker fails such a job at once; add the handler, deploy, then retry the dead letter.'),
};

function explainSuccess(record: DeliveryRecord): Explanation {
  const ran = record.handlers.length;
  const handlers = ran === 0 ? 'no handler matched' : `${ran} handler${ran === 1 ? '' : 's'} ran`;
  switch (record.outcome) {
    case 'handled':
      return said('handlers', `verified, valid and fresh; ${handlers}`);
    case 'ignored':
      return said('schema', `no schema for event ${quote(record.event ?? '?')}: answered 200 and ignored`, "unknownEvents: 'ignore' (the default) answers unknown events 200 without running handlers.");
    case 'duplicate':
      return said(
        'dedupe',
        'already processed: a delivery with this exact body succeeded before, so no handler ran again',
        "The delivery id is the SHA-256 of the body; it is remembered for twice the tolerance. Replay (which writes a new timestamp) makes a new one.",
      );
    case 'queued':
      return said('queue', 'stored for the workers: they run the handlers');
    case 'superseded':
      return said('order', 'a later snapshot of the same entity was already applied, so its handlers did not run', 'Latest wins: per entity key (the order option), an older delivery never overwrites a newer one.');
    default:
      return said('?', `answered ${record.status}`);
  }
}

function explainSignature(record: DeliveryRecord): Explanation {
  const cause = record.error?.cause;
  if (cause instanceof Error && /resolver/.test(cause.message)) {
    return said('signature', 'your secret resolver gave no secret for this request', cause.message);
  }
  const header = record.headers[SIGNATURE];
  if (header === undefined) return said('signature', `no ${SIGNATURE} header`, 'Every delivery carries sha256=<hex HMAC of the body>.');
  if (Array.isArray(header)) return said('signature', `the ${SIGNATURE} header was sent ${header.length} times`, 'Exactly one is expected.');
  if (parseSignatureHeader(header) === undefined) {
    return said('signature', 'malformed signature header', `Expected sha256= and 64 hex digits; got ${describeHeader(String(header))}.`);
  }
  return said(
    'signature',
    'signed with another secret, or the body was changed after signing',
    'The header is well formed but is not the HMAC of these bytes under the receiver’s secret(s). Check the secret given to client.webhooks.create, and that nothing re-serialised the body before it was verified.',
  );
}

function describeHeader(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  const scheme = /^([\w-]+)=/.exec(value)?.[1];
  const hint = scheme !== undefined && scheme !== 'sha256' ? ` (scheme ${scheme})` : value.startsWith('sha256=') ? ` (${value.length - 7} characters after sha256=)` : '';
  return `${quote(shown)}${hint}`;
}

function explainStale(record: DeliveryRecord, toleranceMs: number | undefined): Explanation {
  // Only a parsed, valid envelope reaches the freshness check, and only with a tolerance set.
  const timestamp = String(envelopeOf(record)?.timestamp);
  const tolerance = ` (tolerance ${duration(toleranceMs ?? 0)})`;
  const skew = record.at - Date.parse(timestamp);
  const summary = skew >= 0 ? `timestamp ${duration(skew)} old${tolerance}` : `timestamp ${duration(-skew)} in the future${tolerance}`;
  return said(
    'freshness',
    summary,
    `Timestamp ${timestamp}. A captured delivery cannot be replayed once its timestamp is outside the window; a clock that is off does the same.`,
  );
}

function explainJson(record: DeliveryRecord): Explanation {
  const body = record.body;
  if (body !== undefined && typeof body !== 'string' && !isUtf8(body)) {
    return said('JSON', 'the body is not UTF-8 text');
  }
  try {
    JSON.parse(textOf(body));
  } catch (error) {
    return said('JSON', 'the body is not JSON', (error as SyntaxError).message);
  }
  return said('JSON', 'the body is not JSON');
}

function explainPayload(record: DeliveryRecord): Explanation {
  const error = record.error!;
  const issues = error instanceof WebhookPayloadError ? error.issues : [];
  const lines = issues.map((issue) => (issue.path === '' ? `the body: ${issue.message}` : `field ${issue.path}: ${issue.message}`));
  const first = lines[0];
  const summary = first === undefined ? error.message : issues.length === 1 ? first : `${first} (and ${issues.length - 1} more)`;
  return said('schema', summary, ...(issues.length === 1 ? [] : lines), `${error.message}.`);
}

function explainSize(record: DeliveryRecord): Explanation {
  const declared = single(record.headers['content-length']);
  const size = declared !== undefined ? `a body of ${Number(declared).toLocaleString('en')} bytes (content-length)` : 'a body';
  return said('size', `${size} over the limit`, `${record.error!.message}. The limit option sets it.`);
}

function explainMediaType(headers: IncomingHeaders): Explanation {
  const encoding = single(headers['content-encoding'])?.trim();
  if (encoding !== undefined && encoding !== '' && encoding.toLowerCase() !== 'identity') {
    return said('content type', `content-encoding ${quote(encoding)}: send the body uncompressed`);
  }
  const type = single(headers['content-type']);
  if (type === undefined) return said('content type', 'no content-type header: send application/json');
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) return said('content type', `charset ${quote(charset)}: send UTF-8 JSON`);
  return said('content type', `content-type ${quote(type)}: send application/json`);
}

function explainHandlers(record: DeliveryRecord): Explanation {
  const failed = record.handlers.filter((run) => !run.ok);
  const lines = failed.map((run) => `${handlerLabel(run)} threw: ${messageOf(run.error)}`);
  if (lines.length === 0) {
    const error = record.error;
    const errors = error instanceof WebhookHandlerError ? error.errors : [];
    lines.push(...errors.map((e) => `a handler threw: ${messageOf(e)}`));
  }
  const summary = lines.length === 1 ? lines[0]! : `${lines.length} handlers failed`;
  return said('handlers', summary, ...(lines.length === 1 ? [] : lines), 'The answer is 500, so AICommerce retries; the dedupe claim is released so that the retry runs.');
}

export function handlerLabel(run: { readonly key: string; readonly name: string }): string {
  return run.name === '' ? `handler ${run.key}` : `handler ${run.name} (${run.key})`;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message === '' ? error.name : `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}

function causeOf(record: DeliveryRecord): string[] {
  const cause = record.error?.cause;
  return cause === undefined ? [] : [`Cause: ${messageOf(cause)}`];
}

const single = (value: string | readonly string[] | undefined): string | undefined => (typeof value === 'string' ? value : value?.[0]);

const quote = (value: string): string => JSON.stringify(value);

function textOf(body: DeliveryRecord['body']): string {
  if (body === undefined) return '';
  return typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

/** The parsed body when it is a JSON object, else `undefined`. */
export function envelopeOf(record: Pick<DeliveryRecord, 'body'>): { event?: unknown; timestamp?: unknown; data?: unknown } | undefined {
  try {
    const json: unknown = JSON.parse(textOf(record.body));
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

/** `600000` → `'10 min'`, `95000` → `'1 min 35 s'`. */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return seconds === 0 && ms > 0 ? `${Math.round(ms)} ms` : `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes < 60) return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  const hours = Math.floor(minutes / 60);
  const restMinutes = minutes % 60;
  if (hours < 48) return restMinutes === 0 ? `${hours} h` : `${hours} h ${restMinutes} min`;
  return `${Math.round(hours / 24)} days`;
}
