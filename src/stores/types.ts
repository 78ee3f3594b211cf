/**
 * A delivery this request now holds. Settle it once: `commit` when every handler succeeded,
 * `release` when one failed. The handle knows which claim it is, so settling it can never touch a
 * newer claim of the same delivery (one that took over after this claim's lease ran out).
 */
export interface Claimed {
  readonly status: 'claimed';
  /** The handlers succeeded: remember the delivery as processed for `ttlMs`. */
  commit(ttlMs: number): void | PromiseLike<void>;
  /** The handlers failed: forget this claim, so that AICommerce's retry is processed. */
  release(): void | PromiseLike<void>;
}

/** What a claim found: a new delivery (now ours), one already processed, or one another request holds. */
export type ClaimResult = Claimed | { readonly status: 'duplicate' } | { readonly status: 'in_flight' };

/**
 * Remembers which deliveries were processed, so that each one runs its handlers once. Keys are
 * digests of the raw body. Every method may answer synchronously or with a promise (any thenable); a store that
 * cannot be reached rejects, and the delivery is answered 503 without running anything.
 */
export interface DedupeStore {
  /**
   * Atomically: if `key` is unknown (or its lease ran out), hold it as in flight and answer a
   * `Claimed` handle; otherwise say what it is. The hold is a lease: it lapses on its own if this
   * process dies before settling it.
   */
  claim(key: string): ClaimResult | PromiseLike<ClaimResult>;
}

/** The two answers that carry no handle, shared by every store. */
export const DUPLICATE = Object.freeze({ status: 'duplicate' } as const);
export const IN_FLIGHT = Object.freeze({ status: 'in_flight' } as const);

/**
 * An entity this delivery now holds (latest wins: docs/latest-wins.md). Settle it once: `applied`
 * when every handler succeeded, `release` when one failed.
 */
export interface Held {
  readonly status: 'held';
  /** Raise the entity's mark to this delivery's timestamp (never lower it), keep it at least `retainMs`, and let go of the entity. */
  applied(retainMs: number): void | PromiseLike<void>;
  /** Let go of the entity; its mark stays as it was. */
  release(): void | PromiseLike<void>;
}

/** What holding an entity found: it is ours now, a later delivery of it was applied already, or another delivery holds it. */
export type HoldResult = Held | { readonly status: 'superseded' } | { readonly status: 'busy' };

/**
 * Per entity key, the envelope timestamp of the newest delivery applied, and who holds the entity
 * now. Both stores of the package keep these beside their dedupe records.
 */
export interface OrderStore {
  /**
   * Atomically: `superseded` when a delivery of `key` newer than `timestampMs` was applied (an
   * equal one is not newer); `busy` while another delivery holds `key`; otherwise hold it. A hold
   * is a lease: it lapses on its own if this process dies before settling it.
   */
  hold(key: string, timestampMs: number): HoldResult | PromiseLike<HoldResult>;
}

/**
 * A store's answer that is still to come (a promise, or any thenable a custom store returns). Only
 * those are awaited: each needless await costs a turn of the microtask queue, and the memory store
 * answers at once.
 */
export const isPending = <T>(answer: T | PromiseLike<T>): answer is PromiseLike<T> => typeof (answer as Partial<PromiseLike<T>> | null | undefined)?.then === 'function';

export const SUPERSEDED = Object.freeze({ status: 'superseded' } as const);
export const BUSY = Object.freeze({ status: 'busy' } as const);
