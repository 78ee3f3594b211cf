import { UnrecoverableError, Worker, type ConnectionOptions, type Processor, type WorkerOptions } from 'bullmq';
import { adapterApiOf, type AdapterApi } from '../adapter-api.js';
import { WebhookError, WebhookHandlerError, WebhookPayloadError } from '../errors.js';
import type { WebhookReceiver } from '../receiver.js';
import type { WebhookLogRecord } from '../telemetry/logger.js';
import { describeConnection, lockLostJobId, refuseWorkerClient } from './clients.js';
import { DEFAULT_QUEUE_NAME, type CappedBackoff, type DeliveryJob, type DeliveryJobData } from './job.js';
import { outageReporter } from './outage.js';
import { cappedDelay, DEFAULT_RETRY } from './retry.js';

// Queued mode on BullMQ, the workers' side: a BullMQ Worker that runs the receiver's own handlers
// for each stored delivery, with BullMQ's retries, stalled-job recovery and failed set. Every way a
// job can go wrong is said once, where an operator looks: a failed attempt is a warn record, a
// dead letter reaches onError, a stall or a lost lock is named as such, and a Redis that cannot be
// used is one `queue_unavailable` a minute.

export interface WebhookWorkerOptions extends Omit<WorkerOptions, 'connection'> {
  /**
   * Anything BullMQ accepts that can run a worker: a connected node-redis client, an ioredis
   * client, or an ioredis `Cluster` (with a hash-tagged `prefix`). Tested: node-redis and ioredis
   * clients, an ioredis Cluster. Refused: a node-redis cluster, a client without its offline queue.
   */
  connection: ConnectionOptions;
  /** The queue's name, as given to the receiver's `Queue`. Default `'aicommerce-webhooks'`. */
  queueName?: string;
}

/** What a running or just-settled job was, for the reports about it that BullMQ makes by job id only. */
interface Seen {
  readonly event: string;
  readonly attempt: number;
}

/** At most this many jobs are remembered for lock reports: those in hand, and a few just settled. */
const SEEN_LIMIT = 10_000;

/**
 * A BullMQ `Worker` that runs `receiver`'s `on()` handlers for each queued delivery. A handler that
 * throws fails the attempt (one warn record); the retry runs only the handlers that have not
 * succeeded yet. After the last attempt the job stays in BullMQ's failed set and `onError` hears
 * one `handler_failed`. A job whose event no handler matches fails at once as `no_handler`.
 * `await worker.close()` lets running handlers finish.
 */
export function createWebhookWorker(receiver: WebhookReceiver<never>, options: WebhookWorkerOptions): Worker<DeliveryJobData, void, string> {
  const core = adapterApiOf(receiver);
  if (core.handlers.size === 0) {
    throw new TypeError(
      'createWebhookWorker: the receiver has no handler (on(), onAny()): its worker would complete every job and run nothing. ' +
        'Register the handlers on the receiver before making its worker.',
    );
  }
  const { queueName = DEFAULT_QUEUE_NAME, ...workerOptions } = options;
  const prefix = workerOptions.prefix ?? 'bull';
  refuseWorkerClient(workerOptions.connection, prefix);
  const where = describeConnection(workerOptions.connection);
  const log = workerLog(core);
  const seen = new Map<string, Seen>();
  const lockReported = new Set<string>();

  const processor: Processor<DeliveryJobData, void, string> = async (job) => {
    const id = job.id!;
    remember(seen, id, { event: job.name, attempt: job.attemptsStarted });
    lockReported.delete(id);
    if (core.handlers.for(job.name).length === 0) throw noHandler(job);
    // The order step of a later change (latest wins per entity) goes here, before any handler runs:
    // a job whose entity is held elsewhere waits with `await job.moveToDelayed(until, token)` and
    // `throw new DelayedError()` (this function's second argument is the token), which spends no attempt.
    const done = job.data.done ?? [];
    let result;
    try {
      const { body, headers, url, trace } = job.data;
      result = await core.process({ body, headers, url, trace }, { id, attempt: job.attemptsStarted, done });
    } catch (error) {
      // It no longer matches its schema (a deploy changed it): no retry can change that.
      if (error instanceof WebhookPayloadError) throw Object.assign(new UnrecoverableError(describeFailure(error)), { cause: withDelivery(error, job) });
      throw error;
    }
    if (result.failures.length === 0) return;
    if (result.done.length > done.length) await job.updateData({ ...job.data, done: [...result.done] });
    throw new HandlersFailed(withDelivery(new WebhookHandlerError(result.failures, result.event), job));
  };

  const worker = new WebhookWorker(queueName, processor, {
    // BullMQ waits 15 s after a failed fetch or completion; a webhook worker resumes sooner after a Redis blip.
    runRetryDelay: 2_000,
    ...workerOptions,
    settings: {
      ...workerOptions.settings,
      // Every job of this queue is a delivery with our backoff (BACKOFF_TYPE): the schedule is the job's own.
      backoffStrategy: (attemptsMade, _type, _error, job) => {
        const backoff = job?.opts.backoff as CappedBackoff | undefined;
        const longest = cappedDelay(attemptsMade, backoff?.delay ?? DEFAULT_RETRY.baseDelayMs, backoff?.maxDelay ?? DEFAULT_RETRY.maxDelayMs);
        return Math.round(longest * (1 - (backoff?.jitter ?? 0) * Math.random()));
      },
    },
  });

  worker.on('completed', (job) => void seen.delete(job.id!));
  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    seen.delete(job.id!);
    if (!isFinal(job, error)) return log.attemptFailed(job, error);
    const reported = deadLetter(job, error, workerOptions);
    core.report(reported, { event: job.name, deliveryId: job.id! });
    log.deadLetter(job, reported);
  });
  // A stalled job (its worker died or held the event loop past lockDuration) goes back to wait and runs again.
  worker.on('stalled', (jobId) => log.stalled(jobId, seen.get(jobId)));

  // A Worker without an 'error' listener would crash the process on a Redis hiccup; BullMQ reconnects.
  // A lost lock is the job's trouble, said once per attempt; all else is Redis's, said once a minute.
  const outage = outageReporter('The webhook worker', where, (error) => void core.report(error, {}));
  let down = false;
  worker.on('error', (error) => {
    const lockLost = lockLostJobId(error);
    if (lockLost === undefined) {
      down = true;
      return outage(error);
    }
    if (lockReported.has(lockLost)) return;
    lockReported.add(lockLost);
    log.lockLost(lockLost, seen.get(lockLost), workerOptions.lockDuration ?? 30_000);
  });
  // Each of the worker's connections says when it is ready again: the outage it reported is over.
  worker.getBackend().on('ready', () => {
    if (down) log.info({ queue: queueName, prefix, redis: where }, 'Webhook worker: Redis reachable again');
    down = false;
  });
  worker.waitUntilReady().then(
    () => log.ready({ queue: queueName, prefix, redis: where, concurrency: workerOptions.concurrency ?? 1 }),
    () => {}, // closed before it was ready; what kept it from Redis was reported above
  );
  return worker;
}

/**
 * BullMQ's Worker, but for one thing: when fetching a job fails with an error that is not a lost
 * connection (Redis out of memory, CROSSSLOT), BullMQ fetches again at once, in a loop (seen:
 * 56,459 errors in 15 s at maxmemory). Here each such failure waits `runRetryDelay` first.
 */
class WebhookWorker extends Worker<DeliveryJobData, void, string> {
  #wake: (() => void) | undefined;

  constructor(...args: ConstructorParameters<typeof Worker<DeliveryJobData, void, string>>) {
    super(...args);
    this.on('closing', () => this.#wake?.());
  }

  protected override async moveToActive(token: string, name?: string): Promise<DeliveryJob> {
    try {
      return await super.moveToActive(token, name);
    } catch (error) {
      if (!bullmqWaitsAfter(error) && this.closing === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.opts.runRetryDelay ?? 2_000);
          this.#wake = () => (clearTimeout(timer), resolve());
        });
      }
      throw error;
    }
  }
}

/** The errors after which BullMQ itself waits `runRetryDelay` before fetching again (its own test of a lost connection). */
function bullmqWaitsAfter(error: unknown): boolean {
  const { message = '', code, name } = error as { message?: string; code?: unknown; name?: string };
  return name === 'ConnectionClosedError' || message === 'Connection is closed.' || message.includes('ECONNREFUSED') || code === 'ECONNREFUSED';
}

/** The attempt that failed was the last one: the job is now in the failed set. */
function isFinal(job: DeliveryJob, error: Error): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** What `onError` hears of a dead letter: the handlers' own failure, or what BullMQ failed the job for (a stall). */
function deadLetter(job: DeliveryJob, error: Error, options: Omit<WorkerOptions, 'connection'>): WebhookError {
  const cause = error instanceof UnrecoverableError || error instanceof HandlersFailed ? error.cause : error;
  if (cause instanceof WebhookError) return cause;
  const reason =
    error.message === 'job stalled more than allowable limit'
      ? new Error(
          `The job stalled more than maxStalledCount (${options.maxStalledCount ?? 1}) allows: a worker died, or a handler held ` +
            `the event loop longer than lockDuration (${options.lockDuration ?? 30_000} ms), while running it`,
        )
      : error;
  return withDelivery(new WebhookHandlerError([reason], undefined), job);
}

/** A job of an event that no handler of this worker matches: failed at once, to retry after a deploy that adds it. */
function noHandler(job: DeliveryJob): UnrecoverableError {
  const error = withDelivery(
    new WebhookError('no_handler', `No handler for '${job.name}' in this worker: add one with on('${job.name}', …), then retry the failed job`),
    job,
  );
  return Object.assign(new UnrecoverableError(error.message), { cause: error });
}

/** The job an error is about, for `onError` observers: its delivery id and event. */
/** The job's delivery id and event on the error, for whoever reads it before it is reported. */
function withDelivery<E extends WebhookError>(error: E, job: DeliveryJob): E {
  error.deliveryId = job.id!;
  error.eventName = job.name;
  return error;
}

function remember(seen: Map<string, Seen>, id: string, what: Seen): void {
  seen.delete(id);
  seen.set(id, what);
  if (seen.size > SEEN_LIMIT) seen.delete(seen.keys().next().value!);
}

/** The worker's records besides the reports (`core.report`): through the receiver's logger, or one console line without one. */
function workerLog(core: AdapterApi) {
  const logger = core.settings.logger;
  const safely = (write: () => unknown): void => {
    try {
      write();
    } catch (error) {
      // A broken logger must not stop the worker; it is worth one warning, like a broken onError observer.
      process.emitWarning(`the logger threw: ${error instanceof Error ? error.message : String(error)}`, { type: 'AICommerceWebhooksWarning' });
    }
  };
  const warn = (record: WebhookLogRecord, message: string): void => {
    if (logger !== undefined) return safely(() => logger.warn(record, message));
    const what = [record.event, record.deliveryId].filter((part) => part !== undefined).join(' ');
    console.warn(`[aicommerce-webhooks] ${message}: ${what}${record.errors === undefined ? '' : `: ${record.errors.join('; ')}`}`);
  };
  const info = (record: Record<string, unknown>, message: string): void => {
    if (logger !== undefined) return logger.info === undefined ? undefined : safely(() => logger.info!(record, message));
    console.info(`[aicommerce-webhooks] ${message}: ${Object.entries(record).map(([key, value]) => `${key} ${String(value)}`).join(', ')}`);
  };
  return {
    info,
    ready: (record: Record<string, unknown>) => info(record, 'Webhook worker ready'),
    attemptFailed(job: DeliveryJob, error: Error) {
      const attempts = job.opts.attempts ?? 1;
      const record: WebhookLogRecord = {
        code: error instanceof HandlersFailed ? error.cause.code : 'handler_failed',
        status: 500,
        event: job.name,
        deliveryId: job.id!,
        attempt: job.attemptsMade,
        attempts,
        retryInMs: job.delay,
        errors: error instanceof HandlersFailed ? error.cause.errors.map(describeFailure) : [describeFailure(error)],
      };
      warn(record, `Webhook handler failed on attempt ${job.attemptsMade} of ${attempts}; next try in ${duration(job.delay)}`);
    },
    deadLetter(job: DeliveryJob, error: WebhookError) {
      // Without a logger, the report itself went to console.error (the receiver's rule for a 5xx nobody hears).
      if (logger?.info === undefined) return;
      const record = { code: error.code, event: job.name, deliveryId: job.id!, attempts: job.attemptsMade };
      safely(() => logger.info!(record, `Dead letter kept in the failed set: once fixed, aicommerce-webhooks queue retry ${job.id!.slice(0, 12)}`));
    },
    stalled(jobId: string, job: Seen | undefined) {
      const record: WebhookLogRecord = { code: 'job_stalled', status: 500, deliveryId: jobId, ...(job !== undefined && { event: job.event, attempt: job.attempt }) };
      warn(record, 'A job stalled (its worker died, or held the event loop past lockDuration): it runs again');
    },
    lockLost(jobId: string, job: Seen | undefined, lockDuration: number) {
      const record: WebhookLogRecord = { code: 'lock_lost', status: 500, deliveryId: jobId, ...(job !== undefined && { event: job.event, attempt: job.attempt }) };
      warn(record, `The worker lost the lock of a job: a handler held the event loop longer than lockDuration (${lockDuration} ms)? The job may run again`);
    },
  };
}

/** `750 ms`, `4 s`, `16 min`, `1 h`. */
function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1_000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
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
