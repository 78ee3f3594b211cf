import { expect } from 'vitest';
import { MemoryDedupeStore, type Claimed, type ClaimResult } from 'aicommerce-webhooks';

// What the dedupe-store tests share: a claim that must have been granted, and an in-memory store
// on a clock the test moves.

/** A claim that must have been granted: its handle, to settle. */
export function claimed(result: ClaimResult): Claimed {
  expect(result.status).toBe('claimed');
  return result as Claimed;
}

/** A MemoryDedupeStore whose clock is `clock.now` (ms), starting at 1,000,000. */
export function clockedStore(options: { maxEntries?: number; leaseMs?: number } = {}) {
  const clock = { now: 1_000_000 };
  return { clock, store: new MemoryDedupeStore({ ...options, now: () => clock.now }) };
}
