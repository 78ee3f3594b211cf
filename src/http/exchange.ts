import { parse as parseContentType } from 'content-type';
import { WebhookError, WebhookPayloadError } from '../errors.js';
import type { ReceiveResult } from '../core.js';

// What both HTTP adapters share: the checks made on the request line and headers before a byte
// of the body is read, and the one mapping from outcomes and errors to status, headers and body.

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/** 405 for a method other than POST, 415 for a body that is not plain UTF-8 JSON. */
export function checkRequestHead(
  method: string | undefined,
  contentType: string | null | undefined,
  contentEncoding: string | null | undefined,
): WebhookError | undefined {
  if (method !== 'POST') {
    return new WebhookError('method_not_allowed', 'Method not allowed: webhooks are delivered with POST', { headers: { allow: 'POST' } });
  }
  // The exact value AICommerce sends needs no parsing (this runs for every request).
  if (contentType !== 'application/json') {
    // Read by `content-type`, as Express and body-parser read it (type and parameter names lower-cased).
    const parsed = typeof contentType === 'string' ? parseContentType(contentType) : undefined;
    if (parsed === undefined || !JSON_MEDIA_TYPE.test(parsed.type)) {
      return new WebhookError('unsupported_media_type', 'Unsupported Content-Type: send application/json', {
        headers: { accept: 'application/json' },
      });
    }
    const charset = parsed.parameters['charset']?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return new WebhookError('unsupported_media_type', 'Unsupported charset: send UTF-8 JSON');
    }
  }
  const encoding = contentEncoding?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    // Inflating would let a small request expand into a huge body; AICommerce sends identity.
    return new WebhookError('unsupported_media_type', 'Unsupported Content-Encoding: send the body uncompressed');
  }
  return undefined;
}

/** A whole HTTP answer, ready for either adapter to write. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

const fixedAnswer = (body: object, status = 200): Answer => ({ status, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(body) });

const ANSWERS = {
  handled: fixedAnswer({ received: true }),
  ignored: fixedAnswer({ received: true, ignored: true }),
  duplicate: fixedAnswer({ received: true, duplicate: true }),
  // Accepted, not yet processed: a worker runs the handlers.
  queued: fixedAnswer({ received: true, queued: true }, 202),
} as const;

export function answerForResult(result: ReceiveResult<unknown>): Answer {
  return ANSWERS[result.outcome];
}

/** `{ error, code, issues? }`: the error's safe message, never its cause, body or stack. */
export function answerForError(error: unknown): Answer {
  const known = error instanceof WebhookError ? error : new WebhookError('misconfigured', 'Webhook receiver failed');
  const body: { error: string; code: string; issues?: unknown } = { error: known.message, code: known.code };
  if (known instanceof WebhookPayloadError) body.issues = known.issues;
  return {
    status: known.status,
    headers: { ...known.headers, 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

export const notFound = (): WebhookError => new WebhookError('not_found', 'Not found');
