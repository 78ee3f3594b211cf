import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { assertBuilt } from '../helpers/processes.js';
import { startReceiver, startWorker, type FixtureProcess } from '../helpers/queue-processes.js';
import { connectClient, describeRedis, startRedisServer, type RedisServer, type TestRedisClient } from '../helpers/redis.js';

// What a 202 is worth when Redis itself dies: redis-server with an append-only file fsynced once a
// second (the usual production setting), killed with SIGKILL in the middle of a stream of
// deliveries, started again from its file. A receiver and a worker process on the built package.

const SECRET = 'whsec_durability';
const EVENT = 'chat.message.received';

describeRedis('queued mode when Redis is killed', () => {
  let redis: RedisServer;
  let aofDir: string;
  let client: TestRedisClient;
  const processes: FixtureProcess[] = [];

  beforeAll(async () => {
    assertBuilt();
    aofDir = mkdtempSync(path.join(tmpdir(), 'aicommerce-aof-'));
    redis = await startRedisServer({ aof: { dir: aofDir, fsync: 'everysec' } });
    client = await connectClient(redis.url, { offlineQueue: true });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await client?.close().catch(() => {});
    await redis?.stop();
    rmSync(aofDir, { recursive: true, force: true });
  });

  it('SIGKILL of Redis (AOF everysec) mid-stream, 400 deliveries at ~400/s, down 1.5 s (past the 1 s enqueue timeout, so some are refused): every delivery answered 202 is processed, 0 acked deliveries lost', async (context) => {
    const name = `webhooks-${randomUUID()}`;
    const env = { REDIS_URL: redis.url, QUEUE: name, RESULTS: `results-${name}`, SECRET, ENQUEUE_TIMEOUT: '1000' };
    const receiver = await startReceiver(env);
    processes.push(receiver, await startWorker(env));
    const sender = createTestSender({ retries: 0 }); // one attempt each: a 202 is an ack, anything else is not
    await sender.webhooks.create({ url: receiver.url, events: [EVENT], secret: SECRET });
    const ids = Array.from({ length: 400 }, (_, i) => `msg_${i}`);

    const begin = Date.now();
    const sending = mapConcurrently(ids.length, 32, async (i) => {
      await sleep(begin + i * 2.5 - Date.now()); // ~400 a second, for 1 s: the kill falls in the middle
      const [report] = await sender.send(EVENT, { ...sampleEvents[EVENT], messageId: ids[i] });
      return { id: ids[i]!, status: report!.attempts[0]!.status };
    });
    await sleep(400);
    await redis.crash();
    await sleep(1_500); // longer than ENQUEUE_TIMEOUT: the deliveries sent meanwhile must be answered 503, however soon Redis returns
    await redis.start();
    const answers = await sending;

    const acked = answers.filter((a) => a.status === 202).map((a) => a.id);
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused.length).toBeGreaterThan(0); // the kill did hit requests
    expect(refused.every((a) => a.status === 503)).toBe(true); // never a 2xx it could not keep, never a 5xx but 503
    expect(acked.length).toBeGreaterThan(200);
    const queue = new Queue(name, { connection: client });
    try {
      await expect
        .poll(() => queue.getJobCounts('waiting', 'active', 'delayed'), { timeout: 30_000, interval: 100 })
        .toEqual({ waiting: 0, active: 0, delayed: 0 });
    } finally {
      await queue.close();
    }
    const processed = await client.hGetAll(`${env.RESULTS}:record`);
    const lost = acked.filter((id) => !(Number(processed[id]) >= 1));
    const figures = `${acked.length} acked, ${refused.length} answered 503, ${acked.length - lost.length} of the acked processed`;
    context.annotate(figures);
    console.log(`SIGKILL of Redis, AOF everysec: ${figures}`);
    expect(lost).toEqual([]);
  }, 60_000);
});
