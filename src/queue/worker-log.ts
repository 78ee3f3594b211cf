import type { AdapterApi } from '../adapter-api.js';
import type { WebhookError } from '../errors.js';
import type { WebhookLogRecord } from '../telemetry/logger.js';
import { describeFailure, HandlersFailed } from './failures.js';
import type { DeliveryJob } from './job.js';

/** What a running or just-settled job was, for the reports about it that BullMQ makes by job id only. */
export interface Seen {
  readonly event: string;
  readonly attempt: number;
}

/** The worker's records besides the reports (`core.report`): through the receiver's logger, or one console line without one. */
export function workerLog(core: AdapterApi) {
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
    superseded(job: DeliveryJob, orderKey: string | undefined) {
      info(
        { outcome: 'superseded', event: job.name, deliveryId: job.id!, ...(orderKey !== undefined && { orderKey }) },
        'Delivery superseded: a newer one of the same entity was applied already; its handlers did not run',
      );
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


export type WorkerLog = ReturnType<typeof workerLog>;
