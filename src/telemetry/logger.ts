import { WebhookPayloadError, type PayloadIssue, type WebhookError } from '../errors.js';

/** What logs and spans say about a delivery besides its outcome (worked out in facts.ts). */
export interface DeliveryFacts {
  event?: string;
  deliveryId?: string;
}

/**
 * A pino-style logger: pino itself, a pino child logger, or anything with `warn(obj, msg)` and
 * `error(obj, msg)`. Rejections (4xx) are logged with `warn`, failures (5xx) with `error`; a queued
 * mode worker adds a `warn` per failed attempt and, when the logger has `info`, a line once ready.
 */
export interface WebhookLogger {
  /** Rejections (4xx). */
  warn(record: WebhookLogRecord, message: string): unknown;
  /** Failures (5xx). */
  error(record: WebhookLogRecord, message: string): unknown;
  /** Facts that are no failure, called when the logger has it: a superseded delivery, a worker ready and where it listens, a dead letter kept. */
  info?(record: WebhookInfoRecord, message: string): unknown;
}

/** An `info` record: what happened, never the body, a signature or a secret. */
export interface WebhookInfoRecord {
  outcome?: string;
  status?: number;
  event?: string;
  deliveryId?: string;
  orderKey?: string;
  [field: string]: unknown;
}

/** What a log record holds: never the body, a signature or a secret. The message is the error's own (safe) message. */
export interface WebhookLogRecord {
  /** The machine-readable code: `invalid_signature`, `handler_failed` … */
  code: string;
  /** The HTTP status answered. */
  status: number;
  /** The event name, once the body was authenticated and read. */
  event?: string;
  /** SHA-256 (hex) of the raw body (`context.id`), once the body was authenticated. */
  deliveryId?: string;
  /** For a 400: where the payload is wrong, never the values. */
  issues?: readonly PayloadIssue[];
  /** For a 5xx: the error, its cause(s) attached (pino's `err` serializer prints the chain). */
  err?: WebhookError;
  /** A queued mode worker's failed attempt: which one, of how many, the wait before the next, the handlers' messages. */
  attempt?: number;
  attempts?: number;
  retryInMs?: number;
  errors?: readonly string[];
}

export function logError(logger: WebhookLogger, error: WebhookError, facts: DeliveryFacts = {}): void {
  const record: WebhookLogRecord = { code: error.code, status: error.status };
  if (facts.event !== undefined) record.event = facts.event;
  if (facts.deliveryId !== undefined) record.deliveryId = facts.deliveryId;
  try {
    if (error.status >= 500) {
      record.err = error;
      logger.error(record, error.message);
    } else {
      if (error instanceof WebhookPayloadError && error.issues.length > 0) record.issues = error.issues;
      logger.warn(record, error.message);
    }
  } catch (loggerError) {
    // A broken logger must not change the answer; it is worth one warning, like a broken onError observer.
    process.emitWarning(`the logger threw: ${loggerError instanceof Error ? loggerError.message : String(loggerError)}`, {
      type: 'AICommerceWebhooksWarning',
    });
  }
}
