import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { connectClient, describeRedis, startRedisServer, type RedisServer, type TestRedisClient } from '../helpers/redis.js';

// What queued mode keeps in Redis, measured on a private redis-server (nothing else in it): a
// delivery whose handlers are done is a deduplication key, kept while a copy could still pass
// the freshness check; a dead letter keeps its last stack only, whatever its attempts.

const secret = 'whsec_memory';
const EVENT = 'chat.message.received';

describeRedis('Redis memory of queued mode', () => {
  let server: RedisServer;
  let client: TestRedisClient;
  beforeAll(async () => {
    server = await startRedisServer();
    client = await connectClient(server.url, { offlineQueue: true });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  /** Redis's own count of the bytes it allocated, less its Lua scripts' cache (BullMQ loads its scripts on first use: a fixed cost). */
  async function usedMemory(): Promise<number> {
    const info = await client.info('memory');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)![1]);
    return field('used_memory') - field('used_memory_scripts');
  }
  const memoryUsage = async (key: string): Promise<number> => Number(await client.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
  const quiet = { warn: () => {}, error: () => {}, info: () => {} }; // the worker's records are tested in queue-silent.test.ts

  /** A queue, its receiver and a worker that runs `handler`. */
  function queued(handler: () => void, retry?: ConstructorParameters<typeof BullMQDeliveryQueue>[0]['retry']) {
    const name = `aicommerce-test-${randomUUID()}`;
    const queue = new Queue(name, { connection: client });
    const webhooks = createWebhookReceiver({ secret, logger: quiet, queue: new BullMQDeliveryQueue({ queue, ...(retry && { retry }) }) });
    webhooks.on(EVENT, handler);
    webhooks.onError(() => {});
    const worker = createWebhookWorker(webhooks, { connection: client, queueName: name, concurrency: 100 });
    const send = (count: number, from: number) =>
      mapConcurrently(count, 200, async (i) => {
        const { body, headers } = createDelivery(EVENT, { ...sampleEvents[EVENT], messageId: `msg_${from + i}` }, { secret });
        return (await webhooks.receive({ body, signature: headers['x-webhook-signature'] })).outcome;
      });
    const close = async () => {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    };
    return { name, queue, send, close };
  }

  it('a retained delivery costs ≤ 400 B of Redis memory after 20,000 deliveries complete (INFO memory, used_memory; the job itself is gone)', async (context) => {
    let handled = 0;
    const { name, queue, send, close } = queued(() => void handled++);
    // BullMQ's event stream is a fixed cost (capped at ~10,000 entries, whatever the traffic): measured apart, and set aside.
    const events = `bull:${name}:events`;
    try {
      expect(await send(100, 20_000)).toEqual(Array(100).fill('queued')); // connections and scripts in place before measuring
      await expect.poll(() => handled).toBe(100);
      const before = await usedMemory();
      const streamBefore = await memoryUsage(events);

      expect(new Set(await send(20_000, 0))).toEqual(new Set(['queued']));
      await expect.poll(() => handled, { timeout: 60_000, interval: 200 }).toBe(20_100);
      await expect.poll(() => queue.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0 });
      const stream = (await memoryUsage(events)) - streamBefore;
      const perDelivery = ((await usedMemory()) - before - stream) / 20_000;
      console.log(`BullMQ's event stream, capped: ${stream} B`);

      const keys = await client.keys(`bull:${name}:de:*`);
      expect(keys).toHaveLength(20_100); // one key per retained delivery, expiring with the freshness window
      const ttl = await client.pTTL(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(600_000);
      context.annotate(`${perDelivery.toFixed(0)} B per retained delivery (was 2,309 B with the whole job kept)`);
      console.log(`Redis memory per retained delivery: ${perDelivery.toFixed(0)} B`);
      expect(perDelivery).toBeLessThanOrEqual(400);
      expect(perDelivery).toBeGreaterThan(50); // the key is there and measured, not lost in noise
    } finally {
      await close();
    }
  }, 180_000);

  it('a dead letter after 42 attempts is ≤ 4 KB (MEMORY USAGE of its job; was 42,624 B with a stack per attempt)', async (context) => {
    let attempts = 0;
    // Waits of 1 ms: 42 attempts in well under a second, the same count as the 24 h default.
    const { queue, send, close } = queued(
      () => {
        attempts++;
        throw new Error(`the database refused the connection (attempt ${attempts})`);
      },
      { baseDelayMs: 1, maxDelayMs: 1, retryForMs: 41, jitter: 0 },
    );
    try {
      expect(await send(1, 0)).toEqual(['queued']);
      await expect.poll(() => queue.getFailedCount(), { timeout: 20_000 }).toBe(1);
      const [job] = await queue.getFailed();
      expect(job!.attemptsMade).toBe(42);
      expect(job!.stacktrace).toHaveLength(1);
      expect(job!.stacktrace![0]).toMatch(/^HandlersFailed: Webhook handler failed: the database refused the connection \(attempt 42\)\nError: /);
      const bytes = await memoryUsage(`bull:${queue.name}:${job!.id}`);
      context.annotate(`${bytes} B for a dead letter after 42 attempts`);
      console.log(`Redis memory of a dead letter after 42 attempts: ${bytes} B`);
      expect(bytes).toBeLessThanOrEqual(4_096);
    } finally {
      await close();
    }
  });
});
