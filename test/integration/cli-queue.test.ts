import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, type WebhookError } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue, createWebhookWorker, DEFAULT_QUEUE_NAME } from 'aicommerce-webhooks/bullmq';
import { createDelivery, createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';
import { runCli } from '../../src/cli/main.js';
import { DEFAULT_QUEUE } from '../../src/cli/queue.js';
import { bin, binPipedInto, cli } from '../helpers/cli.js';
import { closedPort, listen } from '../helpers/http.js';
import { copyBuiltPackage } from '../helpers/package-copy.js';
import { openTestQueue, type TestQueue } from '../helpers/queue.js';
import { describeRedis, useRedis, type TestRedisClient } from '../helpers/redis.js';

// `aicommerce-webhooks queue status | failed | retry` against a real redis-server, on a queue that a
// real receiver filled over HTTP and a real worker drained, with a handler that fails until "fixed".

const secret = 'queue-cli-secret';
/** A few ms between retries, and 3 attempts, so a failing job reaches the failed set at once. */
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 1, retryForMs: 1 };
/** The worker's records (one per failed attempt) are tested in test/integration/queue-silent.test.ts; here they would only be noise. */
const QUIET = { warn: () => {}, error: () => {} };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const counts = (queue: Queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
/** The delivery id as the listings print it. */
const short = (id: string | undefined) => id!.slice(0, 12);

describeRedis('aicommerce-webhooks queue (a real receiver, worker and Redis)', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let opened: TestQueue;
  let client: TestRedisClient;
  let queue: Queue;
  let name: string;
  let closeServer: () => Promise<void>;
  let worker: ReturnType<typeof createWebhookWorker>;
  let broken = true; // the handler's database is down until the test "fixes" it
  const runs: { id: string; attempt: number }[] = [];
  const reported: WebhookError[] = [];
  const failingIds: string[] = [];
  let completedId = '';
  const args = (...rest: string[]) => ['queue', ...rest, '--redis', redis.url, '--queue', name];
  const runsOf = (id: string) => runs.filter((run) => run.id === id).map((run) => run.attempt);

  beforeAll(async () => {
    redis = await useRedis();
    opened = await openTestQueue(redis.url);
    ({ client, queue, name } = opened);
    const webhooks = createWebhookReceiver({ secret, logger: QUIET, queue: new BullMQDeliveryQueue({ queue, retry: FAST_RETRY }) });
    webhooks.on('product.added', (_event, context) => {
      runs.push({ id: context.id, attempt: context.attempt });
      if (broken) throw new Error('database unavailable');
    });
    webhooks.on('chat.message.received', (_event, context) => void (completedId = context.id));
    webhooks.onError((error) => void reported.push(error));
    const server = await listen(http.createServer(webhooks.middleware()));
    closeServer = server.close;
    worker = createWebhookWorker(webhooks, { connection: client, queueName: name });

    const aicommerce = createTestSender({ retries: 0 });
    await aicommerce.webhooks.create({ url: `${server.origin}/webhooks`, events: ['product.added', 'chat.message.received'], secret });
    const sample = sampleEvents['product.added'];
    for (const sku of ['a', 'b', 'c']) {
      const [report] = await aicommerce.send('product.added', { ...sample, product: { ...sample.product, id: `prod_${sku}` } });
      expect(report?.attempts.map((a) => [a.status, a.response])).toEqual([[202, { received: true, queued: true }]]);
    }
    await aicommerce.send('chat.message.received', sampleEvents['chat.message.received']);
    // A hook, where expect.poll cannot run: vi.waitFor polls instead.
    await vi.waitFor(
      async () => {
        const now = await counts(queue);
        if (now['failed'] !== 3 || completedId === '') throw new Error(`waiting for 3 failed jobs and 1 completed: ${JSON.stringify(now)}`);
      },
      { timeout: 15_000, interval: 20 },
    );
    failingIds.push(...new Set(runs.map((run) => run.id)));
  });

  afterAll(async () => {
    await worker?.close();
    await closeServer?.();
    await opened?.close();
    await redis?.stop();
  });

  it('the jobs are real: 3 deliveries failed 3 attempts each and were reported once each, 1 completed', () => {
    expect(failingIds).toHaveLength(3);
    for (const id of failingIds) expect(runsOf(id)).toEqual([1, 2, 3]);
    expect(reported.map((error) => error.code)).toEqual(['handler_failed', 'handler_failed', 'handler_failed']);
    expect(completedId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('status prints the jobs by state (a completed job is removed at once), whether the queue is paused, and its workers; --json the same as one object', async () => {
    expect(await cli(args('status'))).toEqual({
      code: 0,
      stdout: 'waiting    0\nactive     0\nretrying   0\ncompleted  0\nfailed     3\npaused     no\nworkers    1\n',
      stderr: '',
    });
    const json = await cli(args('status', '--json'));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ waiting: 0, active: 0, retrying: 0, completed: 0, failed: 3, paused: false, workers: 1 });
    await queue.pause();
    try {
      expect((await cli(args('status'))).stdout).toMatch(/^paused {5}yes$/m);
    } finally {
      await queue.resume();
    }
  });

  it('takes Redis from REDIS_URL when --redis is not given', async () => {
    const { code, stdout } = await cli(['queue', 'status', '--queue', name], { env: { REDIS_URL: redis.url } });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^failed {5}3$/m);
  });

  it('failed prints one line per failed job, newest first: id (the delivery id’s first 12 hex digits), event, attempts, failed at, last error', async () => {
    const { code, stdout, stderr } = await cli(args('failed'));
    expect([code, stderr]).toEqual([0, '']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const jobs = await queue.getFailed();
    const newestFirst = [...jobs].sort((a, b) => b.finishedOn! - a.finishedOn!);
    expect(lines).toEqual(
      newestFirst.map((job) => `${short(job.id)}  product.added  3 attempts  ${new Date(job.finishedOn!).toISOString()}  Webhook handler failed: database unavailable`),
    );
    expect(new Set(jobs.map((job) => job.id))).toEqual(new Set(failingIds));
  });

  it('failed --json prints one JSON object a line', async () => {
    const { code, stdout } = await cli(args('failed', '--json'));
    expect(code).toBe(0);
    const records = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => r['id']).sort()).toEqual([...failingIds].sort());
    for (const record of records) {
      expect(record).toEqual({ id: expect.any(String), event: 'product.added', attemptsMade: 3, failedReason: 'Webhook handler failed: database unavailable', failedAt: expect.stringMatching(ISO) });
    }
  });

  it('failed stops listing once its reader has gone (stdout no longer writable)', async () => {
    const written: string[] = [];
    const stdout = { writable: true, write: (text: string) => void (written.push(text), (stdout.writable = false)) };
    const code = await runCli(args('failed'), { stdin: Readable.from([]), stdout, stderr: { write: () => {} }, env: {} });
    expect(code).toBe(0);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^[0-9a-f]{12} {2}product\.added {2}3 attempts /);
  });

  it('status and failed only read: no key of the queue is written', async () => {
    const snapshot = async () => {
      const keys = (await client.keys(`bull:${name}:*`)).sort();
      const types = await Promise.all(keys.map((key) => client.type(key)));
      const hashes = await Promise.all(keys.map((key, i) => (types[i] === 'hash' ? client.hGetAll(key) : null)));
      return { keys, hashes };
    };
    const before = await snapshot();
    expect(before.keys).toContain(`bull:${name}:meta`);
    await cli(args('status'));
    await cli(args('failed'));
    await cli(args('failed', '--json'));
    expect(await snapshot()).toEqual(before);
  });

  it('retry <id> while the handler still fails: one more attempt, then back among the failed, reported once more', async () => {
    const id = failingIds[0]!;
    expect(await cli(args('retry', id))).toEqual({ code: 0, stdout: 'retried 1 job\n', stderr: '' });
    await expect.poll(() => runsOf(id), { timeout: 15_000, message: 'the 4th attempt' }).toHaveLength(4);
    const failedAgain = async () => {
      const j = await queue.getJob(id);
      return j?.finishedOn !== undefined && j.failedReason !== undefined;
    };
    await expect.poll(failedAgain, { timeout: 15_000, message: 'the job fails again' }).toBe(true);
    const job = await queue.getJob(id);
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(4);
    expect(runsOf(id)).toEqual([1, 2, 3, 4]);
    await expect.poll(() => reported.length, { timeout: 15_000, message: 'onError hears the retried job' }).toBe(4);
  });

  it('retry of an unknown id, a completed one (removed at once), a prefix under 8 digits or one no failed id starts with, is an error: exit 1, each named on stderr, nothing retried', async () => {
    const { code, stdout, stderr } = await cli(args('retry', 'no-such-delivery', completedId, failingIds[0]!.slice(0, 7), 'ffffffff0'));
    expect(code).toBe(1);
    expect(stdout).toBe('retried 0 jobs\n');
    expect(stderr).toBe(
      `aicommerce-webhooks queue: no job 'no-such-delivery' in queue '${name}'\n` +
        `aicommerce-webhooks queue: no job '${completedId}' in queue '${name}'\n` +
        `aicommerce-webhooks queue: '${failingIds[0]!.slice(0, 7)}' is too short: give at least 8 hex digits of the id\n` +
        (failingIds.some((id) => id.startsWith('ffffffff0')) ? '' : `aicommerce-webhooks queue: no failed job's id starts with 'ffffffff0' in queue '${name}'\n`),
    );
    expect((await counts(queue))['waiting']).toBe(0);
  });

  it('after the fix, retry <id> runs the job again and it completes', async () => {
    broken = false;
    const id = failingIds[1]!;
    // The id as the listing prints it (12 digits), and its first 8: one job, retried once.
    expect(await cli(args('retry', short(id), id.slice(0, 8)))).toEqual({ code: 0, stdout: 'retried 1 job\n', stderr: '' });
    await expect.poll(() => runsOf(id), { timeout: 15_000, message: 'the retried job runs' }).toHaveLength(4);
    await expect.poll(() => queue.getJobState(id), { timeout: 15_000, message: 'the completed job is removed' }).toBe('unknown');
    expect(runsOf(id)).toEqual([1, 2, 3, 4]);
    expect(JSON.parse((await cli(args('status', '--json'))).stdout)).toMatchObject({ completed: 0, failed: 2 });
  });

  it('retry --all runs every failed job again; they complete, and the failed list is empty', async () => {
    expect(await cli(args('retry', '--all'))).toEqual({ code: 0, stdout: 'retried 2 jobs\n', stderr: '' });
    await expect.poll(() => runs.length, { timeout: 15_000, message: 'every retried job runs' }).toBe(13);
    await expect.poll(() => counts(queue), { timeout: 15_000, message: 'every job completed' }).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    expect(runsOf(failingIds[0]!)).toEqual([1, 2, 3, 4, 5]);
    expect(runsOf(failingIds[2]!)).toEqual([1, 2, 3, 4]);
    expect(await cli(args('failed'))).toEqual({ code: 0, stdout: 'no failed jobs\n', stderr: '' });
    expect(await cli(args('failed', '--json'))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await cli(args('retry', '--all'))).toEqual({ code: 0, stdout: 'retried 0 jobs\n', stderr: '' });
    expect(reported).toHaveLength(4); // the retries that succeeded reported nothing
  });

  it('a name that is no queue there is an error that says what to check', async () => {
    const { code, stdout, stderr } = await cli(['queue', 'status', '--redis', redis.url, '--queue', `${name}-typo`]);
    expect([code, stdout]).toEqual([1, '']);
    expect(stderr).toBe(`aicommerce-webhooks queue: no queue '${name}-typo' with prefix 'bull' at ${redis.url}: check --queue and --prefix\n`);
  });

  it('--prefix finds a queue made with another key prefix (a hash tag, as on Redis Cluster)', async () => {
    const tagged = new Queue(name, { connection: client, prefix: '{aicommerce}' });
    try {
      await tagged.waitUntilReady();
      await expect.poll(() => client.exists(`{aicommerce}:${name}:meta`), { timeout: 15_000, message: 'the tagged queue exists' }).toBe(1);
      const { code, stdout } = await cli(['queue', 'status', '--json', '--redis', redis.url, '--queue', name, '--prefix', '{aicommerce}']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ waiting: 0, active: 0, retrying: 0, completed: 0, failed: 0, paused: false, workers: 0 });
    } finally {
      await tagged.obliterate({ force: true });
      await tagged.close();
    }
  });

  it('the built bin prints the same status', async () => {
    const status = await bin(['queue', 'status', '--queue', name], { env: { REDIS_URL: redis.url } });
    expect(status).toEqual({ code: 0, stdout: 'waiting    0\nactive     0\nretrying   0\ncompleted  0\nfailed     0\npaused     no\nworkers    1\n', stderr: '' });
  });
});

describeRedis('aicommerce-webhooks queue failed | head -1 (the built bin, a long dead-letter list)', () => {
  const JOBS = 1300; // lines of ~110 bytes: more than two pipe buffers (2 × 64 KiB)
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let opened: TestQueue;
  let client: TestRedisClient;
  let queue: Queue;
  let name: string;

  beforeAll(async () => {
    redis = await useRedis();
    opened = await openTestQueue(redis.url);
    ({ client, queue, name } = opened);
    const webhooks = createWebhookReceiver({ secret, logger: QUIET, queue: new BullMQDeliveryQueue({ queue, retry: FAST_RETRY }) });
    webhooks.on('product.added', () => {
      throw new Error('database unavailable');
    });
    webhooks.onError(() => {});
    const worker = createWebhookWorker(webhooks, { connection: client, queueName: name, concurrency: 50 });
    try {
      const sample = sampleEvents['product.added'];
      for (let i = 0; i < JOBS; i++) {
        const { body, headers } = createDelivery('product.added', { ...sample, product: { ...sample.product, id: `prod_${i}` } }, { secret });
        expect((await webhooks.receive({ body, signature: headers['x-webhook-signature'] })).outcome).toBe('queued');
      }
      await vi.waitFor(
        async () => {
          const failed = await queue.getFailedCount();
          if (failed !== JOBS) throw new Error(`waiting for ${JOBS} failed jobs: ${failed}`);
        },
        { timeout: 60_000, interval: 20 },
      );
    } finally {
      await worker.close();
    }
  }, 90_000);

  afterAll(async () => {
    await opened?.close();
    await redis?.stop();
  });

  it(`prints the first line and exits 0 with nothing on stderr, though ${JOBS} lines (far more than a pipe holds) were due`, async () => {
    const env = { REDIS_URL: redis.url };
    const whole = await bin(['queue', 'failed', '--queue', name], { env });
    expect(whole.code).toBe(0);
    expect(whole.stdout.split('\n')).toHaveLength(JOBS + 1);
    expect(whole.stdout.length).toBeGreaterThan(2 * 65_536); // more than head reads before it exits: later writes must meet a closed pipe

    const piped = await binPipedInto('head -1', ['queue', 'failed', '--queue', name], env);
    expect(piped).toEqual({ code: 0, stdout: `${whole.stdout.split('\n')[0]}\n`, stderr: '' });
    const json = await binPipedInto('head -2', ['queue', 'failed', '--json', '--queue', name], env);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(json.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { event: string }).event)).toEqual(['product.added', 'product.added']);
  });
});

describe('aicommerce-webhooks queue: Redis unreachable, silent, or not given', () => {
  it('a refused connection: exit 1 at once, a one-line message naming the Redis without its credentials', async () => {
    const port = await closedPort();
    for (const action of [['status'], ['failed'], ['retry', '--all']]) {
      const started = Date.now();
      const { code, stdout, stderr } = await cli(['queue', ...action, '--redis', `redis://admin:hunter2@127.0.0.1:${port}/0`]);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect([code, stdout]).toEqual([1, '']);
      expect(stderr).toBe(`aicommerce-webhooks queue: cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    }
  });

  it('a server that accepts and never answers: exit 1 after --timeout, not a hang', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      const { code, stderr } = await cli(['queue', 'status', '--redis', `redis://127.0.0.1:${port}`, '--timeout', '300']);
      const took = Date.now() - started;
      expect(code).toBe(1);
      expect(stderr).toBe(`aicommerce-webhooks queue: cannot reach Redis at redis://127.0.0.1:${port}: no answer within 300 ms\n`);
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('the built bin: exit 1 within seconds, the message and no stack', async () => {
    const port = await closedPort();
    const started = Date.now();
    const run = await bin(['queue', 'failed'], { env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `aicommerce-webhooks queue: cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n` });
  });

  const R = ['--redis', 'redis://127.0.0.1:1']; // nothing listens there: a connection tried would be exit 1, not 2
  it.each([
    ['no Redis at all', ['status'], {}, /no Redis: pass --redis <url> or set REDIS_URL/],
    ['an empty REDIS_URL', ['status'], { REDIS_URL: '' }, /no Redis: pass --redis <url> or set REDIS_URL/],
    ['a --redis that is not a URL', ['status', '--redis', '127.0.0.1:6379'], {}, /--redis must be a redis:\/\/ or rediss:\/\/ URL, got '127\.0\.0\.1:6379'/],
    ['a --redis of another scheme', ['status', '--redis', 'http://127.0.0.1:6379'], {}, /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    ['nothing to do', [...R], {}, /missing what to do: status, retrying, failed, retry/],
    ['an unknown action', [...R, 'purge'], {}, /unknown queue command 'purge': expected status, retrying, failed, retry/],
    ['arguments to status', [...R, 'status', 'abc'], {}, /queue status takes no arguments, got 'abc'/],
    ['arguments to retrying', [...R, 'retrying', 'abc', 'def'], {}, /queue retrying takes no arguments, got 'abc def'/],
    ['--all to status', [...R, 'status', '--all'], {}, /--all is for queue retry/],
    ['--json to retry', [...R, 'retry', '--all', '--json'], {}, /--json is for queue status, retrying and failed/],
    ['retry with neither ids nor --all', [...R, 'retry'], {}, /queue retry takes the ids of the jobs to retry, or --all/],
    ['retry with ids and --all', [...R, 'retry', 'abc', '--all'], {}, /queue retry takes job ids or --all, not both/],
    ['an empty --queue', [...R, 'status', '--queue', ''], {}, /--queue is empty/],
    ['an empty --prefix', [...R, 'status', '--prefix', ''], {}, /--prefix is empty/],
    ['a --timeout that is not a whole number', [...R, 'status', '--timeout', '1.5'], {}, /--timeout must be a whole number of ms ≥ 1, got '1\.5'/],
    ['a --timeout of 0', [...R, 'status', '--timeout', '0'], {}, /--timeout must be a whole number of ms ≥ 1/],
    ['an unknown option', [...R, 'status', '--host', 'x'], {}, /Unknown option '--host'/],
  ])('%s is a usage error: exit 2, the message and the usage on stderr, no connection tried', async (_, args, env, message) => {
    const { code, stdout, stderr } = await cli(['queue', ...args], { env });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('\n\nUsage: aicommerce-webhooks queue status ');
  });

  it('the default queue name is the one createWebhookWorker and the receiver use', async () => {
    expect(DEFAULT_QUEUE).toBe(DEFAULT_QUEUE_NAME);
    expect((await cli(['queue', '--help'])).stdout).toContain(`--queue <name>     the queue's name (default ${DEFAULT_QUEUE_NAME})`);
  });

  it('without bullmq and redis installed (optional peers), queue says what to install; sign works as before', async () => {
    const { dir, dispose } = copyBuiltPackage('aicommerce-no-peers-');
    try {
      const queueRun = await bin(['queue', 'status', '--redis', 'redis://127.0.0.1:1'], { cwd: dir });
      expect(queueRun.code).toBe(1);
      expect(queueRun.stderr).toMatch(/^aicommerce-webhooks queue: the queue commands need the optional packages bullmq and redis: npm install bullmq redis \(Cannot find package 'bullmq'/);
      const signRun = await bin(['sign', '--secret', 's'], { cwd: dir, stdin: '{}' });
      expect(signRun).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256=[0-9a-f]{64}\n$/) });
    } finally {
      dispose();
    }
  });
});
