import type { BackoffOptions, Job } from 'bullmq';
import type { IncomingHeaders } from '../request.js';

// A queued delivery as a BullMQ job: what the receiver's queue writes and the worker reads, in
// one place so that neither can drift from the other.

/** The queue name the worker and the CLI use when none is given: `'aicommerce-webhooks'`. */
export const DEFAULT_QUEUE_NAME = 'aicommerce-webhooks';

/** What a job holds: the stored delivery, and which handlers are done when an attempt failed half-way. */
export interface DeliveryJobData {
  body: string;
  headers: IncomingHeaders;
  url?: string;
  /** W3C trace context of the request that received it. */
  trace?: Record<string, string>;
  /** Keys of the handlers that already succeeded (`'<pattern>#<n>'`): a retry runs only the others. */
  done?: string[];
  /** How often it waited for its entity (latest wins): those starts were no attempts. */
  waits?: number;
}

/** A queued delivery as BullMQ holds it: job id = delivery id, job name = event name. */
export type DeliveryJob = Job<DeliveryJobData, void, string>;

/** Our backoff type; the cap travels in the job's own options, beside BullMQ's `delay` and `jitter`. */
export const BACKOFF_TYPE = 'aicommerce-capped-exponential';
export type CappedBackoff = BackoffOptions & { maxDelay?: number };
