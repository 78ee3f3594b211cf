import { Queue, type JobsOptions } from 'bullmq';
import autocannon, { type Result } from 'autocannon';
import { createClient } from 'redis';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue } from 'aicommerce-webhooks/bullmq';
import { startServer, startWorker, type ServerProcess, type WorkerProcess } from './child.js';
import { distinctDeliveries, distinctProductDeliveries, PRODUCT_EVENT, SECRET, WEBHOOK_PATH } from './payload.js';
import { findRedisServer, startRedis, type BenchRedis } from './redis.js';
import { deadLetterBytes, memoryUsage, startLatency, usedMemory, type StartLatency } from './queue-production.js';
import { integer, markdownTable, ratio } from './table.js';

// Queued mode (issue 9) against what a user would write by hand on the same Redis: each server and
// each worker in its own process, one private redis-server for the section, autocannon here. Every
// request carries a delivery of its own (a repeated body would add no job after the first), the
// queue is obliterated before every round so each side adds into (or drains) the same state, and
// rounds alternate A, B, B, A … so drift on a shared machine lands on each side alike.

const QUEUE_NAME = 'aicommerce-bench';

export const QUEUE_CONTENDERS = {
  queueOurs: { server: 'queue-ours', extras: undefined, label: 'aicommerce-webhooks middleware on node:http, queued (BullMQDeliveryQueue)' },
  queueBare: { server: 'queue-bare', extras: '', label: 'node:http by hand: body + HMAC + JSON.parse + queue.add(event, { body }, { jobId })' },
  queueBareAsOurs: {
    server: 'queue-bare',
    extras: 'headers,options,timeout',
    label: 'the same by hand + what the receiver adds: headers and url in the job, its job options, the 3 s timeout race',
  },
  // One of the receiver's additions at a time, for an A/B with --servers.
  queueBareHeaders: { server: 'queue-bare', extras: 'headers', label: 'by hand + headers and url in the job' },
  queueBareOptions: { server: 'queue-bare', extras: 'options', label: "by hand + the receiver's job options (attempts, backoff, retention)" },
  queueBareTimeout: { server: 'queue-bare', extras: 'timeout', label: 'by hand + the 3 s timeout race' },
  // Both again on a node-redis client without its per-command timeout, for what that costs each.
  queueOursNoCommandTimeout: {
    server: 'queue-ours',
    extras: 'no-command-timeout',
    label: 'aicommerce-webhooks middleware, queued, node-redis commandOptions: { timeout: 0 }',
  },
  queueBareNoCommandTimeout: { server: 'queue-bare', extras: 'no-command-timeout', label: 'by hand, node-redis commandOptions: { timeout: 0 }' },
} as const;

export type QueueContender = keyof typeof QUEUE_CONTENDERS;
export const isQueueContender = (name: string): name is QueueContender => Object.hasOwn(QUEUE_CONTENDERS, name);
const DEFAULT_CONTENDERS: readonly QueueContender[] = ['queueOurs', 'queueBare', 'queueBareAsOurs'];

const INLINE_LABEL = 'aicommerce-webhooks middleware on node:http, inline (no-op handler, dedupe off)';

export interface QueueOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** For requests/s and CPU, as the HTTP section. */
  readonly connections: number;
  /** For the p99 of the 202 beside the inline 200. */
  readonly latencyConnections: number;
  /** Jobs each worker round drains. */
  readonly jobs: number;
  readonly concurrency: number;
  /** Only these servers (an A/B of a few rows); default the receiver, the bare handler and the bare handler with the receiver's additions. */
  readonly only?: readonly QueueContender[] | undefined;
  /** The end-to-end rows: deliveries a second, for how long, to the queued server with 2 worker processes. */
  readonly latency: { readonly rate: number; readonly seconds: number };
}

export interface QueueHttpStats {
  readonly requestsPerSecond: number;
  readonly p99: number;
  /** Server process CPU per request, µs. */
  readonly cpuPerRequest: number;
  /** redis-server CPU per request, µs. */
  readonly redisCpuPerRequest: number;
  readonly ok: number;
  readonly failed: number;
  /** Every 2xx left one job in Redis (plus at most one per connection for the requests in flight when a round ended). */
  readonly jobsMatch: boolean;
}

export interface WorkerStats {
  readonly jobsPerSecond: number;
  /** Worker process CPU per job, µs. */
  readonly cpuPerJob: number;
  readonly redisCpuPerJob: number;
  readonly completed: number;
  readonly failed: number;
}

export interface QueueResult {
  readonly table: string;
  /** Undefined when the section was skipped (no redis-server). */
  readonly http?: ReadonlyMap<QueueContender, QueueHttpStats>;
  readonly latency?: ReadonlyMap<string, QueueHttpStats>;
  readonly workers?: { readonly ours: WorkerStats; readonly bare: WorkerStats };
  /** Our worker on an ordered event, latest wins on and off (`order: false`), draining the same product jobs. */
  readonly orderedWorkers?: { readonly ordered: WorkerStats; readonly unordered: WorkerStats };
  /** Redis bytes each delivery leaves once its handlers are done (its deduplication key), from INFO memory over our worker's rounds. */
  readonly retainedBytes?: number;
  /** Redis bytes of a dead letter after 42 attempts (MEMORY USAGE of its job). */
  readonly deadLetterBytes?: number;
  /** From the 202 to the start of the handler, 2 worker processes. */
  readonly startLatency?: StartLatency;
}

const clientOf = (url: string) => createClient({ url });
export type Client = ReturnType<typeof clientOf>;

/** user + sys CPU seconds of redis-server, from INFO, in µs. */
async function redisCpuMicros(client: Client): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

function load(url: string, seconds: number, connections: number): Promise<Result> {
  const next = distinctDeliveries();
  return autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    requests: [{ setupRequest: (request) => ({ ...request, ...next() }) }],
  });
}

/** The job options a receiver writes (recorded from a real one), for the bare handler that copies them. */
async function receiverJobOptions(): Promise<JobsOptions> {
  let recorded: JobsOptions | undefined;
  const recorder = { add: async (_name: string, _data: unknown, options: JobsOptions) => void (recorded = options) } as unknown as Queue;
  const receiver = createWebhookReceiver({ secret: SECRET, queue: new BullMQDeliveryQueue({ queue: recorder }) });
  const { body, headers } = distinctDeliveries()();
  await receiver.receive({ body, signature: headers['x-webhook-signature'], headers, url: WEBHOOK_PATH });
  if (recorded === undefined) throw new Error('the receiver added no job');
  const { jobId: _jobId, ...options } = recorded;
  return options;
}

interface Tally {
  requests: number;
  seconds: number;
  p99s: number[];
  ok: number;
  failed: number;
  cpuMicros: number;
  redisMicros: number;
  jobsMatch: boolean;
}

const emptyTally = (): Tally => ({ requests: 0, seconds: 0, p99s: [], ok: 0, failed: 0, cpuMicros: 0, redisMicros: 0, jobsMatch: true });
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;

/** The servers given, `rounds` alternating rounds each, the queue emptied before each; `inline` answers 200 and adds no job. */
async function rounds(
  servers: ReadonlyMap<string, ServerProcess>,
  queue: Queue,
  client: Client,
  { rounds, seconds, warmupSeconds, connections }: { rounds: number; seconds: number; warmupSeconds: number; connections: number },
  inline: ReadonlySet<string> = new Set(),
): Promise<Map<string, QueueHttpStats>> {
  const names = [...servers.keys()];
  for (const name of names) await load(servers.get(name)!.url, warmupSeconds, connections); // JIT warm-up, not counted
  const tallies = new Map(names.map((name) => [name, emptyTally()]));
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const server = servers.get(name)!;
      await queue.obliterate({ force: true });
      const redisStart = await redisCpuMicros(client);
      const cpuStart = (await server.runs()).cpuMicros;
      const result = await load(server.url, seconds, connections);
      const tally = tallies.get(name)!;
      tally.cpuMicros += (await server.runs()).cpuMicros - cpuStart;
      tally.redisMicros += (await redisCpuMicros(client)) - redisStart;
      tally.requests += result.requests.total;
      tally.seconds += result.duration;
      tally.p99s.push(result.latency.p99);
      tally.ok += result['2xx'];
      tally.failed += result.non2xx + result.errors + result.timeouts;
      // Each 202 came after Redis acknowledged its job; adds still in flight when the round ended may add a few more.
      const jobs = await queue.count();
      const expected = inline.has(name) ? 0 : result['2xx'];
      if (jobs < expected || jobs > expected + (inline.has(name) ? 0 : connections)) tally.jobsMatch = false;
    }
  }
  await queue.obliterate({ force: true });
  return new Map(
    names.map((name) => {
      const t = tallies.get(name)!;
      return [
        name,
        {
          requestsPerSecond: t.requests / t.seconds,
          p99: median(t.p99s),
          cpuPerRequest: t.cpuMicros / t.requests,
          redisCpuPerRequest: t.redisMicros / t.requests,
          ok: t.ok,
          failed: t.failed,
          jobsMatch: t.jobsMatch,
        },
      ];
    }),
  );
}

/** Distinct signed deliveries, one per call (payload.ts). */
type Deliveries = () => () => { body: string; headers: Record<string, string> };

/** One receiver per queue for every fill: each BullMQDeliveryQueue listens for the Queue's errors once. */
const fillingReceivers = new WeakMap<Queue, ReturnType<typeof createWebhookReceiver>>();
function fillingReceiver(queue: Queue): ReturnType<typeof createWebhookReceiver> {
  let receiver = fillingReceivers.get(queue);
  if (receiver === undefined) fillingReceivers.set(queue, (receiver = createWebhookReceiver({ secret: SECRET, queue: new BullMQDeliveryQueue({ queue }) })));
  return receiver;
}

/** Fills the (emptied) queue with `count` distinct deliveries through a receiver's own enqueue path, 100 at a time. */
async function fill(queue: Queue, count: number, deliveries: Deliveries): Promise<void> {
  await queue.obliterate({ force: true });
  const receiver = fillingReceiver(queue);
  const next = deliveries();
  const headers = { host: '127.0.0.1', 'content-type': 'application/json', 'content-length': '', 'x-webhook-signature': '' };
  for (let sent = 0; sent < count; ) {
    const batch = Math.min(100, count - sent);
    await Promise.all(
      Array.from({ length: batch }, async () => {
        const delivery = next();
        const signature = delivery.headers['x-webhook-signature']!;
        const requestHeaders = { ...headers, 'content-length': String(Buffer.byteLength(delivery.body)), 'x-webhook-signature': signature };
        const { outcome } = await receiver.receive({ body: delivery.body, signature, headers: requestHeaders, url: WEBHOOK_PATH });
        if (outcome !== 'queued') throw new Error(`fill: a delivery was ${outcome}, not queued`);
      }),
    );
    sent += batch;
  }
  const waiting = await queue.count();
  if (waiting !== count) throw new Error(`fill: ${waiting} jobs waiting, not ${count}`);
}

/** Two workers draining the same pre-filled jobs (`deliveries`), alternating rounds after a warm-up of each. */
async function drainRounds<Name extends string>(
  workers: Readonly<Record<Name, WorkerProcess>>,
  queue: Queue,
  client: Client,
  { rounds, jobs, deliveries }: { rounds: number; jobs: number; deliveries: Deliveries },
): Promise<Record<Name, WorkerStats> & { retainedBytes: number }> {
  const names = Object.keys(workers) as Name[];
  const tallies = Object.fromEntries(names.map((name) => [name, { ms: 0, cpu: 0, redis: 0, completed: 0, failed: 0 }])) as Record<Name, { ms: number; cpu: number; redis: number; completed: number; failed: number }>;
  const retained: number[] = [];
  const drain = async (name: Name, count: number) => {
    await workers[name].prepare();
    // What the emptied queue holds, then what the drained one holds: the deliveries' deduplication keys, and
    // BullMQ's event stream (capped at ~10,000 entries whatever the traffic: set aside).
    await queue.obliterate({ force: true });
    const memoryBefore = await usedMemory(client);
    await fill(queue, count, deliveries);
    const redisStart = await redisCpuMicros(client);
    const result = await workers[name].drain(count);
    const redis = (await redisCpuMicros(client)) - redisStart;
    const waiting = await queue.getJobCountByTypes('waiting', 'active', 'delayed', 'completed');
    if (waiting !== 0) throw new Error(`${name} worker: ${result.completed} completed events, ${waiting} jobs still in Redis (completed jobs are removed at once)`);
    retained.push(((await usedMemory(client)) - memoryBefore - (await memoryUsage(client, queue.toKey('events')))) / count);
    return { ...result, redis };
  };
  for (const name of names) await drain(name, Math.max(100, jobs >> 2)); // warm-up, not counted
  retained.length = 0;
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const result = await drain(name, jobs);
      const tally = tallies[name];
      tally.ms += result.ms;
      tally.cpu += result.cpuMicros;
      tally.redis += result.redis;
      tally.completed += result.completed;
      tally.failed += result.failed;
    }
  }
  await queue.obliterate({ force: true });
  const stats = (name: Name): WorkerStats => {
    const t = tallies[name];
    const done = t.completed + t.failed;
    return { jobsPerSecond: done / (t.ms / 1000), cpuPerJob: t.cpu / done, redisCpuPerJob: t.redis / done, completed: t.completed, failed: t.failed };
  };
  return { ...(Object.fromEntries(names.map((name) => [name, stats(name)])) as Record<Name, WorkerStats>), retainedBytes: median(retained) };
}

async function openQueue(url: string): Promise<{ queue: Queue; client: Client; close(): Promise<void> }> {
  const client = clientOf(url);
  client.on('error', (error: unknown) => console.error('bench: Redis error', error));
  await client.connect();
  const queue = new Queue(QUEUE_NAME, { connection: client });
  await queue.waitUntilReady();
  return {
    queue,
    client,
    async close() {
      await queue.close();
      await client.close();
    },
  };
}

async function startServers(names: readonly QueueContender[], url: string, jobOptions: JobsOptions): Promise<Map<string, ServerProcess>> {
  const started = await Promise.all(
    names.map(async (name) => {
      const { server, extras } = QUEUE_CONTENDERS[name];
      const args = extras === undefined ? [url, QUEUE_NAME] : [url, QUEUE_NAME, extras, JSON.stringify(jobOptions)];
      return [name, await startServer(server, args)] as const;
    }),
  );
  return new Map(started);
}

const stopAll = async (processes: Iterable<{ stop(): Promise<void> }>): Promise<void> => void (await Promise.all([...processes].map((p) => p.stop())));

/** The section: skipped, with a line saying so, where redis-server is not installed. */
export async function queued(options: QueueOptions): Promise<QueueResult> {
  const bin = findRedisServer();
  if (bin === undefined) {
    return { table: 'Queued: SKIPPED — redis-server was not found on PATH (apt-get install -y redis-server); no queued figures, no queued targets.' };
  }
  const names = options.only ?? DEFAULT_CONTENDERS;
  const jobOptions = await receiverJobOptions();
  const measure = { rounds: options.rounds, seconds: options.seconds, warmupSeconds: options.warmupSeconds };

  let redis: BenchRedis | undefined;
  let connection: Awaited<ReturnType<typeof openQueue>> | undefined;
  const processes: { stop(): Promise<void> }[] = [];
  let http: Map<string, QueueHttpStats>;
  let latency: Map<string, QueueHttpStats>;
  let workers: { ours: WorkerStats; bare: WorkerStats; retainedBytes: number };
  let orderedWorkers: { ordered: WorkerStats; unordered: WorkerStats };
  let aof: Map<string, QueueHttpStats>;
  let deadLetter: { bytes: number; attempts: number };
  let started: StartLatency;
  try {
    redis = await startRedis(bin);
    connection = await openQueue(redis.url);
    const { queue, client } = connection;

    // 1. Requests/s and CPU per request, the receiver against the bare handler(s).
    const servers = await startServers(names, redis.url, jobOptions);
    processes.push(...servers.values());
    http = await rounds(servers, queue, client, { ...measure, connections: options.connections });

    // 3. The p99 of the 202 under more connections, beside the inline 200.
    const inline = await startServer('ours-node');
    processes.push(inline);
    const latencyServers = new Map<string, ServerProcess>([['inline', inline]]);
    for (const name of ['queueOurs', 'queueBare'] as const) if (servers.has(name)) latencyServers.set(name, servers.get(name)!);
    latency = await rounds(latencyServers, queue, client, { ...measure, connections: options.latencyConnections }, new Set(['inline']));
    await stopAll(processes.splice(0));

    // 2. The workers, draining the same pre-filled jobs.
    const args = [redis.url, QUEUE_NAME, String(options.concurrency)];
    const [ours, bare] = await Promise.all([startWorker('ours', args), startWorker('bare', args)]);
    processes.push(ours, bare);
    workers = await drainRounds({ ours, bare }, queue, client, { rounds: options.rounds, jobs: options.jobs, deliveries: distinctDeliveries });
    await stopAll(processes.splice(0));

    // 2b. Latest wins in the worker: the same product jobs (each of a product of its own, so each is applied), with and without it.
    const [ordered, unordered] = await Promise.all([startWorker('products', [...args, 'ordered']), startWorker('products', [...args, 'unordered'])]);
    processes.push(ordered, unordered);
    orderedWorkers = await drainRounds({ ordered, unordered }, queue, client, { rounds: options.rounds, jobs: options.jobs, deliveries: distinctProductDeliveries });
    await stopAll(processes.splice(0));

    // 4. What a dead letter keeps, and from the 202 to the handler's start with 2 worker processes.
    deadLetter = await deadLetterBytes(client);
    await queue.obliterate({ force: true });
    const [receiving] = (await startServers(['queueOurs'], redis.url, jobOptions)).values();
    processes.push(receiving!);
    started = await startLatency(receiving!.url, redis.url, QUEUE_NAME, { ...options.latency, concurrency: options.concurrency });
    await stopAll(processes.splice(0));
    await queue.obliterate({ force: true });
    await connection.close();
    connection = undefined;
    await redis.stop();
    redis = undefined;

    // What an append-only file fsynced every second costs: one round of each, on a Redis started with it.
    redis = await startRedis(bin, 'aof-everysec');
    connection = await openQueue(redis.url);
    const aofNames = names.filter((name) => name === 'queueOurs' || name === 'queueBare');
    const aofServers = await startServers(aofNames, redis.url, jobOptions);
    processes.push(...aofServers.values());
    aof = await rounds(aofServers, connection.queue, connection.client, { ...measure, rounds: 1, connections: options.connections });
  } finally {
    await stopAll(processes);
    await connection?.close();
    await redis?.stop();
  }
  const table = queueTable({ http, latency, workers, orderedWorkers, aof, deadLetter, started }, options);
  return {
    table,
    http: http as Map<QueueContender, QueueHttpStats>,
    latency,
    workers,
    orderedWorkers,
    retainedBytes: workers.retainedBytes,
    deadLetterBytes: deadLetter.bytes,
    startLatency: started,
  };
}

function queueTable(
  {
    http,
    latency,
    workers,
    orderedWorkers,
    aof,
    deadLetter,
    started,
  }: {
    http: Map<string, QueueHttpStats>;
    latency: Map<string, QueueHttpStats>;
    workers: { ours: WorkerStats; bare: WorkerStats; retainedBytes: number };
    orderedWorkers: { ordered: WorkerStats; unordered: WorkerStats };
    aof: Map<string, QueueHttpStats>;
    deadLetter: { bytes: number; attempts: number };
    started: StartLatency;
  },
  options: QueueOptions,
): string {
  const label = (name: string): string => (name === 'inline' ? INLINE_LABEL : QUEUE_CONTENDERS[name as QueueContender].label);
  const us = (value: number): string => `${value.toFixed(1)} µs`;
  const bare = http.get('queueBare');
  const httpRows = [...http].map(([name, s]) => [
    label(name),
    integer(s.requestsPerSecond),
    bare === undefined ? '–' : ratio(s.requestsPerSecond / bare.requestsPerSecond),
    us(s.cpuPerRequest),
    bare === undefined ? '–' : ratio(bare.cpuPerRequest / s.cpuPerRequest),
    us(s.redisCpuPerRequest),
    `${s.p99.toFixed(0)} ms`,
    integer(s.failed),
    integer(s.ok),
    s.jobsMatch ? 'yes' : 'NO',
  ]);
  // The target's ratio, then the same gap in two parts: the receiver against the bare handler that
  // stores the same job (its pipeline and adapter), and that handler against the bare one (the job's content).
  const pairs: [string, string, string][] = [
    ['queued middleware ÷ by hand (the target)', 'queueOurs', 'queueBare'],
    ['queued middleware ÷ by hand storing the same job', 'queueOurs', 'queueBareAsOurs'],
    ['by hand storing the same job ÷ by hand', 'queueBareAsOurs', 'queueBare'],
    ["queued middleware ÷ by hand, both without node-redis's command timeout", 'queueOursNoCommandTimeout', 'queueBareNoCommandTimeout'],
  ];
  const ratioRows = pairs
    .filter(([, a, b]) => http.has(a) && http.has(b))
    .map(([what, a, b]) => [what, ratio(http.get(a)!.requestsPerSecond / http.get(b)!.requestsPerSecond), ratio(http.get(b)!.cpuPerRequest / http.get(a)!.cpuPerRequest)]);
  const aofRows = [...aof].map(([name, s]) => [
    `${label(name)}, Redis with appendfsync everysec`,
    integer(s.requestsPerSecond),
    ratio(s.requestsPerSecond / (http.get(name)?.requestsPerSecond ?? Number.NaN)),
    us(s.cpuPerRequest),
    us(s.redisCpuPerRequest),
    `${s.p99.toFixed(0)} ms`,
    integer(s.failed),
    s.jobsMatch ? 'yes' : 'NO',
  ]);
  const latencyRows = [...latency].map(([name, s]) => [
    label(name),
    name === 'inline' ? '200' : '202',
    `${s.p99.toFixed(0)} ms`,
    integer(s.requestsPerSecond),
    integer(s.failed),
  ]);
  const workerRows = (
    [
      ['createWebhookWorker, one no-op on() handler', workers.ours],
      ['bare BullMQ Worker, no-op processor', workers.bare],
    ] as const
  ).map(([name, s]) => [
    name,
    integer(s.jobsPerSecond),
    ratio(s.jobsPerSecond / workers.bare.jobsPerSecond),
    us(s.cpuPerJob),
    ratio(workers.bare.cpuPerJob / s.cpuPerJob),
    us(s.redisCpuPerJob),
    integer(s.completed),
    integer(s.failed),
  ]);
  const orderedRows = (
    [
      ['createWebhookWorker, order: false', orderedWorkers.unordered],
      ['createWebhookWorker, latest wins (each job holds its product, then raises its mark)', orderedWorkers.ordered],
    ] as const
  ).map(([name, s]) => [
    name,
    integer(s.jobsPerSecond),
    ratio(s.jobsPerSecond / orderedWorkers.unordered.jobsPerSecond),
    us(s.cpuPerJob),
    us(s.redisCpuPerJob),
    integer(s.completed),
    integer(s.failed),
  ]);
  return [
    `Queued, into BullMQ (a private redis-server, --save '' --appendonly no; ~1 KB bodies, each request a delivery of its own; ` +
      `${options.connections} connections; ${options.rounds} alternating rounds of ${options.seconds} s per server after a ${options.warmupSeconds} s warm-up; ` +
      `the queue obliterated before each round):`,
    markdownTable(
      ['server', 'requests/s', '× by hand', 'server CPU per request', 'inverse × by hand', 'Redis CPU per request', 'p99', 'non-2xx + errors', '202s', 'one job per 202'],
      httpRows,
    ),
    markdownTable(['ratio', 'requests/s', 'inverse CPU per request'], ratioRows),
    `What durability costs: one round each on a redis-server with --appendonly yes --appendfsync everysec (same load; × the run above without it):`,
    markdownTable(['server', 'requests/s', '× without AOF', 'server CPU per request', 'Redis CPU per request', 'p99', 'non-2xx + errors', 'one job per 202'], aofRows),
    `The answer's p99 under ${options.latencyConnections} connections (${options.rounds} alternating rounds of ${options.seconds} s; median of the rounds' p99):`,
    markdownTable(['server', 'answer', 'p99', 'requests/s', 'non-2xx + errors'], latencyRows),
    `Workers draining ${integer(options.jobs)} jobs a round, filled through the receiver's own enqueue path (concurrency ${options.concurrency}; ` +
      `${options.rounds} alternating rounds after a warm-up; each round from a fresh connection):`,
    markdownTable(['worker', 'jobs/s', '× bare', 'worker CPU per job', 'inverse × bare', 'Redis CPU per job', 'completed', 'failed'], workerRows),
    `What latest wins costs a worker: ${integer(options.jobs)} \`${PRODUCT_EVENT}\` jobs a round, each of a product of its own (so each is applied), ` +
      `one no-op handler, the same rounds:`,
    markdownTable(['worker', 'jobs/s', '× order: false', 'worker CPU per job', 'Redis CPU per job', 'completed', 'failed'], orderedRows),
    `What Redis keeps (used_memory less the script cache; BullMQ's event stream, capped at ~10,000 entries whatever the traffic, set aside):`,
    markdownTable(
      ['kept', 'bytes', 'how'],
      [
        ['a delivery whose handlers are done (its deduplication key, until a copy can no longer be fresh)', integer(workers.retainedBytes), `INFO memory over each round of createWebhookWorker, ${integer(options.jobs)} jobs; median`],
        [`a dead letter after ${deadLetter.attempts} attempts (the job, its last stack only)`, integer(deadLetter.bytes), 'MEMORY USAGE of the job, ~1 KB body'],
      ],
    ),
    `From the 202 to the handler's start: ${integer(started.rate)} deliveries/s for ${options.latency.seconds} s to the queued middleware, ` +
      `2 createWebhookWorker processes (concurrency ${options.concurrency} each) draining; the handler's start less the moment its 202 arrived:`,
    markdownTable(
      ['sent', 'handlers started', 'p50', 'p99', 'max'],
      [[integer(started.sent), integer(started.started), `${started.p50.toFixed(1)} ms`, `${started.p99.toFixed(1)} ms`, `${started.max.toFixed(1)} ms`]],
    ),
  ].join('\n\n');
}
