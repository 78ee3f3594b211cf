import { DelayedError, UnrecoverableError, type ConnectionOptions, type Processor, type Worker, type WorkerOptions } from 'bullmq';
import { adapterApiOf, type AdapterApi } from '../adapter-api.js';
import { WebhookHandlerError, WebhookPayloadError } from '../errors.js';
import type { WebhookReceiver } from '../receiver.js';
import { describeConnection, lockLostJobId, refuseWorkerClient } from './clients.js';
import { deadLetter, describeFailure, HandlersFailed, isFinal, noHandler, withDelivery } from './failures.js';
import { WebhookWorker } from './fetch-backoff.js';
import { DEFAULT_QUEUE_NAME, type CappedBackoff, type DeliveryJob, type DeliveryJobData } from './job.js';
import { QueueOrderStore } from './order-store.js';
import { outageReporter } from './outage.js';
import { cappedDelay, DEFAULT_RETRY, retryHorizonMs } from './retry.js';
import { workerLog, type Seen, type WorkerLog } from './worker-log.js';

// Queued mode on BullMQ, the workers' side: a BullMQ Worker that runs the receiver's own handlers
// for each stored delivery, with BullMQ's retries, stalled-job recovery and failed set. Every way a
// job can go wrong is said once, where an operator looks: a failed attempt is a warn record, a
// dead letter reaches onError, a stall or a lost lock is named as such, and a Redis that cannot be
// used is one `queue_unavailable` a minute.

/** The options of `createWebhookWorker()`: BullMQ's `WorkerOptions` (`concurrency`, `lockDuration`, `prefix` …), with the connection and the queue's name. */
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

/** At most this many jobs are remembered for lock reports: those in hand, and a few just settled. */
const SEEN_LIMIT = 10_000;

/** Where a job's reports look things up: what each running job was, and which lost locks were said. */
interface JobsInHand {
  readonly seen: Map<string, Seen>;
  readonly lockReported: Set<string>;
}

/**
 * A BullMQ `Worker` that runs `receiver`'s `on()` handlers for each queued delivery. A handler that
 * throws fails the attempt (one warn record); the retry runs only the handlers that have not
 * succeeded yet. After the last attempt the job stays in BullMQ's failed set and `onError` hears
 * one `handler_failed`. A job whose event no handler matches fails at once as `no_handler`. Latest
 * wins per entity: a job older than what was applied for its entity completes as superseded, and a
 * job whose entity another job holds waits, spending no attempt. `await worker.close()` lets
 * running handlers finish.
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
  const log = workerLog(core);
  const jobs: JobsInHand = { seen: new Map(), lockReported: new Set() };
  let order: QueueOrderStore | undefined; // made with the worker, whose Redis client it uses
  const worker = new WebhookWorker(queueName, processor(core, log, jobs, () => order!), withOurBackoff(workerOptions));
  // A hold lasts as long as BullMQ's lock on the job: a worker that dies frees both at once.
  order = new QueueOrderStore(worker, `${prefix}:${queueName}:order:`, workerOptions.lockDuration ?? 30_000);
  report(worker, core, log, jobs, { queue: queueName, prefix, redis: describeConnection(workerOptions.connection), options: workerOptions });
  return worker;
}

/** What the worker runs for each job: the no_handler check, then the receiver's way through (src/deliver/queued.ts). */
function processor(core: AdapterApi, log: WorkerLog, { seen, lockReported }: JobsInHand, order: () => QueueOrderStore): Processor<DeliveryJobData, void, string> {
  return async (job, token) => {
    const id = job.id!;
    // Waits for a held entity start a job without being an attempt: they are not counted.
    const attempt = job.attemptsStarted - (job.data.waits ?? 0);
    remember(seen, id, { event: job.name, attempt });
    lockReported.delete(id);
    if (core.handlers.for(job.name).length === 0) throw noHandler(job);
    const done = job.data.done ?? [];
    let result;
    try {
      const { body, headers, url, trace } = job.data;
      result = await core.process({ body, headers, url, trace }, { id, attempt, done }, { store: order(), retainMs: retainFor(job, core.rememberMs) });
    } catch (error) {
      // It no longer matches its schema (a deploy changed it): no retry can change that.
      if (error instanceof WebhookPayloadError) throw Object.assign(new UnrecoverableError(describeFailure(error)), { cause: withDelivery(error, job) });
      throw error;
    }
    if (result.status === 'busy') return waitForEntity(job, token!);
    if (result.status === 'superseded') return log.superseded(job, result.orderKey);
    if (result.failures.length === 0) return;
    if (result.done.length > done.length) await job.updateData({ ...job.data, done: [...result.done] });
    throw new HandlersFailed(withDelivery(new WebhookHandlerError(result.failures, result.event), job));
  };
}

/** Another job holds this one's entity: back to the delayed set for a moment, spending no attempt (BullMQ's DelayedError). */
async function waitForEntity(job: DeliveryJob, token: string): Promise<never> {
  await job.updateData({ ...job.data, waits: (job.data.waits ?? 0) + 1 });
  await job.moveToDelayed(Date.now() + ENTITY_WAIT_MS * (0.5 + Math.random()), token);
  throw new DelayedError();
}

/** How long to wait, about, before trying a held entity again: handlers usually take milliseconds. */
const ENTITY_WAIT_MS = 250;

/** How long an entity's mark is kept: as long as an older delivery of it may still run — all its retries, then twice the tolerance. */
function retainFor(job: DeliveryJob, rememberMs: number): number {
  const backoff = job.opts.backoff as CappedBackoff | undefined;
  return retryHorizonMs(job.opts.attempts ?? 1, backoff?.delay ?? DEFAULT_RETRY.baseDelayMs, backoff?.maxDelay ?? DEFAULT_RETRY.maxDelayMs) + rememberMs;
}

/** The worker's options, with our backoff: every job of this queue is a delivery whose schedule is its own (BACKOFF_TYPE). */
function withOurBackoff(options: Omit<WebhookWorkerOptions, 'queueName'>): WorkerOptions {
  return {
    // BullMQ waits 15 s after a failed fetch or completion; a webhook worker resumes sooner after a Redis blip.
    runRetryDelay: 2_000,
    ...options,
    settings: {
      ...options.settings,
      backoffStrategy: (attemptsMade, _type, _error, job) => {
        const backoff = job?.opts.backoff as CappedBackoff | undefined;
        const longest = cappedDelay(attemptsMade, backoff?.delay ?? DEFAULT_RETRY.baseDelayMs, backoff?.maxDelay ?? DEFAULT_RETRY.maxDelayMs);
        return Math.round(longest * (1 - (backoff?.jitter ?? 0) * Math.random()));
      },
    },
  };
}

/** Every event of the worker said once, where an operator looks (see the comment at the top). */
function report(
  worker: Worker<DeliveryJobData, void, string>,
  core: AdapterApi,
  log: WorkerLog,
  { seen, lockReported }: JobsInHand,
  { queue, prefix, redis, options }: { queue: string; prefix: string; redis: string; options: Omit<WorkerOptions, 'connection'> },
): void {
  worker.on('completed', (job) => void seen.delete(job.id!));
  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    seen.delete(job.id!);
    if (!isFinal(job, error)) return log.attemptFailed(job, error);
    const reported = deadLetter(job, error, options);
    core.report(reported, { event: job.name, deliveryId: job.id! });
    log.deadLetter(job, reported);
  });
  // A stalled job (its worker died or held the event loop past lockDuration) goes back to wait and runs again.
  worker.on('stalled', (jobId) => log.stalled(jobId, seen.get(jobId)));

  // A Worker without an 'error' listener would crash the process on a Redis hiccup; BullMQ reconnects.
  // A lost lock is the job's trouble, said once per attempt; all else is Redis's, said once a minute.
  const outage = outageReporter('The webhook worker', redis, (error) => void core.report(error, {}));
  let down = false;
  worker.on('error', (error) => {
    const lockLost = lockLostJobId(error);
    if (lockLost === undefined) {
      down = true;
      return outage(error);
    }
    if (lockReported.has(lockLost)) return;
    lockReported.add(lockLost);
    log.lockLost(lockLost, seen.get(lockLost), options.lockDuration ?? 30_000);
  });
  // Each of the worker's connections says when it is ready again: the outage it reported is over.
  worker.getBackend().on('ready', () => {
    if (down) log.info({ queue, prefix, redis }, 'Webhook worker: Redis reachable again');
    down = false;
  });
  worker.waitUntilReady().then(
    () => log.ready({ queue, prefix, redis, concurrency: options.concurrency ?? 1 }),
    () => {}, // closed before it was ready; what kept it from Redis was reported above
  );
}

function remember(seen: Map<string, Seen>, id: string, what: Seen): void {
  seen.delete(id);
  seen.set(id, what);
  if (seen.size > SEEN_LIMIT) seen.delete(seen.keys().next().value!);
}

