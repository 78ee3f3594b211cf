import type { ConnectionOptions, JobsOptions, KeepJobs, Queue } from 'bullmq';
import { queueUnavailable, type WebhookError } from '../errors.js';
import { describeConnection, explainRedisError, redisTrouble, refuseUnusableClient } from './clients.js';
import { BACKOFF_TYPE, type CappedBackoff, type DeliveryJobData } from './job.js';
import { outageReporter } from './outage.js';
import { attemptsFor, resolveRetry, type RetryPolicy } from './retry.js';
import type { DeliveryQueue, QueuedDelivery, QueueReports } from './types.js';

// Queued mode on BullMQ, the receiver's side: one job per delivery (job id = delivery id), removed
// once its handlers are done; a copy is recognised by BullMQ's own deduplication key, kept as long
// as a copy could pass the freshness check. Nothing here is a queue of our own. The worker is in
// worker.ts, re-exported here: `aicommerce-webhooks/bullmq` is this file.

export { createWebhookWorker, type WebhookWorkerOptions } from './worker.js';
export { DEFAULT_QUEUE_NAME, type DeliveryJob, type DeliveryJobData } from './job.js';
export type { RetryPolicy } from './retry.js';

/** Each failed attempt's stack replaces the one before: a dead letter stays a few KB whatever its attempts. */
const STACK_TRACE_LIMIT = 1;

/** The options of `new BullMQDeliveryQueue()`: the queue, the enqueue timeout, the retry schedule and which dead letters to keep. */
export interface BullMQDeliveryQueueOptions {
  /** A BullMQ `Queue`; its connection and prefix are the workers' too. */
  queue: Queue;
  /** Ms to wait for Redis to acknowledge a job before answering 503 `queue_unavailable`. Default 3,000. */
  enqueueTimeout?: number;
  /** How failed handler runs are retried. Default: from 1 s, doubling, capped at 1 h, for at least 24 h. */
  retry?: RetryPolicy;
  /**
   * Which dead letters (jobs that failed their last attempt) to keep: `age` in seconds, `count` the
   * newest that many, as BullMQ's `removeOnFail`. Default: every one, until retried or removed.
   */
  keepFailed?: KeepJobs;
}

/** `createWebhookReceiver({ queue: new BullMQDeliveryQueue({ queue }) })`: each delivery becomes a BullMQ job. */
export class BullMQDeliveryQueue implements DeliveryQueue {
  readonly queue: Queue;
  readonly #enqueueTimeout: number;
  readonly #attempts: number;
  readonly #backoff: CappedBackoff;
  readonly #removeOnFail: KeepJobs | false;
  readonly #receivers = new Set<QueueReports>();

  constructor({ queue, enqueueTimeout = 3_000, retry, keepFailed }: BullMQDeliveryQueueOptions) {
    if (typeof (queue as Partial<Queue> | undefined)?.add !== 'function') throw new TypeError('BullMQDeliveryQueue: pass { queue }, a BullMQ Queue');
    if (!(enqueueTimeout > 0 && Number.isFinite(enqueueTimeout))) throw new TypeError('enqueueTimeout must be a positive number of ms');
    refuseUnusableClient(queue.opts?.connection, 'BullMQDeliveryQueue');
    const policy = resolveRetry(retry);
    this.queue = queue;
    this.#enqueueTimeout = enqueueTimeout;
    this.#attempts = attemptsFor(policy);
    this.#backoff = { type: BACKOFF_TYPE, delay: policy.baseDelayMs, jitter: policy.jitter, maxDelay: policy.maxDelayMs };
    this.#removeOnFail = keepFailed === undefined ? false : checkKeepFailed(keepFailed);
    // Without a listener BullMQ prints each connection error with its stack (about one a second
    // while Redis is away); with it, the receivers hear one report a minute.
    if (typeof queue.on === 'function') {
      const where = describeConnection(queue.opts?.connection as ConnectionOptions | undefined);
      queue.on('error', outageReporter('The delivery queue', where, (error) => this.#report(error)));
    }
  }

  /** Called by each receiver this queue is given to: where trouble that no request carries is reported. */
  attach(receiver: QueueReports): void {
    this.#receivers.add(receiver);
  }

  /**
   * Resolves once Redis has the job. BullMQ answers a copy (a job id or deduplication id it already
   * holds) exactly like a new job, so a copy is `'queued'` too; it adds no second job either way.
   */
  enqueue(delivery: QueuedDelivery): Promise<'queued'> {
    const data: DeliveryJobData = { body: delivery.body, headers: delivery.headers };
    if (delivery.url !== undefined) data.url = delivery.url;
    if (delivery.trace !== undefined) data.trace = { ...delivery.trace };
    const options: JobsOptions = {
      jobId: delivery.id,
      attempts: this.#attempts,
      backoff: this.#backoff,
      // The job goes once its handlers are done; a key of ~0.2 KB recognises a copy while one could still be fresh.
      removeOnComplete: true,
      deduplication: { id: delivery.id, ttl: delivery.rememberMs },
      // Dead letters stay until retried or removed, unless keepFailed says otherwise.
      removeOnFail: this.#removeOnFail,
      stackTraceLimit: STACK_TRACE_LIMIT,
    };
    return queuedWithin(this.queue.add(delivery.event, data, options), this.#enqueueTimeout);
  }

  #report(error: WebhookError): void {
    if (this.#receivers.size === 0) console.error(`[aicommerce-webhooks] ${error.status} ${error.code}: ${error.message}`);
    for (const receiver of this.#receivers) receiver.report(error, {});
  }
}

function checkKeepFailed(keep: KeepJobs): KeepJobs {
  const { age, count } = (keep ?? {}) as { age?: unknown; count?: unknown };
  const valid = (n: unknown) => n === undefined || (typeof n === 'number' && n >= 0 && Number.isFinite(n));
  if (typeof keep !== 'object' || keep === null || (age === undefined && count === undefined) || !valid(age) || !valid(count)) {
    throw new TypeError('keepFailed must be { age?: seconds, count?: jobs }, with at least one, each a number ≥ 0');
  }
  return keep;
}

/**
 * `'queued'` once `added` resolves; a `queue_unavailable` error that says why when it rejects, or
 * when it takes longer than `ms`. One promise and one timer per job (this is on every queued request's path).
 */
function queuedWithin(added: Promise<unknown>, ms: number): Promise<'queued'> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(queueUnavailable(undefined, ` within ${ms} ms`)), ms);
    // Both outcomes are handled, so a late failure of an add no longer waited for is not an unhandled rejection.
    added.then(
      () => {
        clearTimeout(timer);
        resolve('queued');
      },
      (cause: unknown) => {
        clearTimeout(timer);
        reject(notStored(cause));
      },
    );
  });
}

/** An add that failed: Redis's own refusal stored nothing; a connection lost on the way may have stored it. */
function notStored(cause: unknown): WebhookError {
  const why = explainRedisError(cause);
  const trouble = redisTrouble(cause);
  return queueUnavailable(cause, `: ${why}`, { stored: trouble === 'out_of_memory' || trouble === 'cross_slot' ? false : 'maybe' });
}
