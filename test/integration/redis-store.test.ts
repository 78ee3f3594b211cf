import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import type { Held, HoldResult } from 'aicommerce-webhooks';
import { RedisDedupeStore } from 'aicommerce-webhooks/redis';
import { describeRedis, uniquePrefix, useRedisClient } from '../helpers/redis.js';
import { claimed } from '../helpers/stores.js';

// RedisDedupeStore on a real redis-server, through its public methods. Two store instances on one
// prefix stand for two processes.

describe('RedisDedupeStore options', () => {
  const client = createClient(); // never connected: construction sends nothing

  it('rejects a missing client, a non-string prefix and a lease that is not a positive number', () => {
    expect(() => new RedisDedupeStore({ client: undefined as never })).toThrow(/client must be a client from the `redis` package/);
    expect(() => new RedisDedupeStore({ client: {} as never })).toThrow(TypeError);
    expect(() => new RedisDedupeStore({ client, prefix: 1 as never })).toThrow(/prefix must be a string/);
    for (const leaseMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new RedisDedupeStore({ client, leaseMs })).toThrow(/leaseMs must be a positive number/);
    }
    expect(new RedisDedupeStore({ client, prefix: '', leaseMs: 1.5 })).toBeInstanceOf(RedisDedupeStore);
  });
});

describeRedis('RedisDedupeStore on a real Redis', () => {
  const redis = useRedisClient();

  /** Stores sharing one prefix: "this process", "another process" and a third one that only looks. */
  const pair = (leaseMs?: number) => {
    const prefix = uniquePrefix();
    const store = () => new RedisDedupeStore({ client: redis.client, prefix, ...(leaseMs !== undefined && { leaseMs }) });
    return { prefix, ours: store(), theirs: store(), third: store() };
  };

  it('claims a new key once: claimed, then in_flight, then duplicate once committed', async () => {
    const { ours, theirs } = pair();
    const claim = claimed(await ours.claim('k'));
    expect((await theirs.claim('k')).status).toBe('in_flight');
    expect((await ours.claim('k')).status).toBe('in_flight');
    await claim.commit(60_000);
    expect((await theirs.claim('k')).status).toBe('duplicate');
  });

  it('keeps keys under the prefix: the lease expires after leaseMs, a commit after its TTL', async () => {
    const { prefix, ours } = pair(30_000);
    const claim = claimed(await ours.claim('k'));
    const leaseTtl = await redis.client.pTTL(`${prefix}k`);
    expect(leaseTtl).toBeGreaterThan(0);
    expect(leaseTtl).toBeLessThanOrEqual(30_000);
    await claim.commit(600_000);
    expect(await redis.client.get(`${prefix}k`)).toBe('committed');
    expect(await redis.client.pTTL(`${prefix}k`)).toBeGreaterThan(30_000);
    expect(await redis.client.exists('k')).toBe(0);
  });

  it('a released claim lets the retry claim again', async () => {
    const { ours, theirs } = pair();
    await claimed(await ours.claim('k')).release();
    claimed(await theirs.claim('k'));
  });

  it('an in-flight lease expires by itself, as when its process dies mid-handler', async () => {
    const { ours, theirs } = pair(50);
    claimed(await ours.claim('k')); // …and this "process" never commits nor releases
    await sleep(120);
    claimed(await theirs.claim('k'));
  });

  it('a late release cannot delete a lease another process took over after ours expired', async () => {
    const { ours, theirs, third } = pair(50);
    const late = claimed(await ours.claim('k'));
    await sleep(120);
    claimed(await theirs.claim('k'));
    await late.release(); // our slow handler failed, after the takeover
    expect((await third.claim('k')).status).toBe('in_flight');
  });

  it('a release cannot delete a committed key', async () => {
    const { ours, theirs, third } = pair(50);
    const late = claimed(await ours.claim('k'));
    await sleep(120);
    await claimed(await theirs.claim('k')).commit(60_000);
    await late.release();
    expect((await third.claim('k')).status).toBe('duplicate');
  });

  it('when a lease ran out under a slow handler and the same store claimed again, the older claim’s release leaves the newer lease', async () => {
    const { ours, theirs } = pair(50);
    const older = claimed(await ours.claim('k'));
    await sleep(120);
    const newer = claimed(await ours.claim('k')); // the retry reached this same process
    await older.release(); // the first, slow handler fails
    expect((await theirs.claim('k')).status).toBe('in_flight'); // the second still holds it
    await newer.release();
    claimed(await theirs.claim('k'));
  });

  describe('latest wins: the entity marks and holds', () => {
    const held = (result: HoldResult): Held => {
      expect(result.status).toBe('held');
      return result as Held;
    };

    it('holds an entity once; a newer mark supersedes older timestamps, an equal one does not; a release raises nothing', async () => {
      const { ours, theirs } = pair();
      const first = held(await ours.hold('store_1/product/p1', 2_000));
      expect((await theirs.hold('store_1/product/p1', 3_000)).status).toBe('busy');
      await first.release(); // failed handlers: no mark
      const second = held(await theirs.hold('store_1/product/p1', 1_000));
      await second.applied(60_000);
      expect((await ours.hold('store_1/product/p1', 999)).status).toBe('superseded');
      await held(await ours.hold('store_1/product/p1', 1_000)).applied(60_000); // a tie is applied
      const newer = held(await ours.hold('store_1/product/p1', 5_000));
      await newer.applied(60_000);
      expect((await theirs.hold('store_1/product/p1', 4_999)).status).toBe('superseded');
      expect((await theirs.hold('store_1/product/p2', 1)).status).toBe('held'); // another entity
    });

    it('keeps one hash per entity under the prefix, never lowers its mark, and lets it expire after the retention', async () => {
      const { prefix, ours, theirs } = pair();
      const late = held(await ours.hold('e', 1_000));
      await late.applied(60_000);
      await held(await theirs.hold('e', 9_000)).applied(60_000);
      await held(await theirs.hold('e', 9_000)).applied(150); // same mark, shorter retention: the longer one stays
      expect(await redis.client.hGetAll(`${prefix}order:e`)).toEqual({ m: '9000' });
      expect(await redis.client.pTTL(`${prefix}order:e`)).toBeGreaterThan(50_000);
      const { prefix: short, ours: brief } = pair();
      await held(await brief.hold('e', 1)).applied(100);
      await sleep(200);
      expect(await redis.client.exists(`${short}order:e`)).toBe(0);
    });

    it('a hold is a lease on Redis’s clock: when its process dies, another delivery holds the entity after leaseMs; the late settle leaves the new hold', async () => {
      const { ours, theirs } = pair(100);
      const dead = held(await ours.hold('e', 1_000));
      expect((await theirs.hold('e', 2_000)).status).toBe('busy');
      await sleep(150);
      const next = held(await theirs.hold('e', 2_000));
      await dead.applied(60_000); // the "dead" one settles after all: its mark goes in, the other's hold stays
      expect((await ours.hold('e', 3_000)).status).toBe('busy');
      await next.applied(60_000);
      expect((await ours.hold('e', 1_500)).status).toBe('superseded');
    });

    it('a hold that cannot reach Redis rejects (the receiver answers it 503 store_unavailable, nothing run)', async () => {
      const client = redis.client.duplicate({ disableOfflineQueue: true });
      client.on('error', () => {});
      await client.connect();
      const store = new RedisDedupeStore({ client, prefix: uniquePrefix() });
      await client.close();
      await expect(store.hold('e', 1)).rejects.toThrow();
    });
  });
});

