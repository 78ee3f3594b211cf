import { UnrecoverableError, Worker, type BackoffOptions, type ConnectionOptions, type Job, type JobsOptions, type Queue, type WorkerOptions } from 'bullmq';
import { adapterApiOf } from '../adapter-api.js';
import { WebhookError, WebhookHandlerError, WebhookPayloadError } from '../errors.js';
import type { IncomingHeaders } from '../request.js';
import { attemptsFor, cappedDelay, DEFAULT_RETRY, resolveRetry, type RetryPolicy } from './retry.js';
import type { DeliveryQueue, QueuedDelivery } from './types.js';

// Queued mode on BullMQ: the receiver adds one job per delivery (job id = delivery id, so a copy
// adds nothing), and workers run the receiver's own handlers with BullMQ's retries, stalled-job
// recovery and failed set. Nothing here is a queue of our own.

export const DEFAULT_QUEUE_NAME = 'aicommerce-webhooks';

/** A worker that cannot reach Redis reports it at most this often. */
const CONNECTION_REPORT_INTERVAL_MS = 60_000;

/** What a job holds: the stored delivery, and which handlers are done when an attempt failed half-way. */
export interface DeliveryJobData {
  body: string;
  headers: IncomingHeaders;
  url?: string;
  /** W3C trace context of the request that received it. */
  trace?: Record<string, string>;
  /** Keys of the handlers that already succeeded (`'<pattern>#<n>'`): a retry runs only the others. */
  done?: string[];
}

export type DeliveryJob = Job<DeliveryJobData, void, string>;

/** Our backoff type; the cap travels in the job's own options, beside BullMQ's `delay` and `jitter`. */
const BACKOFF_TYPE = 'aicommerce-capped-exponential';
type CappedBackoff = BackoffOptions & { maxDelay?: number };

export interface BullMQDeliveryQueueOptions {
  /** A BullMQ `Queue`; its connection and prefix are the workers' too. */
  queue: Queue;
  /** Ms to wait for Redis to acknowledge a job before answering 503 `queue_unavailable`. Default 3,000. */
  enqueueTimeout?: number;
  /** How failed handler runs are retried. Default: from 1 s, doubling, capped at 1 h, for at least 24 h. */
  retry?: RetryPolicy;
}

/** `createWebhookReceiver({ queue: new BullMQDeliveryQueue({ queue }) })`: each delivery becomes a BullMQ job. */
export class BullMQDeliveryQueue implements DeliveryQueue {
  readonly queue: Queue;
  readonly #enqueueTimeout: number;
  readonly #attempts: number;
  readonly #backoff: CappedBackoff;

  constructor({ queue, enqueueTimeout = 3_000, retry }: BullMQDeliveryQueueOptions) {
    if (typeof (queue as Partial<Queue> | undefined)?.add !== 'function') throw new TypeError('BullMQDeliveryQueue: pass { queue }, a BullMQ Queue');
    if (!(enqueueTimeout > 0 && Number.isFinite(enqueueTimeout))) throw new TypeError('enqueueTimeout must be a positive number of ms');
    const policy = resolveRetry(retry);
    this.queue = queue;
    this.#enqueueTimeout = enqueueTimeout;
    this.#attempts = attemptsFor(policy);
    this.#backoff = { type: BACKOFF_TYPE, delay: policy.baseDelayMs, jitter: policy.jitter, maxDelay: policy.maxDelayMs };
  }

  /**
   * Resolves once Redis has the job. BullMQ answers a copy (a job id it already holds) exactly like
   * a new job, so a copy is `'queued'` too; it adds no second job either way.
   */
  enqueue(delivery: QueuedDelivery): Promise<'queued'> {
    const data: DeliveryJobData = { body: delivery.body, headers: delivery.headers };
    if (delivery.url !== undefined) data.url = delivery.url;
    if (delivery.trace !== undefined) data.trace = { ...delivery.trace };
    const options: JobsOptions = {
      jobId: delivery.id,
      attempts: this.#attempts,
      backoff: this.#backoff,
      // Completed jobs are the dedupe record: kept while a copy could still pass the freshness check.
      removeOnComplete: { age: Math.ceil(delivery.rememberMs / 1000) },
      // Failed jobs are the dead letters: kept until someone retries or removes them.
      removeOnFail: false,
    };
    return queuedWithin(this.queue.add(delivery.event, data, options), this.#enqueueTimeout);
  }
}

/**
 * `'queued'` once `added` resolves; its error when it rejects; a timeout error when it takes longer
 * than `ms`. One promise and one timer per job (this is on every queued request's path).
 */
function queuedWithin(added: Promise<unknown>, ms: number): Promise<'queued'> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not acknowledge the job within ${ms} ms`)), ms);
    // Both outcomes are handled, so a late failure of an add no longer waited for is not an unhandled rejection.
    added.then(
      () => {
        clearTimeout(timer);
        resolve('queued');
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export interface WebhookWorkerOptions extends Omit<WorkerOptions, 'connection'> {
  /** Anything BullMQ accepts: a connected node-redis client (tested), an ioredis instance or options (with ioredis installed). */
  connection: ConnectionOptions;
  /** The queue's name, as given to the receiver's `Queue`. Default `'aicommerce-webhooks'`. */
  queueName?: string;
}

/**
 * A BullMQ `Worker` that runs `receiver`'s `on()` handlers for each queued delivery. A handler that
 * throws fails the attempt; the retry runs only the handlers that have not succeeded yet. After the
 * last attempt the job stays in BullMQ's failed set and `onError` hears one `handler_failed`.
 * `await worker.close()` lets running handlers finish.
 */
export function createWebhookWorker(receiver: object, { queueName = DEFAULT_QUEUE_NAME, ...options }: WebhookWorkerOptions): Worker<DeliveryJobData, void, string> {
  const core = adapterApiOf(receiver);
  assertOfflineQueue(options.connection);
  const worker = new Worker<DeliveryJobData, void, string>(
    queueName,
    async (job) => {
      const done = job.data.done ?? [];
      let result;
      try {
        const { body, headers, url, trace } = job.data;
        result = await core.process({ body, headers, url, trace }, { id: job.id!, attempt: job.attemptsStarted, done });
      } catch (error) {
        // It no longer matches its schema (a deploy changed it): no retry can change that.
        if (error instanceof WebhookPayloadError) throw Object.assign(new UnrecoverableError(describeFailure(error)), { cause: error });
        throw error;
      }
      if (result.failures.length === 0) return;
      if (result.done.length > done.length) await job.updateData({ ...job.data, done: [...result.done] });
      throw new HandlersFailed(new WebhookHandlerError(result.failures, result.event));
    },
    {
      // BullMQ waits 15 s after a failed fetch or completion; a webhook worker resumes sooner after a Redis blip.
      runRetryDelay: 2_000,
      ...options,
      settings: {
        ...options.settings,
        // Every job of this queue is a delivery with our backoff (BACKOFF_TYPE): the schedule is the job's own.
        backoffStrategy: (attemptsMade, _type, _error, job) => {
          const backoff = job?.opts.backoff as CappedBackoff | undefined;
          const longest = cappedDelay(attemptsMade, backoff?.delay ?? DEFAULT_RETRY.baseDelayMs, backoff?.maxDelay ?? DEFAULT_RETRY.maxDelayMs);
          return Math.round(longest * (1 - (backoff?.jitter ?? 0) * Math.random()));
        },
      },
    },
  );
  worker.on('failed', (job, error) => {
    if (job === undefined || !isFinal(job, error)) return;
    core.report(toWebhookError(error), { event: job.name, ...(job.id !== undefined && { deliveryId: job.id }) });
  });
  // A Worker without an 'error' listener would crash the process on a Redis hiccup; BullMQ reconnects.
  // Every reconnection attempt errs: one report per outage minute says it without flooding the logs.
  let quietUntil = 0;
  worker.on('error', (error) => {
    if (Date.now() < quietUntil) return;
    quietUntil = Date.now() + CONNECTION_REPORT_INTERVAL_MS;
    core.report(new WebhookError('queue_unavailable', 'The webhook worker lost its queue connection', { cause: error }), {});
  });
  return worker;
}

/**
 * node-redis rejects commands at once while disconnected when made with `disableOfflineQueue`, with
 * an error BullMQ does not take for a connection error: its worker then stops fetching jobs after an
 * outage (seen: 288 jobs left waiting a minute after Redis came back). With the offline queue, the
 * commands wait for the reconnection and the worker carries on.
 */
function assertOfflineQueue(connection: ConnectionOptions): void {
  const client = connection as { sendCommand?: unknown; options?: { disableOfflineQueue?: boolean } };
  if (typeof client.sendCommand === 'function' && client.options?.disableOfflineQueue === true) {
    throw new TypeError(
      'createWebhookWorker: this node-redis client was created with disableOfflineQueue: true, which stalls a BullMQ worker ' +
        'after a Redis outage. Give the worker a client with the offline queue on: createClient({ url }).',
    );
  }
}

/** The attempt that failed was the last one: the job is now in the failed set. */
function isFinal(job: DeliveryJob, error: Error): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
}

function toWebhookError(error: Error): WebhookError {
  const cause = error instanceof UnrecoverableError || error instanceof HandlersFailed ? error.cause : error;
  if (cause instanceof WebhookError) return cause;
  return new WebhookHandlerError([cause], undefined); // e.g. BullMQ's own "job stalled more than allowable limit"
}

/**
 * What a failed attempt throws to BullMQ, which keeps its message as the job's `failedReason` and
 * its stack in `stacktrace`: the handlers' own messages and first stack, for whoever reads the dead
 * letters (`aicommerce-webhooks queue failed`, the dashboard). `cause` is the `WebhookHandlerError`.
 */
class HandlersFailed extends Error {
  override name = 'HandlersFailed';
  declare readonly cause: WebhookHandlerError;

  constructor(error: WebhookHandlerError) {
    super(`${error.message}: ${error.errors.map(describeFailure).join('; ')}`, { cause: error });
    const first = error.errors[0];
    if (first instanceof Error && first.stack !== undefined) this.stack = `${this.name}: ${this.message}\n${first.stack}`;
  }
}

/** An error's message, with the fields a payload error names (never their values). */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const issues = (error as { issues?: readonly { path: string; message: string }[] }).issues;
  return issues === undefined || issues.length === 0 ? error.message : `${error.message} (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`;
}
