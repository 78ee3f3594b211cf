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
  readonly mark: number | undefined;
  readonly holder: object | undefined;
  readonly heldUntil: number;
  readonly expiresAt: number;
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
    const entity = this.#entities.get(key, now);
    if (entity?.mark !== undefined && entity.mark > timestampMs) return SUPERSEDED;
    if (entity?.holder !== undefined && entity.heldUntil >= now) return BUSY;
    const holder = {};
    const mark = entity?.mark;
    this.#entities.set(key, { mark, holder, heldUntil: now + this.#leaseMs, expiresAt: Math.max(entity?.expiresAt ?? 0, now + this.#leaseMs) }, now);
    // Settling reads the entity as it is then: another delivery may have applied meanwhile if this hold lapsed.
    const settle = (applied: number | undefined, retainMs: number): void => {
      const at = this.#now();
      const current = this.#entities.get(key, at);
      const newest = Math.max(current?.mark ?? -Infinity, applied ?? -Infinity);
      const ours = current?.holder === holder;
      const next: Entity = {
        mark: Number.isFinite(newest) ? newest : undefined,
        holder: ours ? undefined : current?.holder,
        heldUntil: ours ? 0 : (current?.heldUntil ?? 0),
        expiresAt: Math.max(current?.expiresAt ?? 0, at + retainMs),
      };
      if (next.mark === undefined && next.holder === undefined) {
        if (current !== undefined) this.#entities.deleteIf(key, current);
      } else {
        this.#entities.set(key, next, at);
      }
    };
    return { status: 'held', applied: (retainMs) => settle(timestampMs, retainMs), release: () => settle(undefined, 0) };
  }
}
