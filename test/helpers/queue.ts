import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { connectClient, type TestRedisClient } from './redis.js';

// A BullMQ queue on a real Redis for one test: its own name, its own node-redis client (the one
// Redis client library of the package), removed with all its keys afterwards.

export interface TestQueue {
  readonly name: string;
  readonly queue: Queue;
  readonly client: TestRedisClient;
  /** Obliterates the queue's keys and closes the queue and the client. */
  close(): Promise<void>;
}

export async function openTestQueue(url: string): Promise<TestQueue> {
  const client = await connectClient(url, { offlineQueue: true }); // what BullMQ needs (see createWebhookWorker)
  const name = `aicommerce-test-${randomUUID()}`;
  const queue = new Queue(name, { connection: client });
  queue.on('error', () => {}); // Redis stopped on purpose by some tests: the 503s are what they check
  return {
    name,
    queue,
    client,
    async close() {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await client.close().catch(() => {});
    },
  };
}
