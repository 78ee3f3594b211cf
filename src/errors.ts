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
  /** The delivery it concerns, where the reporter knows it (a queued mode worker's job: its id and event). */
  declare readonly delivery?: { readonly id: string; readonly event: string };

  constructor(
    code: WebhookErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
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

  constructor(
    code: 'invalid_json' | 'invalid_payload' | 'unknown_event',
    message: string,
    issues: readonly PayloadIssue[] = [],
  ) {
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

export const invalidSignature = (): WebhookError =>
  new WebhookError('invalid_signature', 'Invalid signature');
