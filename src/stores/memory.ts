import type { ClaimResult, DedupeStore } from './types.js';

export interface MemoryDedupeStoreOptions {
  /** Most deliveries remembered at once; past it the oldest is forgotten first. Default 100,000 (about 15 MB). */
  maxEntries?: number;
  /** How long an in-flight claim holds before another copy may take it over, in ms. Default 60,000. */
  leaseMs?: number;
  /** Milliseconds clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  committed: boolean;
  expiresAt: number;
}

/**
 * The default store: one process's memory. Every operation is O(1); entries expire lazily and the
 * oldest is dropped when full, so there is no timer to keep the process alive. Use a shared store
 * (`aicommerce-webhooks/redis`) as soon as more than one process receives deliveries.
 */
export class MemoryDedupeStore implements DedupeStore {
  readonly #entries = new Map<string, Entry>(); // insertion order ≈ age, oldest first
  /**
   * Key → claims not yet committed or released. More than one only when a lease ran out under a
   * slow handler and a copy claimed the key again: the older claim's release must not free it.
   */
  readonly #unsettled = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #leaseMs: number;
  readonly #now: () => number;

  constructor({ maxEntries = 100_000, leaseMs = 60_000, now = Date.now }: MemoryDedupeStoreOptions = {}) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    if (!(leaseMs > 0)) throw new TypeError('leaseMs must be a positive number of milliseconds');
    this.#maxEntries = maxEntries;
    this.#leaseMs = leaseMs;
    this.#now = now;
  }

  /** How many deliveries are held now, expired ones included until they are swept. */
  get size(): number {
    return this.#entries.size;
  }

  claim(key: string): ClaimResult {
    const now = this.#now();
    const entry = this.#entries.get(key);
    // Held through its last millisecond, as Redis holds a key: a replay at the very edge of the
    // tolerance window still finds the delivery it repeats.
    if (entry !== undefined && entry.expiresAt >= now) return entry.committed ? 'duplicate' : 'in_flight';
    this.#remember(key, { committed: false, expiresAt: now + this.#leaseMs }, now);
    this.#unsettled.set(key, (this.#unsettled.get(key) ?? 0) + 1);
    return 'claimed';
  }

  commit(key: string, ttlMs: number): void {
    this.#settle(key);
    const now = this.#now();
    this.#remember(key, { committed: true, expiresAt: now + ttlMs }, now);
  }

  release(key: string): void {
    // Never forget a processed delivery, nor a lease that a newer claim took over (see #unsettled).
    if (this.#settle(key) === 0 && this.#entries.get(key)?.committed === false) this.#entries.delete(key);
  }

  /** Counts one claim of `key` as settled; answers how many are still running. */
  #settle(key: string): number {
    const left = (this.#unsettled.get(key) ?? 1) - 1;
    if (left > 0) this.#unsettled.set(key, left);
    else this.#unsettled.delete(key);
    return left;
  }

  #remember(key: string, entry: Entry, now: number): void {
    this.#entries.delete(key); // re-inserting moves it to the young end
    this.#sweep(now);
    this.#entries.set(key, entry);
  }

  /** Drops expired entries from the old end (a bounded amount per call) and, when full, the oldest. */
  #sweep(now: number): void {
    let budget = 2;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size >= this.#maxEntries || (budget-- > 0 && entry.expiresAt < now)) {
        this.#entries.delete(key);
      } else {
        break;
      }
    }
  }
}
