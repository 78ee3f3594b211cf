import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, beforeAll, afterAll, expect, it, vi } from 'vitest';
import { createWebhookReceiver, type ReceiverOptions, type WebhookError } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker, type WebhookWorkerOptions } from 'aicommerce-webhooks/bullmq';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { runCli } from '../../src/cli/main.js';
import { freePort } from '../helpers/http.js';
import { connectClient, describeRedis, startRedisServer, useRedis, type RedisServer } from '../helpers/redis.js';

// Each way queued mode used to go silent (issue: "never silent"), on a real redis-server and real
// BullMQ: the report an operator now gets (its code, event and delivery id) and that nothing is lost.

const secret = 'whsec_silent';
const EVENT = 'chat.message.received';
const fastRetry = { baseDelayMs: 10, maxDelayMs: 20, retryForMs: 30, jitter: 0 }; // waits of 10 and 20 ms: 3 attempts

type Entry = { level: 'warn' | 'error' | 'info'; record: Record<string, unknown>; message: string };

/** A pino-style logger that keeps what it is given. */
function recordingLogger(): { logger: NonNullable<ReceiverOptions['logger']>; entries: Entry[] } {
  const entries: Entry[] = [];
  const at = (level: Entry['level']) => (record: Record<string, unknown>, message: string) => void entries.push({ level, record, message });
  return { logger: { warn: at('warn'), error: at('error'), info: at('info') } as unknown as NonNullable<ReceiverOptions['logger']>, entries };
}

const delivery = (messageId = 'msg_1') => createDelivery(EVENT, { ...sampleEvents[EVENT], messageId }, { secret });

describeRedis('queued mode never goes silent', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    redis = await useRedis();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });
  afterAll(() => redis?.stop());

  /** A queue on `url` (its own client), a receiver on it, what its onError and logger heard, and a worker maker. */
  async function setup(url = redis.url, options: { worker?: Partial<WebhookWorkerOptions> } = {}) {
    const client = await connectClient(url, { offlineQueue: true });
    const name = `aicommerce-test-${randomUUID()}`;
    const queue = new Queue(name, { connection: client });
    closers.push(async () => {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await client.close().catch(() => {});
    });
    const { logger, entries } = recordingLogger();
    const webhooks = createWebhookReceiver({ secret, logger, queue: new BullMQDeliveryQueue({ queue, retry: fastRetry }) });
    const errors: WebhookError[] = [];
    webhooks.onError((error) => void errors.push(error));
    const work = (extra: Partial<WebhookWorkerOptions> = {}): Worker => {
      const worker = createWebhookWorker(webhooks, { connection: client, queueName: name, ...options.worker, ...extra });
      closers.push(() => worker.close());
      return worker;
    };
    const receive = async (d = delivery()) => (await webhooks.receive({ body: d.body, signature: d.headers['x-webhook-signature'] })).outcome;
    return { client, name, queue, webhooks, errors, entries, work, receive };
  }

  it('a receiver with no handler at all: createWebhookWorker throws, saying why, instead of completing every job unseen', async () => {
    const { webhooks, queue, client, name, receive } = await setup();
    expect(await receive()).toBe('queued');
    expect(() => createWebhookWorker(webhooks, { connection: client, queueName: name })).toThrow(
      'createWebhookWorker: the receiver has no handler (on(), onAny()): its worker would complete every job and run nothing. Register the handlers on the receiver before making its worker.',
    );
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 }); // the delivery waits for a worker that can run it
  });

  it('a job whose event no handler of this worker matches: 1 attempt, into the failed set as no_handler; onError and the logger hear its event and delivery id; after the deploy that adds the handler, a retry runs it', async () => {
    const { webhooks, queue, errors, entries, work, receive } = await setup();
    let ran = 0;
    webhooks.on('product.added', () => {}); // a deploy that forgot chat.message.received
    work();
    expect(await receive()).toBe('queued');
    await expect.poll(() => queue.getFailedCount()).toBe(1);
    const [job] = await queue.getFailed();
    expect([job!.attemptsMade, job!.name, job!.failedReason]).toEqual([
      1,
      EVENT,
      `No handler for '${EVENT}' in this worker: add one with on('${EVENT}', …), then retry the failed job`,
    ]);
    expect(errors.map((e) => [e.code, e.status, { id: e.deliveryId, event: e.eventName }])).toEqual([['no_handler', 500, { id: job!.id, event: EVENT }]]);
    expect(entries.filter((e) => e.level === 'error').map((e) => e.record)).toEqual([
      expect.objectContaining({ code: 'no_handler', event: EVENT, deliveryId: job!.id }),
    ]);

    webhooks.on(EVENT, () => void ran++); // the deploy that adds it
    await job!.retry('failed');
    await expect.poll(() => ran).toBe(1);
    await expect.poll(() => queue.getJobCounts('failed', 'waiting', 'active')).toEqual({ failed: 0, waiting: 0, active: 0 });
  });

  it('a worker on a mistyped queue name: `queue status` warns that jobs wait and no worker is connected', async () => {
    const { webhooks, client, name, receive } = await setup();
    webhooks.on(EVENT, () => {});
    createWebhookWorker(webhooks, { connection: client, queueName: `${name}-typo` }).on('error', () => {});
    closers.push(async () => {}); // closed with its client
    expect(await receive()).toBe('queued');
    const out = { stdout: '', stderr: '' };
    const io = { stdin: Readable.from([]), stdout: { write: (t: string) => void (out.stdout += t) }, stderr: { write: (t: string) => void (out.stderr += t) }, env: {} };
    expect(await runCli(['queue', 'status', '--redis', redis.url, '--queue', name], io)).toBe(0);
    expect(out.stdout).toMatch(/^waiting {4}1\n[\s\S]*^workers {4}0\n/m);
    expect(out.stderr).toBe(
      `aicommerce-webhooks queue: warning: 1 job waits and no worker is connected to queue '${name}' (prefix 'bull'): start one, or check the worker's queueName and prefix\n`,
    );
  });

  it('once ready, a worker logs one info line: queue, prefix, Redis host:port/db (without a logger: one console line)', async () => {
    const { webhooks, entries, name, work, client } = await setup();
    webhooks.on(EVENT, () => {});
    await work({ concurrency: 4 }).waitUntilReady();
    const where = `${new URL(redis.url).host}/0`;
    await expect.poll(() => entries.filter((e) => e.level === 'info')).toEqual([
      { level: 'info', record: { queue: name, prefix: 'bull', redis: where, concurrency: 4 }, message: 'Webhook worker ready' },
    ]);

    const console = vi.spyOn(globalThis.console, 'info').mockImplementation(() => {});
    const bare = createWebhookReceiver({ secret });
    bare.on(EVENT, () => {});
    const worker = createWebhookWorker(bare, { connection: client, queueName: name, prefix: 'bull' });
    closers.push(() => worker.close());
    await worker.waitUntilReady();
    await expect.poll(() => console.mock.calls).toEqual([[`[aicommerce-webhooks] Webhook worker ready: queue ${name}, prefix bull, redis ${where}, concurrency 1`]]);
  });

  it('each failed attempt is one warn record (event, delivery id, attempt n of N, next try in, the handlers’ messages); onError hears the delivery once, when it becomes a dead letter after attempt 3 of 3', async () => {
    const { webhooks, errors, entries, work, receive, queue } = await setup();
    webhooks.on(EVENT, () => {
      throw new Error('database down');
    });
    webhooks.on('chat.*', () => {
      throw new Error('mailer down');
    });
    work();
    expect(await receive()).toBe('queued');
    await expect.poll(() => errors.length).toBe(1);
    const [job] = await queue.getFailed();
    const warns = entries.filter((e) => e.level === 'warn');
    expect(warns.map((w) => [w.message, w.record])).toEqual(
      [1, 2].map((n) => [
        `Webhook handler failed on attempt ${n} of 3; next try in ${n * 10} ms`,
        { code: 'handler_failed', status: 500, event: EVENT, deliveryId: job!.id, attempt: n, attempts: 3, retryInMs: n * 10, errors: ['database down', 'mailer down'] },
      ]),
    );
    expect(errors.map((e) => [e.code, { id: e.deliveryId, event: e.eventName }, (e as WebhookError & { errors: Error[] }).errors.map((x) => x.message)])).toEqual([
      ['handler_failed', { id: job!.id, event: EVENT }, ['database down', 'mailer down']],
    ]);
    expect(entries.filter((e) => e.level === 'info' && e.record['deliveryId'] === job!.id).map((e) => e.message)).toEqual([
      `Dead letter kept in the failed set: once fixed, aicommerce-webhooks queue retry ${job!.id!.slice(0, 12)}`,
    ]);
    expect(JSON.stringify(entries)).not.toContain(sampleEvents[EVENT].message); // never the body
    expect(JSON.stringify(entries)).not.toContain(secret);
  });

  it('a handler that holds the event loop past its lock (lockDuration 300 ms, held 1 s): reported as a lost lock with event and delivery id, then as a stall past maxStalledCount (handler_failed with the reason); never queue_unavailable', async () => {
    const { webhooks, errors, entries, work, receive, queue } = await setup(undefined, {
      worker: { lockDuration: 300, stalledInterval: 200, maxStalledCount: 0 },
    });
    let runs = 0;
    webhooks.on(EVENT, () => {
      runs++;
      const until = Date.now() + 1_000;
      while (Date.now() < until); // a synchronous loop: no timer fires, the lock is not renewed
    });
    work();
    expect(await receive()).toBe('queued');
    await expect.poll(() => errors.length, { timeout: 10_000 }).toBe(1);
    const [job] = await queue.getFailed();
    const facts = { id: job!.id, event: EVENT };
    expect(errors.map((e) => [e.code, { id: e.deliveryId, event: e.eventName }, (e as WebhookError & { errors: Error[] }).errors.map((x) => x.message)])).toEqual([
      [
        'handler_failed',
        facts,
        [
          'The job stalled more than maxStalledCount (0) allows: a worker died, or a handler held the event loop longer than lockDuration (300 ms), while running it',
        ],
      ],
    ]);
    const lockLost = entries.filter((e) => e.record['code'] === 'lock_lost');
    expect(lockLost.map((e) => [e.level, e.record])).toEqual([['warn', { code: 'lock_lost', status: 500, deliveryId: job!.id, event: EVENT, attempt: 1 }]]);
    expect(entries.filter((e) => e.record['code'] === 'queue_unavailable')).toEqual([]);
    expect(runs).toBe(1);
  });

  it.each([
    ['a node-redis URL with a db', (port: number) => createClient({ url: `redis://127.0.0.1:${port}/2` }), '/2'],
    ['node-redis socket options and a database', (port: number) => createClient({ socket: { host: '127.0.0.1', port }, database: 3 }), '/3'],
    ['ioredis options', (port: number) => new Redis({ host: '127.0.0.1', port, db: 4, maxRetriesPerRequest: null }), '/4'],
  ])('the ready line names the Redis as the client was given it: %s', async (_name, make, db) => {
    const port = Number(new URL(redis.url).port);
    const client = make(port);
    client.on('error', () => {});
    const { logger, entries } = recordingLogger();
    const webhooks = createWebhookReceiver({ secret, logger });
    webhooks.on(EVENT, () => {});
    const worker = createWebhookWorker(webhooks, { connection: client as never, queueName: `aicommerce-test-${randomUUID()}` });
    closers.push(async () => (client instanceof Redis ? client.disconnect() : client.close()));
    closers.push(() => worker.close());
    await expect.poll(() => entries.map((e) => e.record['redis'])).toEqual([`127.0.0.1:${port}${db}`]);
  });

  it('a logger that throws stops nothing: the worker runs the job, and the failure is one process warning', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const client = await connectClient(redis.url, { offlineQueue: true });
    const name = `aicommerce-test-${randomUUID()}`;
    const queue = new Queue(name, { connection: client });
    const broken = () => {
      throw new Error('log sink full');
    };
    const webhooks = createWebhookReceiver({ secret, logger: { warn: broken, error: broken, info: broken }, queue: new BullMQDeliveryQueue({ queue, retry: fastRetry }) });
    let runs = 0;
    webhooks.on(EVENT, () => {
      if (++runs === 1) throw new Error('first attempt fails');
    });
    const worker = createWebhookWorker(webhooks, { connection: client, queueName: name });
    closers.push(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
      await client.close();
    });
    closers.push(() => worker.close());
    const d = delivery();
    expect((await webhooks.receive({ body: d.body, signature: d.headers['x-webhook-signature'] })).outcome).toBe('queued');
    await expect.poll(() => runs).toBe(2);
    await expect.poll(() => warning.mock.calls.map(([message]) => message)).toEqual(['the logger threw: log sink full', 'the logger threw: log sink full']); // ready, attempt 1
  });

  it('a client that cannot work is refused when the worker is made, with the fix: node-redis without its offline queue, ioredis without its offline queue', async () => {
    const webhooks = createWebhookReceiver({ secret });
    webhooks.on(EVENT, () => {});
    const failFast = createClient({ url: redis.url, disableOfflineQueue: true });
    expect(() => createWebhookWorker(webhooks, { connection: failFast })).toThrow(/disableOfflineQueue: true, which stalls a BullMQ worker .* createClient\(\{ url \}\)/);
    const ioredis = new Redis(redis.url, { enableOfflineQueue: false, lazyConnect: true, maxRetriesPerRequest: null });
    expect(() => createWebhookWorker(webhooks, { connection: ioredis })).toThrow(/enableOfflineQueue: false, .* Leave enableOfflineQueue at its default/);
  });
});

describeRedis('queued mode when Redis cannot be used', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });

  const clients = {
    'node-redis': (url: string) => createClient({ url }),
    ioredis: (url: string) => new Redis(url, { maxRetriesPerRequest: null }),
  } as const;

  it.each(Object.keys(clients) as (keyof typeof clients)[])(
    'Redis down when the worker starts (%s client): one queue_unavailable in 3 s that says where, no stack on the console, no hang; once Redis is up, the ready line and the backlog runs',
    async (kind) => {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      const consoleError = vi.spyOn(console, 'error');
      const { logger, entries } = recordingLogger();
      const webhooks = createWebhookReceiver({ secret, logger });
      const errors: WebhookError[] = [];
      webhooks.onError((error) => void errors.push(error));
      let handled = 0;
      webhooks.on(EVENT, () => void handled++);
      const client = clients[kind](url);
      if ('on' in client) client.on('error', () => {});
      const name = `aicommerce-test-${randomUUID()}`;
      const worker = createWebhookWorker(webhooks, { connection: client as never, queueName: name });
      let server: RedisServer | undefined;
      closers.push(async () => {
        await worker.close();
        if (client instanceof Redis) client.disconnect();
        else await client.close().catch(() => client.destroy());
        await server?.stop();
      });

      await sleep(3_000);
      expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([`queue_unavailable: The webhook worker: Redis at 127.0.0.1:${port}/0 is unreachable (ECONNREFUSED); retrying`]);
      expect(consoleError).not.toHaveBeenCalled();
      expect(entries.filter((e) => e.level === 'info')).toEqual([]);

      server = await startRedisServer({ port });
      await expect.poll(() => entries.filter((e) => e.level === 'info').map((e) => e.message), { timeout: 15_000 }).toContain('Webhook worker ready');
      expect(entries.filter((e) => e.level === 'info').map((e) => [e.message, e.record]).sort()).toEqual([
        ['Webhook worker ready', { queue: name, prefix: 'bull', redis: `127.0.0.1:${port}/0`, concurrency: 1 }],
        ['Webhook worker: Redis reachable again', { queue: name, prefix: 'bull', redis: `127.0.0.1:${port}/0` }],
      ]);
      const producer = await connectClient(url, { offlineQueue: true });
      const queue = new Queue(name, { connection: producer });
      closers.push(async () => {
        await queue.close();
        await producer.close();
      });
      const receiver = createWebhookReceiver({ secret, queue: new BullMQDeliveryQueue({ queue }) });
      const d = delivery();
      expect((await receiver.receive({ body: d.body, signature: d.headers['x-webhook-signature'] })).outcome).toBe('queued');
      await expect.poll(() => handled, { timeout: 15_000 }).toBe(1);
      expect(errors).toHaveLength(1);
    },
    30_000,
  );

  it('Redis at maxmemory (noeviction): the receiver answers 503 saying so; the worker reports it once and fetches at most once per runRetryDelay (500 ms) instead of in a loop; once memory is raised it runs the backlog, 0 lost', async () => {
    const server = await startRedisServer();
    closers.push(() => server.stop());
    const client = await connectClient(server.url, { offlineQueue: true });
    const admin = await connectClient(server.url);
    const name = `aicommerce-test-${randomUUID()}`;
    const queue = new Queue(name, { connection: client });
    closers.push(async () => {
      await queue.close();
      await client.close();
      await admin.close();
    });
    const { logger } = recordingLogger();
    const webhooks = createWebhookReceiver({ secret, logger, queue: new BullMQDeliveryQueue({ queue }) });
    const errors: WebhookError[] = [];
    webhooks.onError((error) => void errors.push(error));
    const handled = new Set<string>();
    webhooks.on(EVENT, (event) => void handled.add(event.data.messageId!));
    const ids = Array.from({ length: 20 }, (_, i) => `msg_${i}`);
    for (const id of ids) {
      const d = delivery(id);
      expect((await webhooks.receive({ body: d.body, signature: d.headers['x-webhook-signature'] })).outcome).toBe('queued');
    }
    await admin.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' }); // every write is now refused: OOM

    const refused = delivery('msg_refused');
    await expect(webhooks.receive({ body: refused.body, signature: refused.headers['x-webhook-signature'] })).rejects.toMatchObject({
      code: 'queue_unavailable',
      message: 'Delivery not stored: Redis is out of memory (maxmemory reached): raise maxmemory or free memory',
    });
    errors.length = 0;
    const worker = createWebhookWorker(webhooks, { connection: client, queueName: name, concurrency: 5, runRetryDelay: 500 });
    closers.push(() => worker.close()); // run first: the closers run last-in first-out
    let events = 0;
    worker.on('error', () => void events++);
    await sleep(3_000);
    expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([
      `queue_unavailable: The webhook worker: Redis at 127.0.0.1:${server.port}/0 is out of memory (maxmemory reached): raise maxmemory or free memory; retrying`,
    ]);
    expect(events).toBeGreaterThan(0);
    expect(events).toBeLessThanOrEqual(8); // 3 s ÷ 500 ms, plus the stalled-job check: not tens of thousands
    expect(handled.size).toBe(0);

    await admin.configSet({ maxmemory: '0' });
    await expect.poll(() => handled.size, { timeout: 10_000 }).toBe(ids.length);
    expect(ids.filter((id) => !handled.has(id))).toEqual([]);
  });
});
