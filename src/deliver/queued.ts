import { DeliveryContext } from '../context.js';
import { queueUnavailable, WebhookError } from '../errors.js';
import { dispatch, type HandlerRegistry, type HandlerRunner } from '../handlers.js';
import { parseJson, validate, type EventValidator } from '../pipeline.js';
import type { DeliveryQueue, ProcessResult, StoredDelivery } from '../queue/types.js';
import { currentTraceCarrier, runWithTraceCarrier } from '../telemetry/propagation.js';
import type { Deliver } from './types.js';

// Queued mode, both sides: the receiver stores a checked delivery and answers 202; a worker later
// takes it out, checks it again and runs its handlers through the same dispatch as inline.

/** Receiver side: the answer waits for the queue's acknowledgement, so a 2xx means the delivery is stored. */
export function deliverQueued(queue: DeliveryQueue, rememberMs: number): Deliver {
  return async ({ event, body, text }, { headers = {}, url }) => {
    let stored;
    try {
      stored = await queue.enqueue({
        id: new DeliveryContext(body, headers, url).id,
        event: event.event,
        body: text,
        headers,
        url,
        trace: currentTraceCarrier(), // the delivery span is active here: the worker's spans continue its trace
        rememberMs,
      });
    } catch (cause) {
      // A queue's own queue_unavailable says why (src/queue/clients.ts); anything else it threw is wrapped in one.
      throw cause instanceof WebhookError && cause.code === 'queue_unavailable' ? cause : queueUnavailable(cause);
    }
    return { result: { outcome: stored === 'duplicate' ? 'duplicate' : 'queued', event }, runs: [] };
  };
}

/** The job a stored delivery is run in: its id (the delivery id), which attempt this is, the handlers done before. */
export interface StoredJob {
  readonly id: string;
  readonly attempt: number;
  readonly done: readonly string[];
}

export interface WorkerSide {
  readonly validators: ReadonlyMap<string, EventValidator>;
  readonly handlers: HandlerRegistry;
  readonly runHandler: HandlerRunner;
}

/**
 * Worker side: the stored delivery is validated again (it may have waited through a deploy), then
 * the handlers not yet done run concurrently. Throws a `WebhookPayloadError` when it no longer
 * matches its schema.
 */
export function runStored(delivery: StoredDelivery, job: StoredJob, { validators, handlers, runHandler }: WorkerSide): Promise<ProcessResult> {
  return runWithTraceCarrier(delivery.trace, async () => {
    const validated = validate(parseJson(delivery.body), validators, false);
    if (!validated.known) return { event: validated.event, done: job.done, failures: [] };
    const { event } = validated;
    const context = new DeliveryContext(delivery.body, delivery.headers, delivery.url, job.attempt, job.id);
    const pending = handlers.for(event.event).filter((registration) => !job.done.includes(registration.key));
    const runs = await dispatch(pending, event, context, runHandler);
    return {
      event,
      done: [...job.done, ...runs.filter((run) => run.ok).map((run) => run.registration.key)],
      failures: runs.filter((run) => !run.ok).map((run) => run.error),
    };
  });
}
