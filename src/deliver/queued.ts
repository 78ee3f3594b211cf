import { DeliveryContext } from '../context.js';
import { queueUnavailable, storeUnavailable, WebhookError } from '../errors.js';
import type { KnownEvent } from '../events.js';
import { dispatch, type HandlerRegistry, type HandlerRunner } from '../handlers.js';
import { parseJson, validate, type EventValidator } from '../pipeline.js';
import type { DeliveryQueue, ProcessResult, StoredDelivery } from '../queue/types.js';
import type { Held, OrderStore } from '../stores/types.js';
import type { DeliveryFacts } from '../telemetry/logger.js';
import { timestampMs } from '../validation/timestamp.js';
import { holdEntity, orderKeyOf, type OrderKey } from './order.js';
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
  /** Latest wins: event name → entity key function. */
  readonly orderKeys: ReadonlyMap<string, OrderKey<KnownEvent>>;
  readonly report: (error: WebhookError, facts: DeliveryFacts) => unknown;
}

/** Where a worker keeps the latest-wins marks (the queue's Redis), and for how long. */
export interface StoredOrder {
  readonly store: OrderStore;
  /** As long as an older delivery could still run: the retry horizon and twice the tolerance. */
  readonly retainMs: number;
}

/**
 * Worker side: the stored delivery is validated again (it may have waited through a deploy), its
 * entity held (latest wins), then the handlers not yet done run concurrently. Throws a
 * `WebhookPayloadError` when it no longer matches its schema.
 */
export function runStored(delivery: StoredDelivery, job: StoredJob, side: WorkerSide, order: StoredOrder | undefined): Promise<ProcessResult> {
  return runWithTraceCarrier(delivery.trace, async (): Promise<ProcessResult> => {
    const validated = validate(parseJson(delivery.body), side.validators, false);
    if (!validated.known) return { status: 'ran', event: validated.event, done: job.done, failures: [] };
    const { event } = validated;
    const orderKey = orderKeyOf(side.orderKeys, event);
    const held = orderKey === undefined || order === undefined ? undefined : await holdEntity(order.store, orderKey, timestampMs(event.timestamp));
    if (held === 'superseded' || held === 'busy') return { status: held, orderKey, event, done: job.done, failures: [] };

    const context = new DeliveryContext(delivery.body, delivery.headers, delivery.url, job.attempt, job.id, orderKey);
    const pending = side.handlers.for(event.event).filter((registration) => !job.done.includes(registration.key));
    const runs = await dispatch(pending, event, context, side.runHandler);
    const failures = runs.filter((run) => !run.ok).map((run) => run.error);
    // Not awaited: the entity stays held until the settling lands, so no other job of it runs before;
    // and the job's completion follows it on the same Redis connection, so Redis applies it first.
    if (held !== undefined) void settleHold(held, failures.length === 0, order!.retainMs, side, { event: event.event, deliveryId: job.id });
    return { status: 'ran', orderKey, event, done: [...job.done, ...runs.filter((run) => run.ok).map((run) => run.registration.key)], failures };
  });
}

/** Applied when every handler is done, released otherwise; the store's trouble is reported, and the job's result stands. */
async function settleHold(held: Held, applied: boolean, retainMs: number, side: WorkerSide, facts: DeliveryFacts): Promise<void> {
  try {
    await (applied ? held.applied(retainMs) : held.release());
  } catch (cause) {
    side.report(storeUnavailable(`Order store failed to ${applied ? 'record' : 'release'} an entity`, cause), facts);
  }
}
