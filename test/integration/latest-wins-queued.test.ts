import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue } from 'aicommerce-webhooks/bullmq';
import { createTestSender } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { assertBuilt } from '../helpers/processes.js';
import { startReceiver, startWorker, type FixtureProcess, type Line } from '../helpers/queue-processes.js';
import { connectClient, describeRedis, useRedis, type TestRedisClient } from '../helpers/redis.js';
import { notAt, readDatabase, shuffledSnapshots, summary } from '../helpers/snapshots.js';

// Latest wins in queued mode, across real processes on one real Redis: receivers
// (test/fixtures/queue-receiver.mjs) store each delivery as a BullMQ job; workers
// (test/fixtures/latest-worker.mjs) run a product.updated handler that writes each product's price
// to a Redis "database" and counts stale and overlapping runs (test/fixtures/latest-database.mjs).
// A short retry policy (20 ms doubling to 200 ms) keeps the runs to seconds.

const SECRET = 'whsec_latest_queued';
const PRODUCTS = 200;
const SNAPSHOTS = 5;
const STORE_ID = 'store_xyz'; // the sample product.updated's store: keys are `store_xyz/product/<id>`

describeRedis('latest wins in queued mode, receiver and worker processes', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let client: TestRedisClient;
  let queue: Queue | undefined;
  let env: Record<string, string>;
  const processes: FixtureProcess[] = [];
  beforeAll(async () => {
    assertBuilt();
    redis = await useRedis();
    client = await connectClient(redis.url, { offlineQueue: true });
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await queue?.obliterate({ force: true }).catch(() => {});
    await queue?.close();
  });
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  /** A queue of its own for each test, and the environment its processes share. */
  function open(): void {
    const name = `latest-${randomUUID()}`;
    queue = new Queue(name, { connection: client });
    queue.on('error', () => {});
    env = { REDIS_URL: redis.url, QUEUE: name, PREFIX: `${name}:`, SECRET, RETRY_BASE_MS: '20', RETRY_MAX_MS: '200', RETRY_FOR_MS: '20000' };
  }
  const receiver = async () => {
    const started = await startReceiver(env);
    processes.push(started);
    return started;
  };
  const worker = async (extra: Record<string, string> = {}) => {
    const started = await startWorker({ ...env, ...extra }, 'latest-worker');
    processes.push(started);
    return started;
  };
  const settled = () =>
    expect
      .poll(() => queue!.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'), { timeout: 60_000, message: 'the queue drains' })
      .toEqual({ waiting: 0, active: 0, delayed: 0, prioritized: 0, completed: 0, failed: 0 });
  const lines = (workers: readonly FixtureProcess[], match: (line: Line) => boolean): Line[] => workers.flatMap((w) => w.lines.filter(match));

  it('2 receivers + 2 workers, 200 products × 5 snapshots shuffled, each sent twice, 30 % of handler attempts throwing: every product at its newest price, each delivery applied or superseded exactly once (0 lost), max 1 handler run per key at once, 0 stale runs', async (context) => {
    open();
    const [a, b] = await Promise.all([receiver(), receiver()]);
    const workers = await Promise.all([worker({ FAIL_RATE: '0.3' }), worker({ FAIL_RATE: '0.3' })]);
    const load = shuffledSnapshots({ products: PRODUCTS, snapshots: SNAPSHOTS, secret: SECRET, seed: 1015 });
    const sender = createTestSender({ retries: 3, baseDelayMs: 100 });
    const began = performance.now();

    // One delivery, two subscriptions: each snapshot reaches both receivers, and is one job.
    const reports = (await mapConcurrently(load.length, 16, (i) => Promise.all([a.url, b.url].map((url) => sender.deliver(url, load[i]!.delivery))))).flat();

    expect(reports.filter((r) => r.attempts.length !== 1 || r.attempts[0]!.status !== 202).map(summary)).toEqual([]);
    const sentMs = performance.now() - began;
    await settled();
    const ms = performance.now() - began;
    const db = await readDatabase(client, env['PREFIX']!);
    expect(notAt(db.price, load.map((s) => s.productId), SNAPSHOTS)).toEqual([]);
    expect({ stale: db.stale, overlap: db.overlap, maxActive: db.maxActive }).toEqual({ stale: 0, overlap: 0, maxActive: 1 });
    // 0 lost: each delivery's job ended once, its handler done or the job superseded, never both, never twice.
    const applied = lines(workers, (l) => l['done'] !== undefined).map((l) => l['deliveryId'] as string);
    const superseded = lines(workers, (l) => l['outcome'] === 'superseded').map((l) => l['deliveryId'] as string);
    const endings = [...applied, ...superseded].sort();
    expect(endings).toEqual(load.map((s) => s.id).sort());
    expect(superseded.length).toBeGreaterThan(PRODUCTS); // older snapshots did come after newer ones
    expect(db.failed).toBeGreaterThan(100); // and the handlers did fail, and were retried
    expect(lines(workers, (l) => l['error'] !== undefined)).toEqual([]); // no dead letter, nothing reported
    const figures = `${superseded.length} superseded, ${applied.length} applied, ${db.failed} of ${db.runs} handler runs failed on purpose, max 1 run per key at once, 0 stale; ${ms.toFixed(0)} ms from the first send to a drained queue (all sent in ${sentMs.toFixed(0)} ms)`;
    context.annotate(figures);
    console.log(`latest wins queued: ${figures}`);
  }, 90_000);

  it('a worker killed with SIGKILL while its handler holds a key (lockDuration 1 s, stalledInterval 0.5 s): the other worker takes the key only once its lease ran out, and the job completes once', async (context) => {
    open();
    const locks = { LOCK_MS: '1000', STALLED_MS: '500' };
    const doomed = await worker({ ...locks, HANDLER_MS: '60000', CONCURRENCY: '1' });
    const [snapshot] = shuffledSnapshots({ products: 1, snapshots: 1, secret: SECRET, seed: 1 });
    // Stored the way a receiver stores it (here in this process: the receiver is not what this test is about).
    const receiving = createWebhookReceiver({ secret: SECRET, queue: new BullMQDeliveryQueue({ queue: queue! }) });
    const { body, headers } = snapshot!.delivery;
    expect(await receiving.receive({ body, signature: headers['x-webhook-signature'], headers })).toMatchObject({ outcome: 'queued' });
    await doomed.waitFor((l) => l['started'] === snapshot!.productId, 10_000, 'the handler to start');
    const survivor = await worker(locks); // ready while the doomed one still holds the key
    await doomed.kill();
    const killedAt = Date.now();
    const hold = await client.hGetAll(`bull:${env['QUEUE']}:order:${STORE_ID}/product/${snapshot!.productId}`);
    expect(hold['h']).toMatch(/^[0-9a-f-]{36}$/); // the dead worker's hold, still there
    const leaseEnd = Number(hold['u']);

    const taken = await survivor.waitFor((l) => l['started'] === snapshot!.productId, 10_000, 'the other worker to take the key');
    await settled();
    expect(lines([survivor], (l) => l['done'] !== undefined).map((l) => [l['deliveryId'], l['price']])).toEqual([[snapshot!.id, 1]]);
    expect(lines([doomed], (l) => l['done'] !== undefined)).toEqual([]);
    expect((await readDatabase(client, env['PREFIX']!)).price).toEqual({ [snapshot!.productId]: 1 });
    expect(await client.hGetAll(`bull:${env['QUEUE']}:order:${STORE_ID}/product/${snapshot!.productId}`)).toEqual({ m: String(Date.parse(JSON.parse(snapshot!.delivery.body).timestamp)) });
    const at = taken['at'] as number;
    expect(at).toBeGreaterThanOrEqual(leaseEnd); // never while the dead worker's lease still ran
    expect(at - killedAt).toBeLessThan(5_000);
    const figures = `taken ${at - killedAt} ms after the kill, ${at - leaseEnd} ms after the lease ran out (attempt ${String(taken['attempt'])})`;
    context.annotate(figures);
    console.log(`latest wins, SIGKILL: ${figures}`);
  }, 30_000);
});
