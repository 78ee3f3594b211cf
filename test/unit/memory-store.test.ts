import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, MemoryDedupeStore } from 'aicommerce-webhooks';
import { claimed, clockedStore } from '../helpers/stores.js';

// The default store, through its public methods, on an injected clock. The same store behind a
// receiver over HTTP is in test/integration/memory-store-http.test.ts.

const SECRET = 'whsec_memory';

describe('MemoryDedupeStore', () => {
  it('an in-flight lease holds through leaseMs, then lapses so a retry can claim the delivery', () => {
    const { clock, store } = clockedStore({ leaseMs: 1000 });
    claimed(store.claim('k'));
    clock.now += 1000;
    expect(store.claim('k').status).toBe('in_flight');
    clock.now += 1;
    claimed(store.claim('k'));
  });

  it('a commit is a duplicate through its TTL and forgotten after it', () => {
    const { clock, store } = clockedStore();
    claimed(store.claim('k')).commit(5000);
    clock.now += 5000;
    expect(store.claim('k').status).toBe('duplicate');
    clock.now += 1;
    claimed(store.claim('k'));
  });

  it('a release lets the retry claim again', () => {
    const { store } = clockedStore();
    claimed(store.claim('k')).release();
    claimed(store.claim('k'));
  });

  it('a release never forgets a committed delivery', () => {
    const { clock, store } = clockedStore({ leaseMs: 1000 });
    const first = claimed(store.claim('k'));
    clock.now += 1001; // the first handler is slow; its lease runs out
    claimed(store.claim('k')).commit(60_000); // the second copy succeeds
    first.release(); // the first one fails
    expect(store.claim('k').status).toBe('duplicate');
  });

  it('the release of a claim whose lease ran out leaves the newer claim’s lease', () => {
    const { clock, store } = clockedStore({ leaseMs: 1000 });
    const older = claimed(store.claim('k'));
    clock.now += 1001;
    const newer = claimed(store.claim('k'));
    older.release(); // the older claim's handler fails
    expect(store.claim('k').status).toBe('in_flight');
    newer.release(); // and then the newer one's
    claimed(store.claim('k'));
  });

  it('holds at most maxEntries, forgetting the oldest first', () => {
    const { store } = clockedStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) claimed(store.claim(key)).commit(60_000);
    expect(store.size).toBe(3);
    expect(['b', 'c', 'd'].map((key) => store.claim(key).status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    claimed(store.claim('a')); // forgotten, and now held again at the young end…
    expect(store.size).toBe(3);
    claimed(store.claim('b')); // …which pushed out the oldest, b
  });

  it('sweeps expired entries as it writes, so size does not grow with traffic', () => {
    const { clock, store } = clockedStore();
    for (let i = 0; i < 1000; i++) {
      claimed(store.claim(`k${i}`)).commit(10);
      clock.now += 100; // each expires before the next arrives
    }
    expect(store.size).toBeLessThanOrEqual(2);
  });

  it('starts no timer: nothing keeps the process alive', () => {
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    const store = new MemoryDedupeStore({ leaseMs: 10, maxEntries: 10 });
    for (let i = 0; i < 100; i++) {
      const claim = claimed(store.claim(`k${i}`));
      if (i % 2 === 0) claim.commit(10);
      else claim.release();
    }
    createWebhookReceiver({ secret: SECRET }); // the default store, too
    expect(timers()).toBe(before);
  });

  it('rejects a maxEntries that is not a positive integer and a lease that is not positive', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) expect(() => new MemoryDedupeStore({ maxEntries })).toThrow(/maxEntries/);
    for (const leaseMs of [0, -1, Number.NaN]) expect(() => new MemoryDedupeStore({ leaseMs })).toThrow(/leaseMs/);
  });
});
