import { ExpiringMap } from './expiring-map.js';
import { BUSY, DUPLICATE, IN_FLIGHT, SUPERSEDED, type ClaimResult, type DedupeStore, type HoldResult, type OrderStore } from './types.js';

/** The options of `new MemoryDedupeStore()`. */
export interface MemoryDedupeStoreOptions {
  /** Most deliveries (and, apart, most entity marks) remembered at once; past it the oldest is forgotten first. Default 100,000 (about 15 MB). */
  maxEntries?: number;
  /** How long an in-flight claim, or a hold on an entity, lasts before another delivery may take it over, in ms. Default 60,000. */
  leaseMs?: number;
  /** Milliseconds clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Delivery {
  readonly committed: boolean;
  readonly expiresAt: number;
}

/** An entity's newest applied timestamp (`mark`), and the delivery holding it until `heldUntil`. */
interface Entity {
  mark: number | undefined;
  holder: object | undefined;
  heldUntil: number;
  expiresAt: number;
}

/**
 * The default store: one process's memory. Every operation is O(1); entries expire lazily and the
 * oldest is dropped when full, so there is no timer to keep the process alive. Use a shared store
 * (`aicommerce-webhooks/redis`) as soon as more than one process receives deliveries.
 */
export class MemoryDedupeStore implements DedupeStore, OrderStore {
  readonly #deliveries: ExpiringMap<Delivery>;
  readonly #entities: ExpiringMap<Entity>;
  readonly #leaseMs: number;
  readonly #now: () => number;

  constructor({ maxEntries = 100_000, leaseMs = 60_000, now = Date.now }: MemoryDedupeStoreOptions = {}) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    if (!(leaseMs > 0)) throw new TypeError('leaseMs must be a positive number of milliseconds');
    this.#deliveries = new ExpiringMap(maxEntries);
    this.#entities = new ExpiringMap(maxEntries);
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  /** How many deliveries are held now, expired ones included until they are swept. */
  get size(): number {
    return this.#deliveries.size;
  }

  claim(key: string): ClaimResult {
    const now = this.#now();
    const held = this.#deliveries.get(key, now);
    if (held !== undefined) return held.committed ? DUPLICATE : IN_FLIGHT;
    const lease: Delivery = { committed: false, expiresAt: now + this.#leaseMs };
    this.#deliveries.set(key, lease, now);
    return {
      status: 'claimed',
      commit: (ttlMs) => {
        const at = this.#now();
        this.#deliveries.set(key, { committed: true, expiresAt: at + ttlMs }, at);
      },
      // Only this claim's own lease: never a commit, never a newer claim's lease.
      release: () => this.#deliveries.deleteIf(key, lease),
    };
  }

  hold(key: string, timestampMs: number): HoldResult {
    const now = this.#now();
    let entity = this.#entities.get(key, now);
    if (entity?.mark !== undefined && entity.mark > timestampMs) return SUPERSEDED;
    if (entity?.holder !== undefined && entity.heldUntil >= now) return BUSY;
    const holder = {};
    if (entity === undefined) {
      entity = { mark: undefined, holder, heldUntil: now + this.#leaseMs, expiresAt: now + this.#leaseMs };
      this.#entities.set(key, entity, now);
    } else {
      // Changed in place (one entity object a key): a hold and its settling cost no map write.
      entity.holder = holder;
      entity.heldUntil = now + this.#leaseMs;
      entity.expiresAt = Math.max(entity.expiresAt, entity.heldUntil);
    }
    const settle = (applied: number | undefined, retainMs: number): void => {
      const at = this.#now();
      // The entity as it is now: evicted or expired meanwhile (this hold lapsed long ago), it starts afresh.
      let current = this.#entities.get(key, at);
      if (current === undefined) {
        if (applied === undefined) return;
        current = { mark: undefined, holder: undefined, heldUntil: 0, expiresAt: at };
        this.#entities.set(key, current, at);
      }
      if (applied !== undefined && !(current.mark !== undefined && current.mark >= applied)) current.mark = applied;
      if (current.holder === holder) current.holder = undefined; // never another delivery's newer hold
      current.expiresAt = Math.max(current.expiresAt, at + retainMs);
    };
    return { status: 'held', applied: (retainMs) => settle(timestampMs, retainMs), release: () => settle(undefined, 0) };
  }
}
