import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { RedisDedupeStore } from 'aicommerce-webhooks/redis';
import { createTestSender, type DeliveryReport } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { assertBuilt } from '../helpers/processes.js';
import { startReceiver, type FixtureProcess } from '../helpers/queue-processes.js';
import { seededRandom } from '../helpers/random.js';
import { connectClient, describeRedis, startRedisServer, uniquePrefix, useRedis, type TestRedisClient } from '../helpers/redis.js';
import { notAt, readDatabase, shuffledSnapshots, summary } from '../helpers/snapshots.js';

// Latest wins inline, across real processes: receiver processes (test/fixtures/latest-receiver.mjs,
// Express, the built package) whose handler writes each product's price to a Redis "database" and
// counts the runs that began with an older snapshot than one already finished (stale) or while
// another run of the product was running (overlap). AICommerce is createTestSender, delivering a
// seeded shuffle of 200 products × 5 snapshots and retrying what is not answered 2xx.

const SECRET = 'whsec_latest_inline';
const PRODUCTS = 200;
const SNAPSHOTS = 5;

describeRedis('latest wins inline, receiver processes on a real Redis', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let client: TestRedisClient;
  const processes: FixtureProcess[] = [];
  beforeAll(async () => {
    assertBuilt();
    redis = await useRedis();
    client = await connectClient(redis.url);
  });
  afterEach(async () => void (await Promise.all(processes.splice(0).map((p) => p.kill()))));
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  /** `count` receiver processes on one prefix; the Redis store shared between them when `store` says so. */
  async function receivers(count: number, env: Record<string, string>): Promise<{ urls: string[]; prefix: string }> {
    const prefix = uniquePrefix();
    const started = await Promise.all(Array.from({ length: count }, () => startReceiver({ REDIS_URL: redis.url, PREFIX: prefix, SECRET, ...env }, 'latest-receiver')));
    processes.push(...started);
    return { urls: started.map((p) => p.url), prefix };
  }

  /** The shuffled load, delivery i to urls[i % urls.length], 16 at a time, each retried (like AICommerce) until 2xx. */
  async function deliverShuffled(urls: readonly string[], products = PRODUCTS) {
    const load = shuffledSnapshots({ products, snapshots: SNAPSHOTS, secret: SECRET, seed: 15 });
    const sender = createTestSender({ retries: 8, baseDelayMs: 20, jitter: 0.5, random: seededRandom(16) });
    const began = performance.now();
    const reports = await mapConcurrently(load.length, 16, (i) => sender.deliver(urls[i % urls.length]!, load[i]!.delivery));
    const ms = performance.now() - began;
    const statuses = reports.flatMap((report) => report.attempts.map((attempt) => attempt.status));
    return {
      load,
      reports,
      ms,
      superseded: reports.filter((report) => (report.attempts.at(-1)!.response as { superseded?: boolean }).superseded === true).length,
      conflicts: statuses.filter((status) => status === 409).length,
      statuses: new Set(statuses),
    };
  }

  /** Every product at price 5, no stale run, no overlap, the faults exercised: the figures, annotated. */
  async function expectLatestWon(prefix: string, sent: Awaited<ReturnType<typeof deliverShuffled>>, annotate: (message: string) => unknown): Promise<void> {
    const undelivered: DeliveryReport[] = sent.reports.filter((report) => !report.delivered);
    expect(undelivered.map(summary)).toEqual([]);
    expect([...sent.statuses].sort()).toEqual(expect.arrayContaining([200, 500])); // answered, and failed on purpose
    expect([...sent.statuses].filter((status) => ![200, 409, 500].includes(status!))).toEqual([]);
    const db = await readDatabase(client, prefix);
    expect(notAt(db.price, sent.load.map((s) => s.productId), SNAPSHOTS)).toEqual([]);
    expect(Object.keys(db.price)).toHaveLength(PRODUCTS);
    expect({ stale: db.stale, overlap: db.overlap, maxActive: db.maxActive }).toEqual({ stale: 0, overlap: 0, maxActive: 1 });
    // What the test claims to exercise did happen: first runs failed on purpose and older snapshots came late.
    expect(db.failed).toBeGreaterThan(PRODUCTS * SNAPSHOTS * 0.05);
    expect(sent.superseded).toBeGreaterThan(PRODUCTS);
    const figures = `${sent.superseded} superseded, ${sent.conflicts} answers 409 in_flight, ${db.failed} runs failed on purpose, ${db.runs} handler runs, 0 stale, max 1 run per product at once; ${sent.ms.toFixed(0)} ms`;
    annotate(figures);
    console.log(`latest wins inline: ${figures}`);
  }

  it('1 process, 200 products × 5 snapshots shuffled, 20 % of first runs failing, sender retries: every product ends at price 5, 0 handler runs with an older snapshot after a newer one succeeded, 0 overlapping runs', async (context) => {
    const { urls, prefix } = await receivers(1, { STORE: 'memory', FAIL_PERCENT: '20' });
    const sent = await deliverShuffled(urls);
    await expectLatestWon(prefix, sent, (m) => context.annotate(m));
  }, 60_000);

  it('2 processes sharing a RedisDedupeStore, the same load split between them: every product ends at price 5, 0 stale runs, 0 overlapping runs', async (context) => {
    const { urls, prefix } = await receivers(2, { STORE: 'redis', FAIL_PERCENT: '20' });
    const sent = await deliverShuffled(urls);
    await expectLatestWon(prefix, sent, (m) => context.annotate(m));
  }, 60_000);

  it('the oracle sees what latest wins prevents: with order: false, 40 products × 5 snapshots shuffled leave stale runs and products below price 5', async (context) => {
    const { urls, prefix } = await receivers(1, { STORE: 'memory', FAIL_PERCENT: '20', ORDER: 'off' });
    const sent = await deliverShuffled(urls, 40);
    expect(sent.reports.filter((report) => !report.delivered).map(summary)).toEqual([]);
    const db = await readDatabase(client, prefix);
    const behind = notAt(db.price, sent.load.map((s) => s.productId), SNAPSHOTS);
    context.annotate(`order: false: ${db.stale} stale runs, ${behind.length} of 40 products not at price 5`);
    expect(sent.superseded).toBe(0);
    expect(db.stale).toBeGreaterThan(40);
    expect(behind.length).toBeGreaterThan(40 / 4);
  }, 60_000);
});

describeRedis('Redis memory of latest wins (RedisDedupeStore)', () => {
  it('an entity mark (<prefix>order:<key>, one hash) costs ≤ 200 B of Redis memory (MEMORY USAGE); all in, with its expiry entry and table slots, ≤ 256 B (INFO memory over 10,000 marks)', async (context) => {
    const server = await startRedisServer(); // private: INFO memory counts nothing but these marks
    const client = await connectClient(server.url);
    try {
      const store = new RedisDedupeStore({ client });
      const MARKS = 10_000;
      const key = (i: number) => `store_xyz/product/prod_${String(i).padStart(6, '0')}`; // as defaultOrderKeys names a product
      const info = async (): Promise<number> => {
        const text = await client.info('memory');
        const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)![1]);
        return field('used_memory') - field('used_memory_scripts');
      };
      const mark = async (i: number) => {
        const held = await store.hold(key(i), Date.parse('2026-12-01T10:00:00Z') + i);
        if (held.status !== 'held') throw new Error(`entity ${i}: ${held.status}`);
        await held.applied(600_000);
      };
      await mark(MARKS); // the scripts loaded, the connection warm
      const before = await info();
      await mapConcurrently(MARKS, 100, mark);
      const perMarkInfo = ((await info()) - before) / MARKS;

      const sample = Array.from({ length: 100 }, (_, i) => `aicommerce:order:${key(i * 100)}`);
      expect(await client.hGetAll(sample[0]!)).toEqual({ m: String(Date.parse('2026-12-01T10:00:00Z')) }); // the hold is gone, the mark stays
      expect(await client.pTTL(sample[0]!)).toBeGreaterThan(590_000);
      const usage = await Promise.all(sample.map(async (name) => Number(await client.sendCommand(['MEMORY', 'USAGE', name, 'SAMPLES', '0']))));
      const perMarkUsage = usage.sort((a, b) => a - b)[usage.length >> 1]!;

      const figures = `${perMarkUsage} B per mark (MEMORY USAGE, median of 100, ${key(0).length}-character key), ${perMarkInfo.toFixed(0)} B per mark all in (INFO used_memory over ${MARKS.toLocaleString('en')} marks: its expiry entry and the key tables' slots too)`;
      context.annotate(figures);
      console.log(`Redis memory per entity mark: ${figures}`);
      expect(perMarkUsage).toBeLessThanOrEqual(200);
      expect(perMarkInfo).toBeLessThanOrEqual(256);
      expect(perMarkInfo).toBeGreaterThan(30); // the marks are there and measured, not lost in noise
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
