import type { BodyInput } from './signature.js';

// A delivery request as the package sees it, whichever adapter it came through.

/** Request headers as Node gives them (lower-case names). */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a secret resolver can look at to choose a secret (e.g. a store id header or path). */
export interface RequestInfo {
  readonly headers: IncomingHeaders;
  readonly url: string | undefined;
}

/** What `receive()` is given: the raw body and the signature header, and optionally the rest of the request. */
export interface ReceiveInput {
  body: BodyInput;
  /** The `x-webhook-signature` header value. */
  signature: string | readonly string[] | undefined;
  headers?: IncomingHeaders | undefined;
  url?: string | undefined;
}

export type BodyCallback = (error: unknown, body?: BodyInput) => void;

/** An HTTP request as an adapter hands it to the receiver: the head, and how to read the body once. */
export interface HttpRequest {
  readonly method: string | undefined;
  readonly headers: IncomingHeaders;
  /** The path and query (`/webhooks?store=1`), as a secret resolver sees it. */
  readonly url: string | undefined;
  /**
   * Reads the exact bytes of the body once, with the receiver's limit and timeout, and calls `done`
   * with them or with a `WebhookError` (a callback: raw-body's own shape, and no promise per request).
   */
  readBody(done: BodyCallback): void;
}
