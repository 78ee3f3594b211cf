import { inFlight, storeUnavailable } from '../errors.js';
import type { EventSchemas, Matching, Names, Prefixes, SchemaMap, WebhookEvent } from '../events.js';
import { matches } from '../handlers.js';
import type { KnownEvent } from '../events.js';
import type { Held, OrderStore } from '../stores/types.js';

// Latest wins (docs/latest-wins.md): for events that carry a snapshot of one entity, the envelope
// timestamp of the newest delivery applied is kept per entity key, and an older delivery is never
// applied after it. One delivery per entity runs at a time. Inline and the worker both use this.

/** The entity key of a delivery, or `undefined` when it has none (it is then not ordered). */
export type OrderKey<Event> = (event: Event) => string | undefined;

/** The patterns a receiver's events can be named by: a name, `'prefix.*'` or `'*'`. */
type Pattern<Schemas extends SchemaMap> = Names<Schemas> | `${Prefixes<Names<Schemas>>}.*` | '*';

/** The event names a pattern stands for. */
type NamesOf<P extends string, Schemas extends SchemaMap> = P extends '*' ? Names<Schemas> : P extends `${infer Prefix}.*` ? Matching<Names<Schemas>, Prefix> : Extract<P, Names<Schemas>>;

/** Event name or prefix pattern → the entity key of its deliveries. Types follow the event. */
export type OrderKeys<Schemas extends SchemaMap = EventSchemas> = {
  readonly [P in Pattern<Schemas>]?: OrderKey<WebhookEvent<NamesOf<P, Schemas>, Schemas>>;
};

const productKey = (event: WebhookEvent<'product.added' | 'product.updated'>): string => `${event.data.storeId}/product/${event.data.product.id}`;

/** The default: a catalogue product by store and id, a daily report by store and date. */
export const defaultOrderKeys = {
  /** `<storeId>/product/<product.id>`: a product added, then updated, is one entity. */
  'product.added': productKey,
  /** `<storeId>/product/<product.id>`, the key `product.added` gives the same product. */
  'product.updated': productKey,
  /** `<storeId>/analytics/<date>`: one store's report of one day. */
  'analytics.daily': (event: WebhookEvent<'analytics.daily'>): string => `${event.data.storeId}/analytics/${event.data.date}`,
} as const satisfies OrderKeys;

/** Event name → its key function: the most specific pattern that matches it (a name, then the longest prefix, then `'*'`). */
export function compileOrderKeys(keys: Readonly<Record<string, unknown>>, eventNames: readonly string[]): Map<string, OrderKey<KnownEvent>> {
  for (const [pattern, key] of Object.entries(keys)) {
    if (typeof key !== 'function') throw new TypeError(`order['${pattern}'] must be a function of the event that returns its entity key`);
    if (!eventNames.some((name) => matches(pattern, name))) {
      throw new TypeError(`order: no event matches '${pattern}'. Known events: ${eventNames.join(', ')}.`);
    }
  }
  const specificity = (pattern: string): number => (pattern === '*' ? 0 : pattern.endsWith('.*') ? pattern.length : Infinity);
  const compiled = new Map<string, OrderKey<KnownEvent>>();
  for (const name of eventNames) {
    const best = Object.keys(keys)
      .filter((pattern) => matches(pattern, name))
      .sort((a, b) => specificity(b) - specificity(a))[0];
    if (best !== undefined) compiled.set(name, keys[best] as OrderKey<KnownEvent>);
  }
  return compiled;
}

/** The entity key of a delivery of this event, checked: a key is a non-empty string. */
export function orderKeyOf(keys: ReadonlyMap<string, OrderKey<KnownEvent>>, event: KnownEvent): string | undefined {
  const key = keys.get(event.event)?.(event);
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key === '') throw new TypeError(`order['${event.event}'] returned ${JSON.stringify(key)}: an entity key is a non-empty string or undefined`);
  return key;
}

/**
 * Holds the entity for this delivery: its `Held` handle, or `'superseded'` when a later delivery of
 * it was applied. 409 `in_flight` while another delivery holds it; 503 when the store is unreachable.
 */
export async function holdEntity(store: OrderStore, key: string, timestampMs: number): Promise<Held | 'superseded' | 'busy'> {
  let held;
  try {
    held = await store.hold(key, timestampMs);
  } catch (cause) {
    throw storeUnavailable('Order store unavailable; nothing was processed', cause);
  }
  return held.status === 'held' ? held : held.status;
}

/** Inline: another request holds the entity; AICommerce's retry finds it applied or superseded. */
export const entityBusy = () => inFlight('Another delivery of the same entity is being processed');
