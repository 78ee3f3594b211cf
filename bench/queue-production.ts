import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { forkCompiled } from './child.js';
import { distinctDeliveries, EVENT, SECRET } from './payload.js';
import type { Client } from './queue.js';
import type { StartsMessage, StartsRequest } from './workers/starts.js';

// What queued mode costs in production beyond requests/s: Redis bytes per delivery it keeps (a
// completed delivery's deduplication key; a dead letter) and how long a delivery waits between
// its 202 and the start of its handler, with two worker processes taking turns.

/** Redis's own count of what it allocated, less its Lua script cache (BullMQ loads scripts on first use). */
export async function usedMemory(client: Client): Promise<number> {
  const info = await client.info('memory');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return field('used_memory') - field('used_memory_scripts');
}

export const memoryUsage = async (client: Client, key: string): Promise<number> => Number((await client.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])) ?? 0);

/** One delivery of the bench's ~1 KB body that fails all of its 42 attempts (1 ms apart): the bytes its dead letter keeps. */
export async function deadLetterBytes(client: Client): Promise<{ bytes: number; attempts: number }> {
  const queue = new Queue('aicommerce-bench-dead-letter', { connection: client });
  const retry = { baseDelayMs: 1, maxDelayMs: 1, retryForMs: 41, jitter: 0 }; // 42 attempts, as the 24 h default
  const quiet = { warn: () => {}, error: () => {}, info: () => {} };
  const webhooks = createWebhookReceiver({ secret: SECRET, logger: quiet, queue: new BullMQDeliveryQueue({ queue, retry }) });
  webhooks.on(EVENT, () => {
    throw new Error('the database refused the connection');
  });
  const worker = createWebhookWorker(webhooks, { connection: client, queueName: queue.name });
  try {
    const { body, headers } = distinctDeliveries()();
    await webhooks.receive({ body, signature: headers['x-webhook-signature'], headers, url: '/webhooks' });
    const deadline = Date.now() + 30_000;
    while ((await queue.getFailedCount()) === 0) {
      if (Date.now() > deadline) throw new Error('dead letter: the job did not fail within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [job] = await queue.getFailed();
    return { bytes: await memoryUsage(client, queue.toKey(job!.id!)), attempts: job!.attemptsMade };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

export interface StartLatency {
  readonly rate: number;
  readonly sent: number;
  readonly started: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

/**
 * `rate` deliveries a second for `seconds` to the queued server at `url`, two `workers/starts.js`
 * processes draining: for each delivery, its handler's start less the moment its 202 arrived (ms;
 * below 0 when the handler started before the answer reached the sender).
 */
export async function startLatency(url: string, redisUrl: string, queueName: string, { rate, seconds, concurrency }: { rate: number; seconds: number; concurrency: number }): Promise<StartLatency> {
  const workers: ChildProcess[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  try {
    for (let i = 0; i < 2; i++) {
      const child = forkCompiled('workers', 'starts', [redisUrl, queueName, String(concurrency)]);
      workers.push(child);
      const [message] = (await once(child, 'message')) as [StartsMessage];
      if (message.type !== 'ready') throw new Error(`starts worker said ${message.type} first`);
    }
    const acked = new Map<string, number>();
    const next = distinctDeliveries();
    const send = async (count: number, record: boolean): Promise<void> => {
      const begin = performance.now();
      const posts: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        const wait = begin + (i * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const { body, headers } = next();
        const id = createHash('sha256').update(body).digest('hex');
        posts.push(
          new Promise<void>((resolve, reject) => {
            const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
              response.resume();
              response.on('end', () => {
                if (record && response.statusCode === 202) acked.set(id, performance.timeOrigin + performance.now());
                resolve();
              });
            });
            request.on('error', reject);
            request.end(body);
          }),
        );
      }
      await Promise.all(posts);
    };
    const total = Math.round(rate * seconds);
    await send(rate, false); // a second of warm-up (JIT, connections), not counted
    await send(total, true);
    const started = new Map<string, number>();
    const deadline = Date.now() + 30_000;
    const missing = (): boolean => [...acked.keys()].some((id) => !started.has(id));
    while (missing() && Date.now() < deadline) {
      for (const child of workers) {
        child.send({ type: 'collect' } satisfies StartsRequest);
        const [message] = (await once(child, 'message')) as [StartsMessage];
        if (message.type === 'starts') for (const [id, at] of message.starts) if (!started.has(id)) started.set(id, at);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const latencies = [...acked].flatMap(([id, at]) => (started.has(id) ? [started.get(id)! - at] : [])).sort((a, b) => a - b);
    return { rate, sent: total, started: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? Number.NaN };
  } finally {
    agent.destroy();
    await Promise.all(
      workers.map(async (child) => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.send({ type: 'stop' } satisfies StartsRequest);
        await exited;
      }),
    );
  }
}
