/** What a claim found: a new delivery (now ours), one already processed, or one another request holds. */
export type ClaimResult = 'claimed' | 'duplicate' | 'in_flight';

/**
 * Remembers which deliveries were processed, so that each one runs its handlers once. Keys are
 * digests of the raw body. Every method may answer synchronously or with a promise; a store that
 * cannot be reached rejects, and the delivery is answered 503 without running anything.
 */
export interface DedupeStore {
  /**
   * Atomically: if `key` is unknown (or its lease ran out), hold it as in flight and answer
   * `'claimed'`; otherwise answer what it is. The hold is a lease: it lapses on its own if this
   * process dies before `commit` or `release`.
   */
  claim(key: string): ClaimResult | Promise<ClaimResult>;
  /** The handlers succeeded: remember `key` as processed for `ttlMs`. */
  commit(key: string, ttlMs: number): void | Promise<void>;
  /** The handlers failed: forget `key`, so that AICommerce's retry is processed. */
  release(key: string): void | Promise<void>;
}
