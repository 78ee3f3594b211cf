import type { WebhookError } from '../errors.js';
import type { DeliveryFacts } from '../telemetry/logger.js';
import type { IncomingHeaders } from '../request.js';

// Queued mode's seam, free of any queue library: the receiver stores a delivery here instead of
// running the handlers, and a worker (src/queue/bullmq.ts) runs them later through the same dispatch.

/** A verified, valid, fresh delivery, as the receiver hands it to the queue. */
export interface QueuedDelivery {
  /** The delivery id (SHA-256 hex of the raw body): the job id, so a copy finds the job already there. */
  readonly id: string;
  /** The event name: the job name. */
  readonly event: string;
  /** The raw body, exactly as signed (verified UTF-8, so a string holds it byte for byte). */
  readonly body: string;
  readonly headers: IncomingHeaders;
  readonly url: string | undefined;
  /** The receiving trace's context (W3C trace context headers), when a tracer is active. */
  readonly trace: Readonly<Record<string, string>> | undefined;
  /**
   * Keep the delivery at least this long after its handlers are done: as long as a copy of it
   * could still pass the freshness check, so that the copy is recognised and adds no job.
   */
  readonly rememberMs: number;
}

/** Where a queue reports the trouble no request carries (Redis lost between requests): the receiver's one report(). */
export interface QueueReports {
  /** Logs the error once (with the event and delivery id when known) and hands it to `onError`. */
  report(error: WebhookError, facts: DeliveryFacts): unknown;
}

/** Where queued mode stores deliveries. `enqueue` resolves only once the delivery is durably stored. */
export interface DeliveryQueue {
  /**
   * `'queued'` when stored now, `'duplicate'` when it is known to be stored already. Rejects (or
   * takes too long) when the queue cannot take it: the sender is answered 503 and retries.
   */
  enqueue(delivery: QueuedDelivery): Promise<'queued' | 'duplicate'>;
  /**
   * Optional: called once by each receiver the queue is given to, with the way to report trouble
   * that no request carries (Redis lost between deliveries) to its `onError` and logger.
   */
  attach?(receiver: QueueReports): void;
}

/** What a worker took out of the queue: the stored part of a `QueuedDelivery`. */
export interface StoredDelivery {
  readonly body: string;
  readonly headers: IncomingHeaders;
  readonly url: string | undefined;
  /** The receiving trace's context, when one was stored: the worker's handler spans continue it. */
  readonly trace?: unknown;
}

/** One run of a stored delivery's handlers, for the worker to settle the job with. */
export interface ProcessResult {
  /**
   * `ran`: the pending handlers ran (see `failures`); `superseded`: a newer delivery of its entity
   * was applied, nothing ran; `busy`: another job holds its entity, nothing ran (the job waits).
   */
  readonly status: 'ran' | 'superseded' | 'busy';
  /** The entity key (latest wins), when its event has one. */
  readonly orderKey?: string | undefined;
  /** The keys of the handlers that have now succeeded, with those done in earlier attempts. */
  readonly done: readonly string[];
  /** What the handlers that ran this time threw; empty when they all succeeded. */
  readonly failures: readonly unknown[];
  /** The event as its schema outputs it (the envelope only, for an event no schema knows any more). */
  readonly event: unknown;
}
