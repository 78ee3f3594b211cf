import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { runExample, type Running } from '../helpers/example-process.js';
import { freePort } from '../helpers/http.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis.js';

// The connection of examples/queue/webhooks.ts (connectRedis, the snippet the docs print) when
// Redis is not there yet: the process says so once and waits, never a silent hang and never a
// line per reconnection attempt; once Redis answers, the worker says where it listens.

describeRedis('examples/queue: starting while Redis is down', () => {
  const running: Running[] = [];
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
    await redis?.stop();
  });

  it('the worker says once that Redis is unreachable and it retries (not a line per attempt, no stack); once Redis is up, the ready line with queue, prefix and Redis host:port/db', async () => {
    const port = await freePort();
    const queue = `aicommerce-test-${randomUUID()}`;
    const worker = runExample('queue/worker.ts', { REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_NAME: queue, AICOMMERCE_WEBHOOK_SECRET: 'example-secret' });
    running.push(worker);
    const waiting = `Redis at 127.0.0.1:${port} unreachable (ECONNREFUSED): retrying\n`;
    await expect.poll(() => worker.output.stderr, { timeout: 15_000 }).toContain(waiting);
    await sleep(2_000); // node-redis retries every few hundred ms meanwhile
    expect(worker.output.stderr).toBe(waiting);
    expect(worker.output.stdout).toBe('');

    redis = await startRedisServer({ port });
    await expect
      .poll(() => worker.output.stdout, { timeout: 15_000 })
      .toBe(`[aicommerce-webhooks] Webhook worker ready: queue ${queue}, prefix bull, redis 127.0.0.1:${port}/0, concurrency 10\n`);
    expect(worker.output.stderr).toBe(`${waiting}Redis at 127.0.0.1:${port} reachable again\n`);
  }, 40_000);
});
