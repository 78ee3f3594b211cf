import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterEach, expect, it } from 'vitest';
import { createWebhookReceiver, type WebhookError, type WebhookEvent, type WebhookLogRecord } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { RedisDedupeStore } from 'aicommerce-webhooks/redis';
import { createTestSender, sampleEvents, type DeliveryReport } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { listen } from '../helpers/http.js';
import { useRedisCluster } from '../helpers/redis-cluster.js';
import { describeRedis } from '../helpers/redis.js';

// Queued mode and the Redis dedupe store on a real Redis Cluster: 3 masters on loopback ports
// (test/helpers/redis-cluster.ts), made with redis-cli --cluster create. BullMQ reaches it through
// an ioredis Cluster and a hash-tagged prefix; RedisDedupeStore through node-redis's createCluster.

const SECRET = 'whsec_cluster';
const EVENT = 'chat.message.received';
const PREFIX = '{aicommerce}';
const FAST_RETRY = { baseDelayMs: 10, maxDelayMs: 50, retryForMs: 2_000, jitter: 0.2 };

describeRedis('on a 3-master Redis Cluster', () => {
  const fixture = useRedisCluster();
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });

  /** An ioredis Cluster client as BullMQ wants it (maxRetriesPerRequest: null), closed after the test. */
  function ioredisCluster(): Cluster {
    const client = new Cluster([...fixture.cluster.nodes], { redisOptions: { maxRetriesPerRequest: null } });
    closers.push(async () => client.disconnect());
    return client;
  }

  async function nodeRedisCluster() {
    const client = createCluster({ rootNodes: fixture.cluster.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) });
    client.on('error', () => {});
    await client.connect();
    closers.push(() => client.close());
    return client;
  }

  /** A receiving process's part: its own Cluster connection and Queue, a node:http server; its onError codes. */
  async function receiver(queueName: string, prefix: string) {
    const queue = new Queue(queueName, { connection: ioredisCluster(), prefix });
    closers.push(() => queue.close());
    const webhooks = createWebhookReceiver({ secret: SECRET, queue: new BullMQDeliveryQueue({ queue, retry: FAST_RETRY }) });
    const errors: WebhookError[] = [];
    webhooks.onError((error) => void errors.push(error));
    const server = await listen(http.createServer(webhooks.middleware()));
    closers.push(server.close);
    return { queue, errors, url: `${server.origin}/webhooks` };
  }

  it('1,000 deliveries through 2 receivers and 2 workers (ioredis Cluster, prefix {aicommerce}), each sent twice, 30 % of handler attempts throwing: every handler succeeds exactly once per delivery, 0 lost, 0 dead letters, every key on one slot', async () => {
    const queueName = `webhooks-${randomUUID()}`;
    const [a, b] = await Promise.all([receiver(queueName, PREFIX), receiver(queueName, PREFIX)]);
    const successes = { record: new Map<string, number>(), notify: new Map<string, number>() };
    let attempts = 0;
    const workerErrors: WebhookError[] = [];
    const warnings: WebhookLogRecord[] = [];
    const ready: Record<string, unknown>[] = [];
    const logger = { warn: (record: WebhookLogRecord) => void warnings.push(record), error: () => {}, info: (record: Record<string, unknown>) => void ready.push(record) };
    for (let i = 0; i < 2; i++) {
      const webhooks = createWebhookReceiver({ secret: SECRET, logger });
      webhooks.onError((error) => void workerErrors.push(error));
      const handler = (name: keyof typeof successes) => (event: WebhookEvent<typeof EVENT>) => {
        attempts++;
        if (Math.random() < 0.3) throw new Error('flaky');
        const id = event.data.messageId!;
        successes[name].set(id, (successes[name].get(id) ?? 0) + 1);
      };
      webhooks.on(EVENT, handler('record'));
      webhooks.on(EVENT, handler('notify'));
      const worker = createWebhookWorker(webhooks, { connection: ioredisCluster(), queueName, prefix: PREFIX, concurrency: 20 });
      worker.on('error', () => {});
      closers.push(() => worker.close());
    }
    const sender = createTestSender({ retries: 3, baseDelayMs: 100 });
    await sender.webhooks.create({ url: a.url, events: [EVENT], secret: SECRET });
    await sender.webhooks.create({ url: b.url, events: [EVENT], secret: SECRET });
    const ids = Array.from({ length: 1_000 }, (_, i) => `msg_${i}`);

    const reports = (await mapConcurrently(ids.length, 16, (i) => sender.send(EVENT, { ...sampleEvents[EVENT], messageId: ids[i] }))).flat();

    expect(reports).toHaveLength(2_000);
    expect(reports.filter((r) => r.attempts.length !== 1 || r.attempts[0]!.status !== 202).map(summary)).toEqual([]);
    const exactlyOnce = (id: string) => successes.record.get(id) === 1 && successes.notify.get(id) === 1;
    await expect.poll(() => ids.filter((id) => !exactlyOnce(id)).length, { timeout: 60_000, interval: 100 }).toBe(0);
    await expect.poll(() => a.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 0,
      completed: 0,
    });
    expect(attempts).toBeGreaterThan(2_000 * 1.3); // the faults did happen, and were retried
    // Each worker said where it listens: the cluster's nodes and the hash-tagged prefix.
    const nodes = fixture.cluster.ports.map((port) => `127.0.0.1:${port}`).join(',');
    expect(ready).toEqual([0, 1].map(() => ({ queue: queueName, prefix: PREFIX, redis: `cluster ${nodes}`, concurrency: 20 })));
    // Each failed attempt was one warn record, naming its delivery and attempt.
    expect(warnings.length).toBeGreaterThan(300);
    expect(warnings.every((w) => w.code === 'handler_failed' && w.event === EVENT && /^[0-9a-f]{64}$/.test(w.deliveryId!) && w.attempt! >= 1)).toBe(true);
    expect([...a.errors, ...b.errors, ...workerErrors]).toEqual([]);
    // The hash tag put every key of the queue on one master; the others hold none of them.
    const client = a.queue.opts.connection as Cluster;
    const keysPerNode = await Promise.all(client.nodes('master').map((node) => node.keys(`${PREFIX}:${queueName}:*`)));
    expect(keysPerNode.filter((keys) => keys.length > 0)).toHaveLength(1);
  }, 120_000);

  it('without a hash tag in the prefix: the receiver answers 503 queue_unavailable saying why, and createWebhookWorker refuses to start, saying how to fix it', async () => {
    const { url, errors } = await receiver(`webhooks-${randomUUID()}`, 'bull');
    const sender = createTestSender({ retries: 0 });
    await sender.webhooks.create({ url, events: [EVENT], secret: SECRET });
    const [report] = await sender.send(EVENT, sampleEvents[EVENT]);
    expect(report!.attempts.map((attempt) => [attempt.status, attempt.response])).toEqual([
      [
        503,
        {
          error:
            "Delivery not stored: Redis (a Cluster) refused the job: the queue's keys are in different slots. Give the Queue and the worker a hash-tagged prefix, e.g. prefix: '{aicommerce}'",
          code: 'queue_unavailable',
        },
      ],
    ]);
    expect(errors.map((error) => [error.code, (error.cause as Error).message])).toEqual([['queue_unavailable', expect.stringMatching(/^CROSSSLOT/)]]);

    const webhooks = createWebhookReceiver({ secret: SECRET });
    webhooks.on(EVENT, () => {});
    expect(() => createWebhookWorker(webhooks, { connection: ioredisCluster(), queueName: 'webhooks' })).toThrow(
      "createWebhookWorker: on a Redis Cluster the prefix must be hash-tagged, or every BullMQ script fails (CROSSSLOT): got prefix 'bull'. Pass prefix: '{bull}' to the worker and to the receiver's Queue alike.",
    );
  });

  it('a node-redis createCluster client cannot run BullMQ (its jobs would hang): the queue and the worker refuse it, with the fix in the message', async () => {
    const client = await nodeRedisCluster();
    const fix = /a node-redis cluster client \(createCluster\) cannot run BullMQ.*ioredis Cluster and a hash-tagged prefix/;
    const queue = new Queue(`webhooks-${randomUUID()}`, { connection: client as never, prefix: PREFIX });
    closers.push(() => queue.close());
    queue.on('error', () => {});
    expect(() => new BullMQDeliveryQueue({ queue })).toThrow(fix);
    const webhooks = createWebhookReceiver({ secret: SECRET });
    webhooks.on(EVENT, () => {});
    expect(() => createWebhookWorker(webhooks, { connection: client as never, prefix: PREFIX })).toThrow(fix);
  });

  it('RedisDedupeStore on a node-redis createCluster client: 1,000 deliveries to 2 receivers sharing it, each processed exactly once', async () => {
    const prefix = `aicommerce-test:${randomUUID()}:`;
    const handled = new Map<string, number>();
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const client = await nodeRedisCluster();
      const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: new RedisDedupeStore({ client, prefix }) });
      webhooks.on(EVENT, (event) => void handled.set(event.data.messageId!, (handled.get(event.data.messageId!) ?? 0) + 1));
      webhooks.onError(() => {}); // the 409s of a copy still in flight elsewhere: retried by the sender
      const server = await listen(http.createServer(webhooks.middleware()));
      closers.push(server.close);
      urls.push(`${server.origin}/webhooks`);
    }
    const sender = createTestSender({ retries: 3, baseDelayMs: 20 });
    for (const url of urls) await sender.webhooks.create({ url, events: [EVENT], secret: SECRET });
    const ids = Array.from({ length: 1_000 }, (_, i) => `msg_${i}`);

    const reports = (await mapConcurrently(ids.length, 16, (i) => sender.send(EVENT, { ...sampleEvents[EVENT], messageId: ids[i] }))).flat();

    expect(reports.filter((report) => !report.delivered).map(summary)).toEqual([]);
    expect(ids.filter((id) => handled.get(id) !== 1)).toEqual([]);
    const answers = reports.map((report) => (report.attempts.at(-1)!.response as { duplicate?: boolean }).duplicate === true);
    expect(answers.filter(Boolean)).toHaveLength(1_000); // of each delivery's two copies, one ran and one was told duplicate
  }, 60_000);
});

function summary(report: DeliveryReport): string {
  return `${report.url}: ${report.attempts.map((a) => a.status ?? a.error).join(', ')}`;
}
