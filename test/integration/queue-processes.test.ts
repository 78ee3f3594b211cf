import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { createTestSender, sampleEvents, type DeliveryReport } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { assertBuilt } from '../helpers/processes.js';
import { startReceiver, startWorker, type FixtureProcess } from '../helpers/queue-processes.js';
import { connectClient, describeRedis, startRedisServer, type RedisServer, type TestRedisClient } from '../helpers/redis.js';

// Queued mode across processes: receivers and workers are separate `node` processes on the built
// package, sharing one real redis-server, with AICommerce played by createTestSender. Each test
// names its figures; the README's "Inline or queued?" quotes them.

const SECRET = 'whsec_queued_processes';
const EVENT = 'chat.message.received';
const HANDLERS = ['record', 'notify'] as const;

describeRedis('queued mode across processes (real redis-server, real BullMQ)', () => {
  let redis: RedisServer;
  let aofDir: string;
  let client: TestRedisClient;
  let queue: Queue;
  let env: Record<string, string>;
  const processes: FixtureProcess[] = [];

  beforeAll(() => assertBuilt());

  /** A fresh Redis (AOF, fsync always: an acknowledged job survives a crash) and queue for each test. */
  async function open(extra: Record<string, string> = {}): Promise<void> {
    aofDir = mkdtempSync(path.join(tmpdir(), 'aicommerce-aof-'));
    redis = await startRedisServer({ aof: { dir: aofDir, fsync: 'always' } });
    client = await connectClient(redis.url, { offlineQueue: true });
    const name = `webhooks-${randomUUID()}`;
    queue = new Queue(name, { connection: client });
    queue.on('error', () => {});
    env = { REDIS_URL: redis.url, QUEUE: name, RESULTS: `results-${name}`, SECRET, ...extra };
  }

  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await queue?.close().catch(() => {});
    await client?.close().catch(() => {});
    await redis?.stop();
    rmSync(aofDir, { recursive: true, force: true });
  });

  const receiver = async (extra: Record<string, string> = {}) => {
    const started = await startReceiver({ ...env, ...extra });
    processes.push(started);
    return started;
  };
  const worker = async (extra: Record<string, string> = {}) => {
    const started = await startWorker({ ...env, ...extra });
    processes.push(started);
    return started;
  };

  /** How often each handler succeeded, per messageId. */
  async function successes(): Promise<Record<(typeof HANDLERS)[number], Record<string, number>>> {
    const [record, notify] = await Promise.all(HANDLERS.map(async (h) => client.hGetAll(`${env['RESULTS']}:${h}`)));
    const numbers = (hash: Record<string, string>) => Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, Number(v)]));
    return { record: numbers(record!), notify: numbers(notify!) };
  }

  /** Ids whose handlers did not each succeed exactly once. */
  async function notExactlyOnce(ids: readonly string[]): Promise<string[]> {
    const seen = await successes();
    return ids.filter((id) => seen.record[id] !== 1 || seen.notify[id] !== 1);
  }

  const settled = () =>
    expect
      .poll(() => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'), { timeout: 60_000, message: 'the queue drains' })
      .toEqual({ waiting: 0, active: 0, delayed: 0, prioritized: 0 });

  const send = (sender: ReturnType<typeof createTestSender>, messageId: string) =>
    sender.send(EVENT, { ...sampleEvents[EVENT], messageId });

  it('2 receivers + 2 workers, 1,000 deliveries each sent twice, 30 % of handler attempts throwing: every handler succeeds exactly once per delivery, 0 lost, 0 extra jobs, 0 sender retries', async () => {
    await open({ FAIL_RATE: '0.3' });
    const [a, b] = await Promise.all([receiver(), receiver()]);
    const workers = await Promise.all([worker(), worker()]);
    const sender = createTestSender({ retries: 3, baseDelayMs: 200 });
    // One delivery, two subscriptions: AICommerce sends every delivery to both receivers.
    await sender.webhooks.create({ url: a.url, events: [EVENT], secret: SECRET });
    await sender.webhooks.create({ url: b.url, events: [EVENT], secret: SECRET });
    const ids = Array.from({ length: 1_000 }, (_, i) => `msg_${i}`);

    const reports = (await mapConcurrently(ids.length, 16, (i) => send(sender, ids[i]!))).flat();

    expect(reports).toHaveLength(2_000);
    const retried = reports.filter((r) => r.attempts.length !== 1 || r.attempts[0]!.status !== 202);
    expect(retried.map(summary)).toEqual([]);
    await settled();
    // Completed jobs are removed at once; what is left is nothing, and no dead letter.
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 });
    expect(await notExactlyOnce(ids)).toEqual([]);
    // The flaky handlers did fail and were retried: the test exercised what it claims.
    const rerun = new Set(workers.flatMap((w) => w.lines.filter((l) => Number(l['attempt']) >= 2).map((l) => l['started'])));
    expect(rerun.size).toBeGreaterThan(300);
  }, 180_000);

  it('a worker killed with SIGKILL in the middle of a handler: its job completes on the other worker (stalled-job recovery, lock 1 s), attempt 2, 0 lost', async () => {
    await open({ HANDLER_MS: '1500', LOCK_MS: '1000', STALLED_MS: '500' });
    const r = await receiver();
    const doomed = await worker();
    const sender = createTestSender({ retries: 0 });
    await sender.webhooks.create({ url: r.url, events: [EVENT], secret: SECRET });

    const [report] = await send(sender, 'msg_killed');
    expect(report!.attempts.map((a) => a.status)).toEqual([202]);
    await doomed.waitFor((line) => line['started'] === 'msg_killed', 10_000, 'the handler to start');
    await doomed.kill();
    const survivor = await worker();

    await settled();
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 }); // done, and removed
    expect(await notExactlyOnce(['msg_killed'])).toEqual([]);
    const reruns = survivor.lines.filter((line) => line['done'] === 'msg_killed');
    expect(reruns.map((line) => line['attempt'])).toEqual([2, 2]);
    expect(doomed.lines.filter((line) => line['done'] !== undefined)).toEqual([]);
  }, 60_000);

  it('a handler outage longer than the sender’s whole retry schedule (0.35 s, outage 3 s): 0 lost once it recovers, each handler once', async () => {
    await open({ RETRY_BASE_MS: '100', RETRY_MAX_MS: '400', RETRY_FOR_MS: '60000' });
    await client.set(`${env['RESULTS']}:outage`, '1');
    const r = await receiver();
    await worker();
    const sender = createTestSender({ retries: 3, baseDelayMs: 50, jitter: 0 }); // waits 50 + 100 + 200 ms
    await sender.webhooks.create({ url: r.url, events: [EVENT], secret: SECRET });
    const ids = Array.from({ length: 50 }, (_, i) => `msg_outage_${i}`);

    const reports = (await Promise.all(ids.map((id) => send(sender, id)))).flat();
    expect(reports.every((report) => report.delivered && report.attempts.length === 1)).toBe(true);

    await sleep(3_000); // far past the sender's last retry: inline mode would have answered 500 four times and lost them
    expect(await successes()).toEqual({ record: {}, notify: {} });
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });

    await client.del(`${env['RESULTS']}:outage`);
    await settled();
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 }); // done, and removed
    expect(await notExactlyOnce(ids)).toEqual([]);
  }, 60_000);

  it('Redis crashes mid-run (SIGKILL, 1.5 s down): 503 queue_unavailable within the enqueue timeout, never a 2xx it could not keep, 0 lost once it is back and the sender retries (handlers at least once)', async () => {
    await open({ ENQUEUE_TIMEOUT: '1000' });
    const r = await receiver();
    const workerProcess = await worker();
    const sender = createTestSender({ retries: 6, baseDelayMs: 250, jitter: 0.2 });
    await sender.webhooks.create({ url: r.url, events: [EVENT], secret: SECRET });
    const ids = Array.from({ length: 300 }, (_, i) => `msg_crash_${i}`);

    const begin = Date.now();
    const sending = mapConcurrently(ids.length, 8, async (i) => {
      await sleep(begin + i * 5 - Date.now()); // spread over ~1.5 s, so the crash falls in the middle
      return send(sender, ids[i]!);
    });
    await sleep(500);
    await redis.crash();
    await sleep(1_500);
    await redis.start();
    const reports = (await sending).flat();

    const answers = reports.flatMap((report) => report.attempts.map((a) => ({ status: a.status, ms: a.ms, code: (a.response as { code?: string } | undefined)?.code })));
    const unavailable = answers.filter((a) => a.status === 503);
    expect(unavailable.length).toBeGreaterThan(0); // the crash did hit requests
    expect(unavailable.every((a) => a.code === 'queue_unavailable' && a.ms < 1_500)).toBe(true);
    expect(answers.filter((a) => a.status !== 202 && a.status !== 503)).toEqual([]);
    expect(reports.filter((report) => !report.delivered).map(summary)).toEqual([]);

    await settled();
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 }); // done, and removed
    const seen = await successes();
    const lost = ids.filter((id) => !(seen.record[id]! >= 1 && seen.notify[id]! >= 1));
    expect(lost).toEqual([]);
    // At least once: a handler that finished as Redis died, before its job could be marked done,
    // runs again on a later attempt. Only jobs caught in flight may repeat, never more than the workers held.
    const repeated = ids.filter((id) => seen.record[id]! > 1 || seen.notify[id]! > 1);
    expect(repeated.length).toBeLessThanOrEqual(10);
    const laterAttempt = new Set(workerProcess.lines.filter((l) => Number(l['attempt']) >= 2).map((l) => l['started']));
    expect(repeated.filter((id) => !laterAttempt.has(id))).toEqual([]);
  }, 120_000);

  it('SIGTERM during work: the running handlers finish, the worker exits 0, the rest waits for the next worker, 0 lost', async () => {
    await open({ HANDLER_MS: '800', CONCURRENCY: '4' });
    const r = await receiver();
    const first = await worker();
    const sender = createTestSender({ retries: 0 });
    await sender.webhooks.create({ url: r.url, events: [EVENT], secret: SECRET });
    const ids = Array.from({ length: 12 }, (_, i) => `msg_term_${i}`);
    await Promise.all(ids.map((id) => send(sender, id)));

    await first.waitFor((line) => line['started'] !== undefined, 10_000, 'a handler to start');
    const exitCode = await first.terminate();
    expect(exitCode).toBe(0);
    const startedOnFirst = new Set(first.lines.filter((l) => l['started'] !== undefined).map((l) => `${String(l['started'])}/${String(l['handler'])}`));
    const doneOnFirst = new Set(first.lines.filter((l) => l['done'] !== undefined).map((l) => `${String(l['done'])}/${String(l['handler'])}`));
    expect(startedOnFirst.size).toBeGreaterThan(0);
    expect([...startedOnFirst].filter((run) => !doneOnFirst.has(run))).toEqual([]); // every started handler finished
    expect(first.lines.at(-1)).toMatchObject({ closed: true });
    expect((await queue.getJobCounts('waiting'))['waiting']).toBeGreaterThan(0); // work left for the next worker

    await worker();
    await settled();
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 }); // done, and removed
    expect(await notExactlyOnce(ids)).toEqual([]);
  }, 60_000);
});

function summary(report: DeliveryReport): string {
  return `${report.url}: ${report.attempts.map((a) => a.status ?? a.error).join(', ')}`;
}
