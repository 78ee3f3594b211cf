/** The HTTP status of every rejection, by its machine-readable code: the one table adapters answer from. */
export const STATUS_BY_CODE = {
  invalid_signature: 401,
  stale_timestamp: 401,
  invalid_json: 400,
  invalid_payload: 400,
  unknown_event: 400,
  incomplete_body: 400,
  not_found: 404,
  method_not_allowed: 405,
  body_timeout: 408,
  in_flight: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  handler_failed: 500,
  // A worker-only code (no request is answered with it): 500 as for handler_failed, since the fix is
  // ours (a deploy that lacks a registration), not the sender's, and it is logged at error level.
  no_handler: 500,
  misconfigured: 500,
  store_unavailable: 503,
  queue_unavailable: 503,
} as const;

/** The machine-readable `code` of a `WebhookError` (`invalid_signature`, `handler_failed` …): the keys of `STATUS_BY_CODE`. */
export type WebhookErrorCode = keyof typeof STATUS_BY_CODE;

/** One problem found in a payload: where (`data.products.0.name`) and what, never the value itself. */
export interface PayloadIssue {
  path: string;
  message: string;
}

/**
 * Every rejection of a delivery. `status` is the HTTP answer, `code` the stable name to branch on;
 * `message` is safe to send back: it never holds the body, the secret or a stack.
 */
export class WebhookError extends Error {
  override name = 'WebhookError';
  readonly code: WebhookErrorCode;
  readonly status: number;
  /** Response headers the answer needs (`Allow`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The delivery's event name, once its body was authenticated and read (set when it is reported). */
  eventName?: string;
  /** The delivery id (`context.id`, SHA-256 hex of the raw body), once the body was authenticated (set when it is reported). */
  deliveryId?: string;

  constructor(code: WebhookErrorCode, message: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS_BY_CODE[code];
    this.headers = options.headers ?? {};
  }
}

/** The body is not JSON, or does not match the envelope or its event's schema (400). */
export class WebhookPayloadError extends WebhookError {
  override name = 'WebhookPayloadError';
  readonly issues: readonly PayloadIssue[];

  constructor(code: 'invalid_json' | 'invalid_payload' | 'unknown_event', message: string, issues: readonly PayloadIssue[] = []) {
    super(code, message);
    this.issues = issues;
  }
}

/**
 * One or more handlers threw or rejected (500, so AICommerce retries). `errors` holds every
 * failure, like an `AggregateError`; they are reported to `onError`, never sent to the caller.
 */
export class WebhookHandlerError extends WebhookError {
  override name = 'WebhookHandlerError';
  readonly errors: readonly unknown[];
  /** The validated event the handlers were given (not enumerable, so loggers don't print the body). */
  declare readonly event: unknown;

  constructor(errors: readonly unknown[], event: unknown) {
    super('handler_failed', 'Webhook handler failed', { cause: errors[0] });
    this.errors = errors;
    Object.defineProperty(this, 'event', { value: event, enumerable: false });
  }
}

// Every rejection the package makes, by name: one place for each code's words and headers.

/** A Retry-After that tells AICommerce (and anyone else) to come back soon, not at once. */
const RETRY_SOON = { 'retry-after': '5' } as const;

export const invalidSignature = (cause?: unknown): WebhookError => new WebhookError('invalid_signature', 'Invalid signature', { cause });

export const staleTimestamp = (direction: 'older' | 'later', toleranceMs: number): WebhookError =>
  new WebhookError('stale_timestamp', `Timestamp outside the tolerance window: ${direction} than ${toleranceMs / 1000} s from now`);

export const invalidJson = (reason: string): WebhookPayloadError => new WebhookPayloadError('invalid_json', `Body is not valid JSON: ${reason}`);

export const invalidPayload = (message: string, issues: readonly PayloadIssue[] = []): WebhookPayloadError =>
  new WebhookPayloadError('invalid_payload', message, issues);

export const unknownEvent = (): WebhookPayloadError =>
  new WebhookPayloadError('unknown_event', 'Unknown event', [{ path: 'event', message: 'No schema is registered for this event' }]);

export const payloadTooLarge = (limit: number): WebhookError => new WebhookError('payload_too_large', `Payload too large: the limit is ${limit} bytes`);

export const bodyTimeout = (ms: number): WebhookError => new WebhookError('body_timeout', `Request body not received within ${ms} ms`);

export const incompleteBody = (message: string, cause?: unknown): WebhookError => new WebhookError('incomplete_body', message, { cause });

export const methodNotAllowed = (): WebhookError =>
  new WebhookError('method_not_allowed', 'Method not allowed: webhooks are delivered with POST', { headers: { allow: 'POST' } });

export const unsupportedMediaType = (message: string, headers?: Record<string, string>): WebhookError =>
  new WebhookError('unsupported_media_type', message, headers === undefined ? {} : { headers });

export const notFound = (): WebhookError => new WebhookError('not_found', 'Not found');

export const inFlight = (message = 'This delivery is being processed by another request'): WebhookError => new WebhookError('in_flight', message);

export const storeUnavailable = (message: string, cause: unknown): WebhookError =>
  new WebhookError('store_unavailable', message, { cause, headers: RETRY_SOON });

/**
 * Queued mode's 503, honest about what it means: not acknowledged is not "not stored" — the job may
 * still land, and a copy adds no second one. `why` says what happened (`within 3000 ms`, `: Redis is
 * unreachable (…)`); `stored: false` where Redis itself refused (out of memory, CROSSSLOT).
 */
export const queueUnavailable = (cause: unknown, why = ' in time', { stored = 'maybe' }: { stored?: 'maybe' | false } = {}): WebhookError =>
  new WebhookError(
    'queue_unavailable',
    stored === false ? `Delivery not stored${why}` : `Delivery not acknowledged by the queue${why}; it may still be stored (a retry adds no second job)`,
    { cause, headers: RETRY_SOON },
  );

/** Queued mode's trouble that no request carries (Redis lost between requests), for the reports: no answer is made of it. */
export const queueTrouble = (message: string, cause: unknown): WebhookError => new WebhookError('queue_unavailable', message, { cause });

/** A worker's job whose event none of its handlers matches. */
export const noHandler = (event: string): WebhookError =>
  new WebhookError('no_handler', `No handler for '${event}' in this worker: add one with on('${event}', …), then retry the failed job`);

export const misconfigured = (message: string, cause?: unknown): WebhookError => new WebhookError('misconfigured', message, { cause });

/** Whatever escaped the pipeline, as the `WebhookError` the adapters answer with (a bug of ours or a broken dependency: 500). */
export const asWebhookError = (error: unknown): WebhookError =>
  error instanceof WebhookError ? error : misconfigured('Webhook receiver failed', error);
