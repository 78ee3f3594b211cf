/**
 * A delivery this request now holds. Settle it once: `commit` when every handler succeeded,
 * `release` when one failed. The handle knows which claim it is, so settling it can never touch a
 * newer claim of the same delivery (one that took over after this claim's lease ran out).
 */
export interface Claimed {
  readonly status: 'claimed';
  /** The handlers succeeded: remember the delivery as processed for `ttlMs`. */
  commit(ttlMs: number): void | Promise<void>;
  /** The handlers failed: forget this claim, so that AICommerce's retry is processed. */
  release(): void | Promise<void>;
}

/** What a claim found: a new delivery (now ours), one already processed, or one another request holds. */
export type ClaimResult = Claimed | { readonly status: 'duplicate' } | { readonly status: 'in_flight' };

/**
 * Remembers which deliveries were processed, so that each one runs its handlers once. Keys are
 * digests of the raw body. Every method may answer synchronously or with a promise; a store that
 * cannot be reached rejects, and the delivery is answered 503 without running anything.
 */
export interface DedupeStore {
  /**
   * Atomically: if `key` is unknown (or its lease ran out), hold it as in flight and answer a
   * `Claimed` handle; otherwise say what it is. The hold is a lease: it lapses on its own if this
   * process dies before settling it.
   */
  claim(key: string): ClaimResult | Promise<ClaimResult>;
}

/** The two answers that carry no handle, shared by every store. */
export const DUPLICATE = Object.freeze({ status: 'duplicate' } as const);
export const IN_FLIGHT = Object.freeze({ status: 'in_flight' } as const);
