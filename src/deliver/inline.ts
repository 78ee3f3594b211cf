import { DeliveryContext } from '../context.js';
import { inFlight, storeUnavailable, type WebhookError } from '../errors.js';
import { dispatch, type HandlerRegistry, type HandlerRunner } from '../handlers.js';
import type { KnownEvent } from '../pipeline.js';
import { handlerFailure } from '../report.js';
import { isPending, type Claimed, type DedupeStore, type Held, type HoldResult, type OrderStore } from '../stores/types.js';
import type { DeliveryFacts } from '../telemetry/logger.js';
import { entityBusy, orderKeyOf, type OrderKey } from './order.js';
import type { Deliver } from './types.js';

export interface InlineOptions {
  readonly handlers: HandlerRegistry;
  readonly runHandler: HandlerRunner;
  /** Where processed deliveries are remembered; `undefined`: deduplication is off. */
  readonly dedupe: DedupeStore | undefined;
  /** How long a processed delivery is remembered. */
  readonly rememberMs: number;
  /** Latest wins: event name → entity key function (none: ordering is off), the marks' store and their retention. */
  readonly orderKeys: ReadonlyMap<string, OrderKey<KnownEvent>>;
  readonly orderStore: OrderStore;
  readonly orderRetainMs: number;
  readonly report: (error: WebhookError, facts: DeliveryFacts) => unknown;
}

/**
 * Inline: claim the delivery, hold its entity, run its handlers inside the request, then settle
 * both — applied and committed when every handler succeeded, released (so the retry runs) when not.
 */
export function deliverInline(options: InlineOptions): Deliver {
  const { handlers, runHandler, dedupe, orderKeys, orderStore } = options;
  return async ({ event, body, timestampMs }, { headers = {}, url }) => {
    const orderKey = orderKeyOf(orderKeys, event);
    const context = new DeliveryContext(body, headers, url, 1, undefined, orderKey);
    const claim = dedupe === undefined ? undefined : await claimDelivery(dedupe, context.id);
    if (claim === 'duplicate') return { result: { outcome: 'duplicate', event }, runs: [] };

    const holding = orderKey === undefined ? undefined : holdOrRelease(orderStore, orderKey, timestampMs, claim);
    const held = isPending(holding) ? await holding : holding;
    if (held === 'superseded') {
      if (claim !== undefined) await settle(options, { claim, ok: true }, event, context); // dealt with: a copy is a duplicate
      return { result: { outcome: 'superseded', event }, runs: [] };
    }
    const runs = await dispatch(handlers.for(event.event), event, context, runHandler);
    const ok = runs.every((run) => run.ok);
    const settling = claim === undefined && held === undefined ? undefined : settle(options, { claim, held, ok }, event, context);
    if (isPending(settling)) await settling;
    if (!ok) throw handlerFailure(runs, event);
    return { result: { outcome: 'handled', event }, runs };
  };
}

/** This request's hold on the delivery; `'duplicate'` when it was processed already; 409 while another request holds it. */
async function claimDelivery(store: DedupeStore, id: string): Promise<Claimed | 'duplicate'> {
  let claim;
  try {
    claim = await store.claim(id);
  } catch (cause) {
    throw storeUnavailable('Dedupe store unavailable; nothing was processed', cause);
  }
  if (claim.status === 'in_flight') throw inFlight();
  return claim.status === 'duplicate' ? 'duplicate' : claim;
}

/**
 * The entity held for this delivery, or `'superseded'`; 409 while another delivery holds it, and
 * the claim let go first. At once when the store answers at once (the memory store does).
 */
function holdOrRelease(store: OrderStore, key: string, timestampMs: number, claim: Claimed | undefined): Held | 'superseded' | Promise<Held | 'superseded'> {
  // Refused: the claim is let go, so that the retry can claim the delivery again.
  const refuse = (error: WebhookError): Promise<never> => new Promise((resolve) => resolve(claim?.release())).then(() => Promise.reject(error), () => Promise.reject(error));
  const unavailable = (cause: unknown) => refuse(storeUnavailable('Order store unavailable; nothing was processed', cause));
  const found = (held: HoldResult) => (held.status === 'held' ? held : held.status === 'superseded' ? 'superseded' : refuse(entityBusy()));
  let answer;
  try {
    answer = store.hold(key, timestampMs);
  } catch (cause) {
    return unavailable(cause);
  }
  return isPending(answer) ? Promise.resolve(answer).then(found, unavailable) : found(answer);
}

/**
 * Settles the hold, then the claim, as the handlers ended; at once when the stores answer at once.
 * A store's trouble here is reported, not answered: the handlers' result stands (a processed
 * delivery still answers 2xx, since a retry would run it twice; a failed one 500).
 */
function settle(
  { rememberMs, orderRetainMs, report }: InlineOptions,
  { claim, held, ok }: { claim: Claimed | undefined; held?: Held | undefined; ok: boolean },
  event: KnownEvent,
  context: DeliveryContext,
): void | Promise<void> {
  // Only on trouble: the delivery id is a SHA-256 of the body, not worth computing for nothing.
  const trouble = (step: string) => (cause: unknown) => report(storeUnavailable(step, cause), { event: event.event, deliveryId: context.id });
  const entity = held === undefined ? undefined : attempt(() => (ok ? held.applied(orderRetainMs) : held.release()), trouble(`Order store failed to ${ok ? 'record' : 'release'} an entity`));
  const delivery = () => (claim === undefined ? undefined : attempt(() => (ok ? claim.commit(rememberMs) : claim.release()), trouble(`Dedupe store failed to ${ok ? 'commit' : 'release'} a delivery`)));
  return isPending(entity) ? entity.then(delivery) : delivery();
}

/** Runs one store step; its failure, at once or later, goes to `onError` and is not thrown. */
function attempt(step: () => void | PromiseLike<void>, onError: (cause: unknown) => unknown): void | Promise<void> {
  try {
    const result = step();
    if (isPending(result)) return Promise.resolve(result).then(undefined, (cause: unknown) => void onError(cause));
  } catch (cause) {
    onError(cause);
  }
}
