import { Queue } from 'bullmq';
import { createClient } from 'redis';

// The BullMQ queue a queued bench server adds to, as the README tells users to make it: a
// connected node-redis client with its offline queue. The parent names the Redis and the queue,
// and may ask for extras (a comma-separated list): `no-command-timeout` turns off node-redis's own
// per-command timeout (5 s by default, an AbortSignal.timeout per command), to measure what it costs.

const EXTRAS = new Set(['headers', 'options', 'timeout', 'no-command-timeout']);

/** `argv[4]`, checked: a typo must not silently measure something else. */
export function extras(): ReadonlySet<string> {
  const given = (process.argv[4] ?? '').split(',').filter((extra) => extra !== '');
  const unknown = given.find((extra) => !EXTRAS.has(extra));
  if (unknown !== undefined) throw new Error(`unknown bench server extra ${unknown}`);
  return new Set(given);
}

export async function openQueue(): Promise<Queue> {
  const [url, name] = process.argv.slice(2);
  if (url === undefined || name === undefined) throw new Error('a queued bench server takes <redis url> <queue name> [extras] [job options]');
  const client = createClient(extras().has('no-command-timeout') ? { url, commandOptions: { timeout: 0 } } : { url });
  client.on('error', (error: unknown) => console.error('bench server: Redis error', error));
  await client.connect();
  const queue = new Queue(name, { connection: client });
  await queue.waitUntilReady();
  return queue;
}

/** The answer a queued delivery gets: the same bytes as the receiver's fixed 202. */
export const QUEUED_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': '31' } as const;
export const QUEUED_BODY = '{"received":true,"queued":true}';
