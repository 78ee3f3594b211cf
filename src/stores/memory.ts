import { DUPLICATE, IN_FLIGHT, type ClaimResult, type DedupeStore } from './types.js';

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
    const held = this.#entries.get(key);
    // Held through its last millisecond, as Redis holds a key: a replay at the very edge of the
    // tolerance window still finds the delivery it repeats.
    if (held !== undefined && held.expiresAt >= now) return held.committed ? DUPLICATE : IN_FLIGHT;
    const lease: Entry = { committed: false, expiresAt: now + this.#leaseMs };
    this.#remember(key, lease, now);
    return {
      status: 'claimed',
      commit: (ttlMs) => {
        const at = this.#now();
        this.#remember(key, { committed: true, expiresAt: at + ttlMs }, at);
      },
      // Only this claim's own lease: never a commit, never a newer claim's lease.
      release: () => {
        if (this.#entries.get(key) === lease) this.#entries.delete(key);
      },
    };
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
