import { createHash } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Queue } from 'bullmq';
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWebhookReceiver, type ReceiverOptions, type WebhookError } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker, type BullMQDeliveryQueueOptions, type WebhookWorkerOptions } from 'aicommerce-webhooks/bullmq';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { attemptsFor, cappedDelay, DEFAULT_RETRY } from '../../src/queue/retry.js';
import { openTestQueue, type TestQueue } from '../helpers/queue.js';
import { connectClient, describeRedis, startRedisServer, useRedis } from '../helpers/redis.js';

// Queued mode against a real redis-server and real BullMQ: the receiver in Express (supertest),
// the worker as BullMQ runs it, in this process. The multi-process cases are in queue-processes.test.ts.

const secret = 'whsec_queued';
const WEBHOOK_PATH = '/webhooks/aicommerce';
const fastRetry = { baseDelayMs: 20, maxDelayMs: 40, retryForMs: 100, jitter: 0 }; // 1 + 4 attempts

describeRedis('queued mode on BullMQ (one process, real Redis)', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let current: TestQueue | undefined;
  const workers: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    redis = await useRedis();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await current?.close();
    current = undefined;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** A receiver in queued mode mounted in Express, and what its onError saw. */
  async function setup(options: Omit<ReceiverOptions, 'schemas' | 'queue'> = {}, queueOptions: Partial<BullMQDeliveryQueueOptions> = {}) {
    current = await openTestQueue(redis.url);
    const { queue } = current;
    // The worker's records (one per failed attempt, its ready line) land here rather than on the console.
    const logs: { level: string; record: Record<string, unknown>; message: string }[] = [];
    const logger = Object.fromEntries(
      ['warn', 'error', 'info'].map((level) => [level, (record: Record<string, unknown>, message: string) => void logs.push({ level, record, message })]),
    ) as unknown as NonNullable<ReceiverOptions['logger']>;
    const webhooks = createWebhookReceiver({ secret, logger, ...options, queue: new BullMQDeliveryQueue({ queue, retry: fastRetry, ...queueOptions }) });
    const errors: WebhookError[] = [];
    webhooks.onError((error) => void errors.push(error));
    const server = http.createServer(express().use(WEBHOOK_PATH, webhooks.middleware()));
    const post = (body: string, headers: Record<string, string>) => request(server).post(WEBHOOK_PATH).set(headers).send(body);
    const work = (options: Partial<WebhookWorkerOptions> = {}) => {
      const worker = createWebhookWorker(webhooks, { connection: current!.client, queueName: current!.name, ...options });
      workers.push(worker);
      return worker;
    };
    return { webhooks, queue, errors, logs, post, work };
  }

  const postDelivery = async (post: (body: string, headers: Record<string, string>) => request.Test, { body, headers }: { body: string; headers: Record<string, string> }) => {
    const res = await post(body, headers);
    expect(res.status).toBe(202);
    return res;
  };

  const messageDelivery = (messageId = 'msg_1') =>
    createDelivery('chat.message.received', { ...sampleEvents['chat.message.received'], messageId }, { secret });

  it('answers 202 queued only once Redis holds the job: job id = delivery id, job name = event name, the exact body', async () => {
    const { queue, post, webhooks } = await setup();
    const ran: string[] = [];
    webhooks.on('chat.message.received', () => void ran.push('ran'));
    const { body, headers } = messageDelivery();

    const res = await post(body, headers);

    expect(res.status).toBe(202);
    expect(res.body).toEqual({ received: true, queued: true });
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs).toHaveLength(1);
    const { createHash } = await import('node:crypto');
    expect(jobs[0]!.id).toBe(createHash('sha256').update(body).digest('hex'));
    expect(jobs[0]!.name).toBe('chat.message.received');
    expect(jobs[0]!.data.body).toBe(body);
    expect(jobs[0]!.data.url).toBe(WEBHOOK_PATH);
    expect(ran).toEqual([]); // no worker yet: nothing ran in the request
  });

  it('a copy of a stored delivery adds no second job and is answered 2xx', async () => {
    const { queue, post } = await setup();
    const { body, headers } = messageDelivery();
    const answers = await Promise.all([post(body, headers), post(body, headers), post(body, headers)]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(await queue.getJobCountByTypes('waiting', 'active', 'completed', 'delayed', 'failed')).toBe(1);
  });

  it('a copy that comes after the job completed adds no job either: the job is gone, its deduplication key recognises the copy', async () => {
    const { queue, post, webhooks, work } = await setup();
    let runs = 0;
    webhooks.on('chat.message.received', () => void runs++);
    work();
    const { body, headers } = messageDelivery();
    expect((await post(body, headers)).status).toBe(202);
    await expect.poll(() => runs).toBe(1);
    await expect.poll(() => queue.getJobCounts('waiting', 'active', 'completed')).toEqual({ waiting: 0, active: 0, completed: 0 });
    expect((await post(body, headers)).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await queue.getJobCounts('waiting', 'active', 'completed', 'delayed')).toEqual({ waiting: 0, active: 0, completed: 0, delayed: 0 });
    expect(runs).toBe(1);
  });

  it('removes a job once done, keeps its deduplication key for twice the tolerance (every moment a copy could still pass the freshness check), one stack per dead letter, dead letters until removed', async () => {
    const { queue, post } = await setup({ tolerance: 120 });
    await postDelivery(post, messageDelivery());
    const [job] = await queue.getJobs(['waiting']);
    expect(job!.opts).toMatchObject({ removeOnComplete: true, removeOnFail: false, stackTraceLimit: 1, deduplication: { id: job!.id, ttl: 240_000 } });
    const ttl = await current!.client.pTTL(`bull:${current!.name}:de:${job!.id}`);
    expect(ttl).toBeGreaterThan(239_000);
    expect(ttl).toBeLessThanOrEqual(240_000);
  });

  it('keepFailed bounds the dead letters as BullMQ’s removeOnFail; a wrong one is refused at creation', async () => {
    const { queue, post } = await setup({}, { keepFailed: { age: 86_400, count: 1_000 } });
    await postDelivery(post, messageDelivery());
    const [job] = await queue.getJobs(['waiting']);
    expect(job!.opts.removeOnFail).toEqual({ age: 86_400, count: 1_000 });
    for (const keepFailed of [{}, { age: -1 }, { count: Number.NaN }, null]) {
      expect(() => new BullMQDeliveryQueue({ queue, keepFailed: keepFailed as never })).toThrow(/keepFailed must be/);
    }
  });

  it.each([
    ['a forged signature', 401, 'invalid_signature', (d: ReturnType<typeof messageDelivery>) => ({ ...d.headers, 'x-webhook-signature': `sha256=${'00'.repeat(32)}` }), undefined],
    ['a stale timestamp', 401, 'stale_timestamp', undefined, '2020-01-01T00:00:00Z'],
    ['a body that fails its schema', 400, 'invalid_payload', undefined, undefined],
  ] as const)('%s is answered %i and stores nothing', async (_name, status, code, headersFor, timestamp) => {
    const { queue, post } = await setup();
    const data = code === 'invalid_payload' ? { storeId: 'only' } : sampleEvents['chat.message.received'];
    const delivery = createDelivery('chat.message.received', data, { secret, ...(timestamp ? { timestamp } : {}) });
    const res = await post(delivery.body, headersFor ? headersFor(delivery) : delivery.headers);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(await queue.count()).toBe(0);
  });

  it('an event with no schema is answered 200 ignored and stores nothing', async () => {
    const { queue, post } = await setup();
    const { body, headers } = createDelivery('store.closed', { storeId: 's' }, { secret });
    const res = await post(body, headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, ignored: true });
    expect(await queue.count()).toBe(0);
  });

  it('the worker runs the receiver’s own typed handlers with context.id = the job id and context.attempt', async () => {
    const { queue, post, webhooks, work } = await setup();
    const seen: { message: string; id: string; attempt: number; url: string | undefined; signature: unknown }[] = [];
    webhooks.on('chat.message.received', (event, context) => {
      seen.push({ message: event.data.message, id: context.id, attempt: context.attempt, url: context.url, signature: context.headers['x-webhook-signature'] });
    });
    const { body, headers } = messageDelivery();
    await post(body, headers);
    const [job] = await queue.getJobs(['waiting']);
    work();
    await expect.poll(() => seen.length, { timeout: 10_000, message: 'the handler runs' }).toBe(1);
    expect(seen).toEqual([
      { message: sampleEvents['chat.message.received'].message, id: job!.id, attempt: 1, url: WEBHOOK_PATH, signature: headers['x-webhook-signature'] },
    ]);
  });

  const snapshot = (price: number, ago: number) =>
    createDelivery(
      'product.updated',
      { ...sampleEvents['product.updated'], product: { ...sampleEvents['product.updated'].product, price } },
      { secret, timestamp: new Date(Date.now() - ago) },
    );

  it('latest wins in the worker: an older snapshot than one applied completes as superseded, its handler never run, logged at info with its key', async () => {
    const { queue, post, webhooks, work, errors, logs } = await setup();
    const prices: number[] = [];
    webhooks.on('product.updated', (event) => void prices.push(event.data.product.price!));
    await postDelivery(post, snapshot(2, 1_000));
    const worker = work();
    await expect.poll(() => prices, { timeout: 10_000 }).toEqual([2]);
    await postDelivery(post, snapshot(1, 60_000)); // a retry from an hour's backoff, arriving late
    const completed: string[] = [];
    worker.on('completed', (job) => void completed.push(job.id!));
    await expect.poll(() => completed.length, { timeout: 10_000 }).toBe(1);
    expect(prices).toEqual([2]);
    expect(errors).toEqual([]);
    expect(logs.filter((log) => log.record['outcome'] === 'superseded')).toEqual([
      {
        level: 'info',
        record: { outcome: 'superseded', event: 'product.updated', deliveryId: completed[0], orderKey: 'store_xyz/product/prod_xyz' },
        message: expect.stringContaining('superseded'),
      },
    ]);
    expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed')).toEqual({ completed: 0, failed: 0, waiting: 0, delayed: 0 });
  });

  it('one job per entity at a time: a job whose entity another job holds waits, spending no attempt, and runs once it is free', async () => {
    const { queue, post, webhooks, work } = await setup();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const runs: { price: number; attempt: number; orderKey: string | undefined }[] = [];
    let running = 0;
    let most = 0;
    webhooks.on('product.updated', async (event, context) => {
      most = Math.max(most, ++running);
      runs.push({ price: event.data.product.price!, attempt: context.attempt, orderKey: context.orderKey });
      if (event.data.product.price === 1) await blocked;
      running--;
    });
    await postDelivery(post, snapshot(1, 2_000));
    work({ concurrency: 4 });
    await expect.poll(() => runs.length, { timeout: 10_000 }).toBe(1);
    const second = snapshot(2, 1_000); // the same product, while the first one runs
    await postDelivery(post, second);
    const id = createHash('sha256').update(second.body).digest('hex');
    await expect.poll(async () => (await queue.getJob(id))?.data.waits ?? 0, { timeout: 10_000, message: 'it waits, twice' }).toBeGreaterThanOrEqual(2);
    expect(runs).toHaveLength(1);
    release();
    await expect.poll(() => runs.length, { timeout: 10_000 }).toBe(2);
    expect(runs).toEqual([
      { price: 1, attempt: 1, orderKey: 'store_xyz/product/prod_xyz' },
      { price: 2, attempt: 1, orderKey: 'store_xyz/product/prod_xyz' }, // its waits were not attempts
    ]);
    expect(most).toBe(1);
  });

  it('a failed attempt is retried, and the retry runs only the handlers that have not succeeded yet', async () => {
    const { queue, post, webhooks, work } = await setup();
    const runs = { steady: 0, flaky: 0, attempts: [] as number[] };
    webhooks.on('chat.message.received', () => void runs.steady++);
    webhooks.on('chat.*', (_event, context) => {
      runs.flaky++;
      runs.attempts.push(context.attempt);
      if (context.attempt < 3) throw new Error('the database is down');
    });
    await postDelivery(post, messageDelivery());
    const completed: string[][] = [];
    work({}).on('completed', (job) => void completed.push(job.data.done ?? []));
    await expect.poll(() => completed).toEqual([['chat.message.received#1']]);
    expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed')).toEqual({ completed: 0, failed: 0, waiting: 0, delayed: 0 });
    expect(runs).toEqual({ steady: 1, flaky: 3, attempts: [1, 2, 3] });
  });

  it('a handler that always throws: the job ends in the failed set after its last attempt, onError hears handler_failed once, and a retry after the fix completes it', async () => {
    const { queue, post, webhooks, work, errors } = await setup();
    let fixed = false;
    let runs = 0;
    webhooks.on('chat.message.received', () => {
      runs++;
      if (!fixed) throw new Error('bug in the handler');
    });
    await postDelivery(post, messageDelivery());
    work();
    await expect.poll(() => queue.getJobs(['failed']), { timeout: 10_000, message: 'the job reaches the failed set' }).toHaveLength(1);
    const [job] = await queue.getJobs(['failed']);
    const attempts = attemptsFor({ ...DEFAULT_RETRY, ...fastRetry });
    expect(job!.attemptsMade).toBe(attempts);
    expect(runs).toBe(attempts);
    expect(job!.failedReason).toBe('Webhook handler failed: bug in the handler');
    expect(job!.stacktrace![0]).toMatch(/^HandlersFailed: Webhook handler failed: bug in the handler\nError: bug in the handler\n    at /);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors.map((e) => e.code)).toEqual(['handler_failed']);
    expect((errors[0] as WebhookError & { errors: Error[] }).errors.map((e) => e.message)).toEqual(['bug in the handler']);

    fixed = true;
    await job!.retry('failed');
    await expect.poll(() => runs).toBe(attempts + 1);
    await expect.poll(() => queue.getJobCounts('completed', 'failed', 'waiting', 'active')).toEqual({ completed: 0, failed: 0, waiting: 0, active: 0 });
    expect(errors).toHaveLength(1);
  });

  it('a handler that throws a value that is no Error (a string): the dead letter and each attempt’s warn record still say what it was, and onError hears it once', async () => {
    const { queue, post, webhooks, work, errors, logs } = await setup();
    webhooks.on('chat.message.received', () => {
      throw 'catalogue service down'; // some libraries throw strings
    });
    await postDelivery(post, messageDelivery());
    work();
    await expect.poll(() => queue.getJobs(['failed']), { timeout: 10_000, message: 'the job reaches the failed set' }).toHaveLength(1);
    const [job] = await queue.getJobs(['failed']);
    expect(job!.failedReason).toBe('Webhook handler failed: catalogue service down');
    expect(job!.stacktrace).toHaveLength(1);
    const attempts = attemptsFor({ ...DEFAULT_RETRY, ...fastRetry });
    const warned = logs.filter((log) => log.level === 'warn' && log.record['deliveryId'] === job!.id);
    expect(warned).toHaveLength(attempts - 1); // the last attempt is the dead letter's report, not a warning
    for (const log of warned) expect(log.record['errors']).toEqual(['catalogue service down']);
    await expect.poll(() => errors.map((e) => e.code), { timeout: 5_000 }).toEqual(['handler_failed']);
    expect((errors[0] as WebhookError & { errors: unknown[] }).errors).toEqual(['catalogue service down']);
  });

  it('a stored delivery that no longer matches its schema (a deploy changed it) fails at once, without retries, and is reported', async () => {
    const { queue, post, webhooks } = await setup();
    await postDelivery(post, messageDelivery());
    // The worker runs a newer definition whose schema the stored delivery fails.
    const newer = createWebhookReceiver({ secret, schemas: { 'chat.message.received': z.object({ sessionId: z.number() }) } });
    const errors: WebhookError[] = [];
    newer.onError((error) => void errors.push(error));
    let runs = 0;
    newer.on('chat.message.received', () => void runs++);
    workers.push(createWebhookWorker(newer, { connection: current!.client, queueName: current!.name }));
    await expect.poll(() => queue.getJobs(['failed']), { timeout: 10_000, message: 'the job reaches the failed set' }).toHaveLength(1);
    const [job] = await queue.getJobs(['failed']);
    expect(job!.attemptsMade).toBe(1);
    expect(runs).toBe(0);
    await expect.poll(() => errors.length, { timeout: 10_000 }).toBe(1);
    expect(errors[0]!.code).toBe('invalid_payload');
    void webhooks;
  });

  it('the default retry schedule spans at least 24 hours, capped at 1 hour a wait', () => {
    const attempts = attemptsFor(DEFAULT_RETRY);
    const shortestWaits = Array.from({ length: attempts - 1 }, (_, i) => cappedDelay(i + 1, 1_000, 3_600_000) * 0.8);
    const total = shortestWaits.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(total - shortestWaits.at(-1)!).toBeLessThan(24 * 3600_000); // and no attempt more than that takes
    expect(Math.max(...shortestWaits) / 0.8).toBe(3_600_000);
    expect(attempts).toBe(42);
  });

  it('the default job options carry that schedule, and the worker waits accordingly between attempts', async () => {
    current = await openTestQueue(redis.url);
    const webhooks = createWebhookReceiver({ secret, queue: new BullMQDeliveryQueue({ queue: current.queue }) });
    const { body, headers } = messageDelivery();
    await webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    const [job] = await current.queue.getJobs(['waiting']);
    expect(job!.opts.attempts).toBe(42);
    expect(job!.opts.backoff).toMatchObject({ delay: 1_000, jitter: 0.2, maxDelay: 3_600_000 });

    webhooks.on('chat.message.received', () => {
      throw new Error('down');
    });
    workers.push(createWebhookWorker(webhooks, { connection: current.client, queueName: current.name }));
    await expect.poll(() => current!.queue.getJobs(['delayed']), { timeout: 10_000, message: 'the first retry is scheduled' }).toHaveLength(1);
    const [delayed] = await current.queue.getJobs(['delayed']);
    // First retry: 1 s at most, 0.8 s at least (jitter only shortens).
    expect(delayed!.delay).toBeGreaterThanOrEqual(800);
    expect(delayed!.delay).toBeLessThanOrEqual(1_000);
  });

  it('the Fetch adapter answers 202 queued too', async () => {
    const { queue, webhooks } = await setup();
    const { body, headers } = messageDelivery('msg_fetch');
    const response = await webhooks.fetchHandler()(new Request('http://localhost/webhooks', { method: 'POST', body, headers }));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ received: true, queued: true });
    expect(await queue.count()).toBe(1);
  });

  it('receive() resolves with outcome queued', async () => {
    const { webhooks } = await setup();
    const { body, headers } = messageDelivery();
    const result = await webhooks.receive({ body, signature: headers['x-webhook-signature'] });
    expect(result.outcome).toBe('queued');
    expect(result.event.event).toBe('chat.message.received');
  });

  it('dedupe does not apply in queued mode: giving both is a mistake caught at creation', async () => {
    current = await openTestQueue(redis.url);
    const { MemoryDedupeStore } = await import('aicommerce-webhooks');
    expect(() =>
      createWebhookReceiver({ secret, dedupe: new MemoryDedupeStore(), queue: new BullMQDeliveryQueue({ queue: current!.queue }) }),
    ).toThrow(/dedupe does not apply in queued mode/);
    expect(() => createWebhookReceiver({ secret, queue: {} as never })).toThrow(/queue must be a DeliveryQueue/);
    expect(() => new BullMQDeliveryQueue({ queue: current!.queue, enqueueTimeout: 0 })).toThrow(/enqueueTimeout/);
    expect(() => new BullMQDeliveryQueue({ queue: current!.queue, retry: { maxDelayMs: 10, baseDelayMs: 100 } })).toThrow(/maxDelayMs/);
    // @ts-expect-error -- only a receiver is accepted, at compile time too
    expect(() => createWebhookWorker({}, { connection: current!.client })).toThrow(/createWebhookReceiver/);
    const failFast = await connectClient(redis.url);
    try {
      const withHandler = createWebhookReceiver({ secret });
      withHandler.on('chat.message.received', () => {});
      expect(() => createWebhookWorker(withHandler, { connection: failFast })).toThrow(/disableOfflineQueue: true/);
    } finally {
      await failFast.close();
    }
  });
});

describeRedis('queued mode when Redis is unreachable', () => {
  /** Express with a queued receiver on `queue`, what its onError heard, and two deliveries: one before the outage, one during it. */
  function queuedServer(queue: Queue, enqueueTimeout: number) {
    const webhooks = createWebhookReceiver({ secret, queue: new BullMQDeliveryQueue({ queue, enqueueTimeout }) });
    const errors: WebhookError[] = [];
    webhooks.onError((error) => void errors.push(error));
    const app = http.createServer(express().use(WEBHOOK_PATH, webhooks.middleware()));
    const post = ({ body, headers }: { body: string; headers: Record<string, string> }) => request(app).post(WEBHOOK_PATH).set(headers).send(body);
    const delivery = (storeId: string) => createDelivery('product.added', { ...sampleEvents['product.added'], storeId }, { secret });
    return { errors, post, before: delivery('before'), during: delivery('during') };
  }

  it('answers 503 queue_unavailable with Retry-After within the enqueue timeout and stores nothing; the retry once Redis is back is stored', async () => {
    const server = await startRedisServer();
    const tq = await openTestQueue(server.url);
    const { errors, post, before, during } = queuedServer(tq.queue, 500);
    try {
      expect((await post(before)).status).toBe(202);
      await server.stop();

      const started = performance.now();
      const down = await post(during);
      const elapsed = performance.now() - started;
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        error: 'Delivery not acknowledged by the queue within 500 ms; it may still be stored (a retry adds no second job)',
        code: 'queue_unavailable',
      });
      expect(down.headers['retry-after']).toBe('5');
      expect(elapsed).toBeLessThan(1_500);
      expect(errors.map((e) => e.code)).toContain('queue_unavailable');
    } finally {
      await server.start();
    }
    // The sender retries the same delivery; once Redis is back it is stored and acknowledged.
    let res: Awaited<ReturnType<typeof post>> | undefined;
    await expect.poll(async () => (res = await post(during)).status, { timeout: 10_000, message: 'Redis takes jobs again' }).toBe(202);
    expect(res!.body).toEqual({ received: true, queued: true });
    const stored = await tq.queue.getJobs(['waiting']);
    // This server keeps nothing across a restart (no AOF): only the retried delivery is there.
    // test/integration/queue-processes.test.ts runs Redis with AOF and loses nothing.
    expect(stored.map((job) => JSON.parse(job.data.body).data.storeId)).toEqual(['during']);
    await tq.close();
    await server.stop();
  });

  it('an add that fails at once (a client without its offline queue, Redis stopped) is answered 503 at once, not after the enqueue timeout', async () => {
    const server = await startRedisServer();
    const client = await connectClient(server.url); // disableOfflineQueue: commands fail while Redis is away
    const queue = new Queue(`aicommerce-test-${randomUUID()}`, { connection: client });
    queue.on('error', () => {});
    const { errors, post, before, during } = queuedServer(queue, 10_000);
    try {
      expect((await post(before)).status).toBe(202);
      await server.stop();
      const started = performance.now();
      const down = await post(during);
      const elapsed = performance.now() - started;
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        error: 'Delivery not acknowledged by the queue: Redis is unreachable (The client is offline); it may still be stored (a retry adds no second job)',
        code: 'queue_unavailable',
      });
      expect(elapsed).toBeLessThan(2_000); // the client's own failure, well before the 10 s timeout
      const unavailable = errors.find((e) => e.code === 'queue_unavailable');
      expect(unavailable).toBeDefined();
      expect(String((unavailable!.cause as Error | undefined)?.message)).not.toMatch(/did not acknowledge/);
    } finally {
      await queue.close().catch(() => {});
      await client.close().catch(() => {});
      await server.stop();
    }
  });
});

describeRedis('the worker when Redis goes away', () => {
  it('onError hears queue_unavailable once for an outage (not once per reconnection attempt), and the worker carries on once Redis is back', async () => {
    const server = await startRedisServer();
    const tq = await openTestQueue(server.url);
    const webhooks = createWebhookReceiver({ secret, queue: new BullMQDeliveryQueue({ queue: tq.queue }) });
    const errors: WebhookError[] = [];
    webhooks.onError((error) => void errors.push(error));
    let handled = 0;
    webhooks.on('product.added', () => void handled++);
    const worker = createWebhookWorker(webhooks, { connection: tq.client, queueName: tq.name });
    try {
      await worker.waitUntilReady();
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // One from the worker, one from the receiver's queue (both on this Redis), each with where and why.
      const where = `127.0.0.1:${server.port}/0`;
      expect(errors.map((e) => `${e.code}: ${e.message}`).sort()).toEqual([
        `queue_unavailable: The delivery queue: Redis at ${where} is unreachable (Socket closed unexpectedly); retrying`,
        `queue_unavailable: The webhook worker: Redis at ${where} is unreachable (Socket closed unexpectedly); retrying`,
      ]);

      await server.start();
      const { body, headers } = createDelivery('product.added', sampleEvents['product.added'], { secret });
      const receive = () => webhooks.receive({ body, signature: headers['x-webhook-signature'] }).then((r) => r.outcome, () => 'down');
      await expect.poll(receive, { timeout: 10_000, message: 'an enqueue succeeds' }).toBe('queued');
      await expect.poll(() => handled, { timeout: 15_000, message: 'the worker runs the job' }).toBe(1);
    } finally {
      await worker.close();
      await tq.close();
      await server.stop();
    }
  }, 30_000);
});

describe('retry policy checks', () => {
  it.each([
    [{ baseDelayMs: 0 }, /retry.baseDelayMs must be a positive number/],
    [{ retryForMs: Number.POSITIVE_INFINITY }, /retry.retryForMs must be a positive number/],
    [{ jitter: 1 }, /retry.jitter must be at least 0 and below 1/],
    [{ jitter: -0.1 }, /retry.jitter/],
  ])('%j is refused at creation', (retry, message) => {
    expect(() => new BullMQDeliveryQueue({ queue: { add: () => Promise.resolve() } as never, retry })).toThrow(message);
  });
});

