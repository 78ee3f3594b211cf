import type { Queue } from 'bullmq';
import { CliError } from './io.js';

// The queue commands' one way into Redis: a node-redis client (the package's one Redis client
// library) made to fail fast, as a command line tool must, and a BullMQ Queue on it that only reads
// and retries. bullmq and redis are optional peers, so they are loaded here, when a queue command runs.

export interface QueueAddress {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  readonly url: string;
  readonly name: string;
  /** BullMQ's key prefix (`bull` unless the queue was made with another, e.g. `{aicommerce}` on a Cluster). */
  readonly prefix: string;
  /** Ms to wait for a connection, and for each answer. */
  readonly timeoutMs: number;
}

export interface OpenQueue {
  readonly queue: Queue;
  /** The queue's own node-redis client, for what BullMQ does not read (a delayed job's due time). */
  readonly client: { zRangeWithScores(key: string, start: number, stop: number): Promise<{ value: string; score: number }[]> };
  /** A failure of a command on the queue, as the `CliError` to throw. */
  failure(error: unknown): CliError;
  close(): Promise<void>;
}

/** The Redis in messages: scheme, host and port, never the credentials a URL may hold. */
export function redisLabel(url: string): string {
  const { protocol, host } = new URL(url);
  return `${protocol}//${host}`;
}

/** Connects, checks that the queue exists, and opens it; every failure is a `CliError` that says what to check. */
export async function openQueue({ url, name, prefix, timeoutMs }: QueueAddress): Promise<OpenQueue> {
  const { Queue, createClient, timeoutErrors } = await loadPeers();
  const where = redisLabel(url);
  const client = createClient({
    url,
    disableOfflineQueue: true,
    // No reconnecting and a deadline on every read: an unreachable or silent Redis is an error in seconds, never a hang.
    socket: { connectTimeout: timeoutMs, socketTimeout: timeoutMs, reconnectStrategy: false },
  });
  client.on('error', () => {}); // each failure surfaces through the command it broke
  const why = (error: unknown): string => (timeoutErrors.some((type) => error instanceof type) ? `no answer within ${timeoutMs} ms` : reason(error));
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw new CliError(`cannot reach Redis at ${where}: ${why(error)}`);
  }
  const failure = (error: unknown): CliError => (error instanceof CliError ? error : new CliError(`Redis at ${where} failed: ${why(error)}`));
  try {
    // A queue's meta key exists from the moment a BullMQ Queue opened it: a typo in a name shows here, not as zeros.
    if ((await client.exists(`${prefix}:${name}:meta`)) === 0) {
      throw new CliError(`no queue '${name}' with prefix '${prefix}' at ${where}: check --queue and --prefix`);
    }
  } catch (error) {
    client.destroy();
    throw failure(error);
  }
  // skipMetasUpdate: looking at a queue must not write to it.
  const queue = new Queue(name, { connection: client, prefix, skipMetasUpdate: true });
  queue.on('error', () => {}); // likewise surfaced by the command
  return {
    queue,
    client,
    failure,
    async close() {
      await queue.close().catch(() => {});
      if (client.isOpen) await client.close().catch(() => client.destroy());
    },
  };
}

/** What went wrong, in one line. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message || (error as NodeJS.ErrnoException).code || 'unknown error').replace(/\s+/g, ' ').trim();
}

async function loadPeers() {
  try {
    const [{ Queue }, { createClient, ConnectionTimeoutError, SocketTimeoutError }] = await Promise.all([import('bullmq'), import('redis')]);
    return { Queue, createClient, timeoutErrors: [ConnectionTimeoutError, SocketTimeoutError] };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new CliError(`the queue commands need the optional packages bullmq and redis: npm install bullmq redis (${reason(error)})`);
  }
}
