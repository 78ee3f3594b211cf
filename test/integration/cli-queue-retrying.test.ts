import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { cli } from '../helpers/cli.js';
import { listen } from '../helpers/http.js';
import { openTestQueue, type TestQueue } from '../helpers/queue.js';
import { describeRedis, useRedis, type TestRedisClient } from '../helpers/redis.js';

// `aicommerce-webhooks queue retrying | failed <id> | retry <prefix>` and `send` against a queued
// receiver, on a real redis-server and real BullMQ: what an operator types, and what it prints.

const secret = 'whsec_queue_cli';

describeRedis('the queue commands an operator runs', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let opened: TestQueue;
  let client: TestRedisClient;
  let queue: Queue;
  let name: string;
  let worker: ReturnType<typeof createWebhookWorker>;
  let closeServer: () => Promise<void>;
  let url: string;
  const args = (...rest: string[]) => ['queue', ...rest, '--redis', redis.url, '--queue', name];
  /** Two dead letters whose ids share their first 10 hex digits, and one of another prefix. */
  const twins = [`abcdef0123${randomBytes(27).toString('hex')}`, `abcdef0123${randomBytes(27).toString('hex')}`];
  const single = `0123456789${randomBytes(27).toString('hex')}`;
  const warnings: string[] = [];

  beforeAll(async () => {
    redis = await useRedis();
    opened = await openTestQueue(redis.url);
    ({ client, queue, name } = opened);
    // The first retry an hour away (hourly for a day: 25 attempts): the job waits among the retrying for the whole test.
    const webhooks = createWebhookReceiver({ secret, logger: { warn: (_record, message) => void warnings.push(message), error: () => {} }, queue: new BullMQDeliveryQueue({ queue, retry: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000, jitter: 0 } }) });
    webhooks.on('product.added', () => {
      throw new Error('catalogue service down');
    });
    webhooks.onError(() => {});
    worker = createWebhookWorker(webhooks, { connection: client, queueName: name });
    const server = await listen(http.createServer(webhooks.middleware()));
    closeServer = server.close;
    url = `${server.origin}/webhooks`;
    const delivery = createDelivery('product.added', sampleEvents['product.added'], { secret });
    expect((await webhooks.receive({ body: delivery.body, signature: delivery.headers['x-webhook-signature'] })).outcome).toBe('queued');
    await vi.waitFor(async () => expect(await queue.getDelayedCount()).toBe(1), { timeout: 10_000, interval: 20 }); // a hook: no expect.poll
    // Jobs no handler of this worker takes (chat.message.sent): dead letters at once, with the ids we chose.
    for (const id of [...twins, single]) await queue.add('chat.message.sent', { body: '{}', headers: {} }, { jobId: id });
    await vi.waitFor(async () => expect(await queue.getFailedCount()).toBe(3), { timeout: 10_000, interval: 20 });
  });

  afterAll(async () => {
    await worker?.close();
    await closeServer?.();
    await opened?.close();
    await redis?.stop();
  });

  it('status counts the job waiting for its next attempt as retrying', async () => {
    const { code, stdout } = await cli(args('status', '--json'));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ waiting: 0, active: 0, retrying: 1, completed: 0, failed: 3, paused: false, workers: 1 });
  });

  it('retrying lists the job: short id, event, the next attempt of how many and when, the last error; --json with the whole id', async () => {
    const [job] = await queue.getDelayed();
    expect(warnings).toEqual(['Webhook handler failed on attempt 1 of 25; next try in 1 h']);
    const { code, stdout, stderr } = await cli(args('retrying'));
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(new RegExp(`^${job!.id!.slice(0, 12)}  product\\.added  attempt 2/25 at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  Webhook handler failed: catalogue service down\\n$`));
    const at = Date.parse(/ at (\S+) /.exec(stdout)![1]!);
    expect(at - job!.processedOn!).toBeGreaterThan(3_590_000); // an hour after the attempt that failed
    expect(at - job!.processedOn!).toBeLessThan(3_610_000);
    const json = JSON.parse((await cli(args('retrying', '--json'))).stdout);
    expect(json).toEqual({ id: job!.id, event: 'product.added', attemptsMade: 1, attempts: 25, nextAttemptAt: expect.any(String), failedReason: 'Webhook handler failed: catalogue service down' });
  });

  it('failed <prefix> shows that dead letter in full, its last stack included; --json the same as one object', async () => {
    const { code, stdout, stderr } = await cli(args('failed', single.slice(0, 8)));
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(
      new RegExp(
        `^id {9}${single}\\nevent {6}chat\\.message\\.sent\\nattempts {3}1 of 1\\nfailed at {2}\\S+Z\\nreason {5}No handler for 'chat\\.message\\.sent' in this worker: add one with on\\('chat\\.message\\.sent', …\\), then retry the failed job\\n {2}UnrecoverableError: No handler`,
      ),
    );
    const json = JSON.parse((await cli(args('failed', single, '--json'))).stdout);
    expect(json).toMatchObject({ id: single, event: 'chat.message.sent', attemptsMade: 1, attempts: 1, stack: expect.stringMatching(/^UnrecoverableError: No handler/) });
  });

  it('a prefix two failed ids start with is refused (give more digits); one under 8 digits too; the rest is retried', async () => {
    const { code, stdout, stderr } = await cli(args('retry', 'abcdef0123', 'abcd', single.slice(0, 12)));
    expect(code).toBe(1);
    expect(stdout).toBe('retried 1 job\n');
    expect(stderr).toBe(
      "aicommerce-webhooks queue: 'abcdef0123' starts 2 failed jobs' ids: give more digits\n" +
        "aicommerce-webhooks queue: 'abcd' is too short: give at least 8 hex digits of the id\n",
    );
    await expect.poll(() => queue.getFailedCount()).toBe(3); // no handler yet: failed again at once
    expect((await cli(args('retry', twins[0]!.slice(0, 11)))).stdout).toBe('retried 1 job\n'); // one more digit tells the twins apart
  });

  it('retrying and failed on a queue with neither: say so (and --json prints nothing)', async () => {
    const empty = new Queue(`aicommerce-test-${randomUUID()}`, { connection: client });
    try {
      await empty.waitUntilReady();
      const on = (...rest: string[]) => ['queue', ...rest, '--redis', redis.url, '--queue', empty.name];
      expect(await cli(on('retrying'))).toEqual({ code: 0, stdout: 'no jobs waiting for a retry\n', stderr: '' });
      expect(await cli(on('retrying', '--json'))).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(await cli(on('failed'))).toEqual({ code: 0, stdout: 'no failed jobs\n', stderr: '' });
      expect((await cli(on('status'))).stdout).toMatch(/^workers {4}0\n$/m); // no warning: nothing waits
      expect((await cli(on('status'))).stderr).toBe('');
    } finally {
      await empty.obliterate({ force: true });
      await empty.close();
    }
  });

  it('send prints 202 queued for a queued receiver, and an error answer with its message', async () => {
    const queued = await cli(['send', 'product.added', '--url', url, '--secret', secret, '--retries', '0']);
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/^ {2}attempt 1 {2}at \+\d+ ms {2}202 queued {2}\(\d+ ms\)$/m);
    const forged = await cli(['send', 'product.added', '--url', url, '--secret', 'guessed', '--retries', '0']);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/^ {2}attempt 1 {2}at \+\d+ ms {2}401 invalid_signature: Invalid signature {2}\(\d+ ms\)$/m);
  });
});
