import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';
import { listeningUrl, printed, runExample, type Running } from '../helpers/example-process.js';
import { connectClient, describeRedis, useRedis } from '../helpers/redis.js';

// examples/queue/ as a user runs it: the receiver and the worker as two processes (`tsx
// examples/queue/<file>`, against the built package) on one real Redis, the dashboard over HTTP.

const secret = 'example-secret';

describeRedis('examples/queue: receiver.ts and worker.ts, two processes on one Redis', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let env: Record<string, string>;
  let worker: Running;
  let receiver: Running;
  let url: string;

  beforeAll(async () => {
    redis = await useRedis();
    env = { REDIS_URL: redis.url, QUEUE_NAME: `aicommerce-test-${randomUUID()}`, AICOMMERCE_WEBHOOK_SECRET: secret };
    worker = runExample('queue/worker.ts', env);
    receiver = runExample('queue/receiver.ts', { ...env, PORT: '0' });
    url = await listeningUrl(receiver);
    await printed(worker, new RegExp(`Webhook worker ready: queue ${env['QUEUE_NAME']}, prefix bull, redis ${new URL(redis.url).host.replaceAll('.', '\.')}/0, concurrency 10$`, 'm'));
  });

  afterAll(async () => {
    await receiver?.stop();
    await worker?.stop();
    await redis?.stop();
  });

  it('answers 202 queued, and the worker process runs the typed handlers (the receiver process runs none)', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/aicommerce$/);
    const aicommerce = createTestSender({ retries: 0 });
    await aicommerce.webhooks.create({ url, events: ['chat.message.received', 'product.added'], secret });
    for (const event of ['chat.message.received', 'product.added'] as const) {
      const [report] = await aicommerce.send(event, sampleEvents[event]);
      expect(report?.attempts.map((a) => [a.status, a.response])).toEqual([[202, { received: true, queued: true }]]);
    }
    await expect.poll(() => worker.output.stdout).toMatch(/^chat\.message\.received [0-9a-f]{64} attempt 1: "Looking for running shoes" in sess_abc123$/m);
    await expect.poll(() => worker.output.stdout).toMatch(/^product\.added [0-9a-f]{64} attempt 1: Trail Runner 2$/m);
    expect(receiver.output.stdout).not.toMatch(/attempt \d/);
  });

  it('serves the bull-board dashboard: its page, and its API listing our queue with the counts', async () => {
    const board = `${new URL(url).origin}/admin/queues`;
    expect(receiver.output.stdout).toContain(`Queue dashboard on ${board}`);
    const page = await fetch(board);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>Bull Dashboard</title>');
    expect(html).toContain('<base href="/admin/queues/"');

    const api = await fetch(`${board}/api/queues`);
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string; type: string; counts: Record<string, number> }[] };
    expect(queues.map((q) => q.name)).toEqual([env['QUEUE_NAME']]);
    expect(queues[0]).toMatchObject({ type: 'bullmq', counts: { completed: 0, failed: 0, waiting: 0, active: 0, delayed: 0 } });
  });

  it('a forged delivery is rejected by the receiver (401) and never becomes a job', async () => {
    const aicommerce = createTestSender({ retries: 0 });
    await aicommerce.webhooks.create({ url, events: ['product.added'], secret: 'guessed' });
    const [report] = await aicommerce.send('product.added', sampleEvents['product.added']);
    expect(report?.attempts.map((a) => a.status)).toEqual([401]);
    await expect.poll(() => receiver.output.stdout).toContain('error 401 invalid_signature: Invalid signature');
    const api = (await (await fetch(`${new URL(url).origin}/admin/queues/api/queues`)).json()) as { queues: { counts: Record<string, number> }[] };
    expect(api.queues[0]?.counts).toMatchObject({ completed: 0, failed: 0, waiting: 0, active: 0, delayed: 0 });
  });

  it('SIGTERM: the worker closes and exits 0, quietly', async () => {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output.stdout).toMatch(/Worker stopped\n$/);
    expect(worker.output.stderr).toBe('');
  });

  it('a dead letter shows on the dashboard with its reason (here: a worker whose schema no longer takes the stored delivery)', async () => {
    const aicommerce = createTestSender({ retries: 0 });
    await aicommerce.webhooks.create({ url, events: ['product.updated'], secret });
    const [report] = await aicommerce.send('product.updated', sampleEvents['product.updated']);
    expect(report?.attempts.map((a) => a.status)).toEqual([202]); // stored while no worker runs

    // A later deploy's worker: product.updated now needs a field this delivery lacks, so no retry can help.
    const client = await connectClient(redis.url, { offlineQueue: true });
    const changed = createWebhookReceiver({ secret, schemas: { 'product.updated': z.object({ sku: z.string() }) } });
    changed.on('product.updated', () => {});
    changed.onError(() => {});
    const deployed = createWebhookWorker(changed, { connection: client, queueName: env['QUEUE_NAME']! });
    try {
      const board = `${new URL(url).origin}/admin/queues/api/queues?activeQueue=${encodeURIComponent(env['QUEUE_NAME']!)}&status=failed`;
      type Listing = { queues: { counts: Record<string, number>; jobs: { name: string; failedReason: string; attempts: number; data: unknown }[] }[] };
      await expect.poll(async () => ((await (await fetch(board)).json()) as Listing).queues[0]?.counts['failed']).toBe(1);
      const [listing] = ((await (await fetch(board)).json()) as Listing).queues;
      expect(listing?.jobs).toEqual([
        expect.objectContaining({
          name: 'product.updated',
          attempts: 1,
          failedReason: 'Payload does not match the event schema (data.sku: Invalid input: expected string, received undefined)',
          data: expect.objectContaining({ body: expect.stringContaining('"event":"product.updated"') }), // the page shows bodies: keep it behind auth
        }),
      ]);
    } finally {
      await deployed.close();
      await client.close();
    }
  });

  it('SIGTERM: the receiver stops taking requests and exits 0, quietly', async () => {
    receiver.child.kill('SIGTERM');
    expect(await receiver.exited).toBe(0);
    expect(receiver.output.stderr).toBe('');
  });
});
