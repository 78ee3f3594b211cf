import type { ReceiveInput } from '../core.js';
import type { WebhookError } from '../errors.js';
import type { IncomingHeaders, RequestInfo } from '../request.js';
import type { BodyInput } from '../signature.js';

// What the inspector needs of a receiver, and nothing more: the receiver implements it (see
// `inspector()` in src/receiver.ts), the inspector only reads it. Everything the page shows is
// worked out from these records, after the fact, and only while an inspector is mounted.

/** One handler's run for one delivery. */
export interface HandlerRun {
  /** `'<pattern>#<n>'`: the n-th handler registered for that pattern (what a queued job records as done). */
  readonly key: string;
  /** The pattern it was registered for: an event name, `'prefix.*'` or `'*'`. */
  readonly pattern: string;
  /** The handler function's own name, `''` for an anonymous one. */
  readonly name: string;
  readonly ok: boolean;
  /** What it threw or rejected with, when not `ok`. */
  readonly error?: unknown;
  readonly ms: number;
}

/** How a delivery ended, as the page lists it. */
export type RecordOutcome = 'handled' | 'ignored' | 'duplicate' | 'queued' | 'superseded' | 'rejected' | 'failed';

/** The request line and headers of a delivery refused before its body was read (405, 415, 413 by content-length). */
export interface EarlyRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHeaders;
}

/** One delivery the receiver answered, as it arrived and as it ended. */
export interface DeliveryRecord {
  /** Epoch ms when the delivery arrived. */
  readonly at: number;
  readonly durationMs: number;
  /** `undefined` when it came through `receive()` directly. */
  readonly method: string | undefined;
  readonly url: string | undefined;
  /** As received. (The signature header is no secret; the inspector hides credentials of other kinds.) */
  readonly headers: IncomingHeaders;
  /** `undefined` when the body was never read (405, 415, 413 by content-length). */
  readonly body: BodyInput | undefined;
  readonly outcome: RecordOutcome;
  /** The HTTP status the receiver answered (or would answer, for `receive()`) with. */
  readonly status: number;
  /** The rejection: `code`, `message`, `issues` (WebhookPayloadError), `errors` (WebhookHandlerError). */
  readonly error: WebhookError | undefined;
  /** The envelope's `event` once the body was authenticated and parsed. */
  readonly event: string | undefined;
  /** `context.id` (SHA-256 hex of the body) once the body was authenticated. */
  readonly deliveryId: string | undefined;
  /** Each handler that ran, in registration order. */
  readonly handlers: readonly HandlerRun[];
}

export interface InspectorSource {
  /**
   * Calls `listener` once per delivery, after its answer is known (and, for a delivery made through
   * `receive` below, before that promise settles); only while at least one listener is attached.
   */
  subscribe(listener: (record: DeliveryRecord) => void): () => void;
  /** The receiver's own `receive()`: replays, samples and "send it wrong" go through it, and so are recorded. */
  receive(input: ReceiveInput): Promise<unknown>;
  /**
   * `sha256=<hex>` of `body` with the receiver's secret: the first of a rotation list; for a
   * resolver, the first one it gives for `request` (it rejects when the resolver gives none).
   */
  sign(body: string, request: RequestInfo): Promise<string>;
  /** Event names the receiver has schemas for. */
  readonly eventNames: readonly string[];
  /** The timestamp tolerance in ms, `undefined` when off. */
  readonly toleranceMs: number | undefined;
  /** The receiver's clock (its `now` option), in epoch ms: replays and samples are fresh by it. */
  now(): number;
}
