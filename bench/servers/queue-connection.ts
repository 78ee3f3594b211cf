import { Queue } from 'bullmq';
import { createClient } from 'redis';

// The BullMQ queue a queued bench server adds to, as the README tells users to make it: a
// connected node-redis client with its offline queue. The parent names the Redis and the queue.

export async function openQueue(): Promise<Queue> {
  const [url, name] = process.argv.slice(2);
  if (url === undefined || name === undefined) throw new Error('a queued bench server takes <redis url> <queue name>');
  const client = createClient({ url });
  client.on('error', (error: unknown) => console.error('bench server: Redis error', error));
  await client.connect();
  const queue = new Queue(name, { connection: client });
  await queue.waitUntilReady();
  return queue;
}

/** The answer a queued delivery gets: the same bytes as the receiver's fixed 202. */
export const QUEUED_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': '31' } as const;
export const QUEUED_BODY = '{"received":true,"queued":true}';
