import { DeliveryContext } from '../context.js';
import { inFlight, storeUnavailable, type WebhookError } from '../errors.js';
import { dispatch, type HandlerRegistry, type HandlerRunner } from '../handlers.js';
import type { KnownEvent } from '../pipeline.js';
import { handlerFailure } from '../report.js';
import type { Claimed, DedupeStore, Held, OrderStore } from '../stores/types.js';
import type { DeliveryFacts } from '../telemetry/logger.js';
import { entityBusy, holdEntity, orderKeyOf, type OrderKey } from './order.js';
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

    const held = orderKey === undefined ? undefined : await holdOrRelease(orderStore, orderKey, timestampMs, claim);
    if (held === 'superseded') {
      if (claim !== undefined) await settle(options, { claim, ok: true }, event, context); // dealt with: a copy is a duplicate
      return { result: { outcome: 'superseded', event }, runs: [] };
    }
    const runs = await dispatch(handlers.for(event.event), event, context, runHandler);
    const ok = runs.every((run) => run.ok);
    if (claim !== undefined || held !== undefined) await settle(options, { claim, held, ok }, event, context);
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

/** The entity held for this delivery, or `'superseded'`; 409 while another delivery holds it. The claim is let go on the way out. */
async function holdOrRelease(store: OrderStore, key: string, timestampMs: number, claim: Claimed | undefined): Promise<Held | 'superseded'> {
  let held;
  try {
    held = await holdEntity(store, key, timestampMs);
  } catch (error) {
    await Promise.resolve(claim?.release()).catch(() => {}); // 503: the retry must be able to claim it again
    throw error;
  }
  if (held !== 'busy') return held;
  await Promise.resolve(claim?.release()).catch(() => {});
  throw entityBusy();
}

/**
 * Settles the hold and the claim as the handlers ended. A store's trouble here is reported, not
 * answered: the handlers' result stands (a processed delivery still answers 2xx, since a retry would
 * run it twice; a failed one 500).
 */
async function settle(
  { rememberMs, orderRetainMs, report }: InlineOptions,
  { claim, held, ok }: { claim: Claimed | undefined; held?: Held | undefined; ok: boolean },
  event: KnownEvent,
  context: DeliveryContext,
): Promise<void> {
  // Only on trouble: the delivery id is a SHA-256 of the body, not worth computing for nothing.
  const facts = (): DeliveryFacts => ({ event: event.event, deliveryId: context.id });
  try {
    if (held !== undefined) await (ok ? held.applied(orderRetainMs) : held.release());
  } catch (cause) {
    report(storeUnavailable(`Order store failed to ${ok ? 'record' : 'release'} an entity`, cause), facts());
  }
  try {
    if (claim !== undefined) await (ok ? claim.commit(rememberMs) : claim.release());
  } catch (cause) {
    report(storeUnavailable(`Dedupe store failed to ${ok ? 'commit' : 'release'} a delivery`, cause), facts());
  }
}
