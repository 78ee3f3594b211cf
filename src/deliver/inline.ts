import { DeliveryContext } from '../context.js';
import { inFlight, storeUnavailable, type WebhookError } from '../errors.js';
import { dispatch, type HandlerRegistry, type HandlerRunner } from '../handlers.js';
import { handlerFailure } from '../report.js';
import type { Claimed, DedupeStore } from '../stores/types.js';
import type { DeliveryFacts } from '../telemetry/logger.js';
import type { Deliver } from './types.js';

export interface InlineOptions {
  readonly handlers: HandlerRegistry;
  readonly runHandler: HandlerRunner;
  /** Where processed deliveries are remembered; `undefined`: deduplication is off. */
  readonly dedupe: DedupeStore | undefined;
  /** How long a processed delivery is remembered. */
  readonly rememberMs: number;
  readonly report: (error: WebhookError, facts: DeliveryFacts) => unknown;
}

/** Inline: claim the delivery, run its handlers inside the request, then commit (all succeeded) or release (so the retry runs). */
export function deliverInline({ handlers, runHandler, dedupe, rememberMs, report }: InlineOptions): Deliver {
  return async ({ event, body }, { headers = {}, url }) => {
    const context = new DeliveryContext(body, headers, url);
    const claim = dedupe === undefined ? undefined : await claimDelivery(dedupe, context.id);
    if (claim === 'duplicate') return { result: { outcome: 'duplicate', event }, runs: [] };

    const runs = await dispatch(handlers.for(event.event), event, context, runHandler);
    const ok = runs.every((run) => run.ok);
    if (claim !== undefined) {
      try {
        await (ok ? claim.commit(rememberMs) : claim.release());
      } catch (cause) {
        // The handlers' result stands: a processed delivery still answers 2xx (a retry would run it
        // twice), a failed one 500. The store's trouble is reported, not answered.
        report(storeUnavailable(`Dedupe store failed to ${ok ? 'commit' : 'release'} a delivery`, cause), { event: event.event, deliveryId: context.id });
      }
    }
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
