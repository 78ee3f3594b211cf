import { UnrecoverableError, type WorkerOptions } from 'bullmq';
import { noHandler as noHandlerError, WebhookError, WebhookHandlerError } from '../errors.js';
import type { DeliveryJob } from './job.js';

// How a job's failures become what BullMQ keeps (the failed reason, one stack) and what onError hears.

/** The attempt that failed was the last one: the job is now in the failed set. */
export function isFinal(job: DeliveryJob, error: Error): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** What `onError` hears of a dead letter: the handlers' own failure, or what BullMQ failed the job for (a stall). */
export function deadLetter(job: DeliveryJob, error: Error, options: Omit<WorkerOptions, 'connection'>): WebhookError {
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
export function noHandler(job: DeliveryJob): UnrecoverableError {
  const error = withDelivery(
    noHandlerError(job.name),
    job,
  );
  return Object.assign(new UnrecoverableError(error.message), { cause: error });
}

/** The job's delivery id and event on the error, for whoever reads it before it is reported. */
export function withDelivery<E extends WebhookError>(error: E, job: DeliveryJob): E {
  error.deliveryId = job.id!;
  error.eventName = job.name;
  return error;
}

/**
 * What a failed attempt throws to BullMQ, which keeps its message as the job's `failedReason` and
 * its stack in `stacktrace`: the handlers' own messages and first stack, for whoever reads the dead
 * letters (`aicommerce-webhooks queue failed`, the dashboard). `cause` is the `WebhookHandlerError`.
 */
export class HandlersFailed extends Error {
  override name = 'HandlersFailed';
  declare readonly cause: WebhookHandlerError;

  constructor(error: WebhookHandlerError) {
    super(`${error.message}: ${error.errors.map(describeFailure).join('; ')}`, { cause: error });
    const first = error.errors[0];
    if (first instanceof Error && first.stack !== undefined) this.stack = `${this.name}: ${this.message}\n${first.stack}`;
  }
}

/** An error's message, with the fields a payload error names (never their values). */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const issues = (error as { issues?: readonly { path: string; message: string }[] }).issues;
  return issues === undefined || issues.length === 0 ? error.message : `${error.message} (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`;
}
