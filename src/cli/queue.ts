import { parseArgs } from 'node:util';
import type { Job, Queue } from 'bullmq';
import { HELP_OPTION, parseOrUsage, printHelp, UsageError, type CliIo, type Command } from './io.js';
import { openQueue, type QueueAddress } from './queue-connection.js';

export const REDIS_ENV = 'REDIS_URL';
/** DEFAULT_QUEUE_NAME of src/queue/bullmq.ts, which cannot be imported here: it loads bullmq, an optional peer. */
export const DEFAULT_QUEUE = 'aicommerce-webhooks';
const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;
const ACTIONS = ['status', 'failed', 'retry'] as const;
type Action = (typeof ACTIONS)[number];
/** Failed jobs fetched at a time: their bodies come along, so not all at once. */
const PAGE = 100;

const OPTIONS = {
  ...HELP_OPTION,
  redis: { type: 'string' },
  queue: { type: 'string', default: DEFAULT_QUEUE },
  prefix: { type: 'string', default: 'bull' },
  timeout: { type: 'string', default: '5000' },
  json: { type: 'boolean' },
  all: { type: 'boolean' },
} as const;

export const queue: Command = {
  name: 'queue',
  summary: 'the queued deliveries (BullMQ): status, failed, retry',
  usage: `Usage: aicommerce-webhooks queue status [--json] [options]
       aicommerce-webhooks queue failed [--json] [options]
       aicommerce-webhooks queue retry <id>... | --all [options]

Looks into the BullMQ queue of a queued receiver (aicommerce-webhooks/bullmq).

  status   how many jobs are waiting, active, delayed, completed and failed, and
           whether the queue is paused
  failed   the failed jobs (the dead letters), newest first, one a line:
           <id>  <event>  <n> attempts  <failed at>  <last error>
  retry    puts failed jobs back in the queue for one more attempt: the jobs with
           these ids (the delivery ids), or --all of them. A retried job that fails
           again is back among the failed after that attempt.

Options:
  --redis <url>      redis://[user:password@]host:port[/db] or rediss://… (default: $${REDIS_ENV})
  --queue <name>     the queue's name (default ${DEFAULT_QUEUE})
  --prefix <prefix>  BullMQ's key prefix, if the queue was made with one (default bull)
  --timeout <ms>     how long to wait for Redis to connect, and for each answer (default 5000)
  --json             status: one JSON object; failed: one JSON object a line
  --all              retry: every failed job
  -h, --help         show this help

Exit status: 0 done; 1 Redis unreachable, no such queue, or a job to retry not found or not
failed; 2 usage error.
`,
  async run(args, io) {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }));
    if (values.help === true) return printHelp(io, this.usage);
    const [action, ...ids] = positionals;
    if (action === undefined) throw new UsageError(`missing what to do: ${ACTIONS.join(', ')}`);
    if (!isAction(action)) throw new UsageError(`unknown queue command '${action}': expected ${ACTIONS.join(', ')}`);
    if (action !== 'retry' && ids.length > 0) throw new UsageError(`queue ${action} takes no arguments, got '${ids.join(' ')}'`);
    if (action !== 'retry' && values.all === true) throw new UsageError('--all is for queue retry');
    if (action === 'retry' && values.json === true) throw new UsageError('--json is for queue status and queue failed');
    if (action === 'retry' && values.all !== true && ids.length === 0) throw new UsageError('queue retry takes the ids of the jobs to retry, or --all');
    if (action === 'retry' && values.all === true && ids.length > 0) throw new UsageError('queue retry takes job ids or --all, not both');
    const address = addressFrom(values, io.env);

    const { queue: opened, failure, close } = await openQueue(address);
    try {
      if (action === 'status') return await status(opened, values.json === true, io);
      if (action === 'failed') return await failed(opened, values.json === true, io);
      return values.all === true ? await retryAll(opened, io) : await retry(opened, [...new Set(ids)], io);
    } catch (error) {
      throw failure(error);
    } finally {
      await close();
    }
  },
};

const isAction = (name: string): name is Action => (ACTIONS as readonly string[]).includes(name);

function addressFrom(values: { redis?: string; queue: string; prefix: string; timeout: string }, env: CliIo['env']): QueueAddress {
  const url = values.redis ?? env[REDIS_ENV];
  if (url === undefined || url === '') throw new UsageError(`no Redis: pass --redis <url> or set ${REDIS_ENV}`);
  if (!URL.canParse(url) || !/^rediss?:$/.test(new URL(url).protocol)) throw new UsageError(`--redis must be a redis:// or rediss:// URL, got '${url}'`);
  if (values.queue === '') throw new UsageError('--queue is empty');
  if (values.prefix === '') throw new UsageError('--prefix is empty');
  if (!/^[1-9]\d{0,6}$/.test(values.timeout)) throw new UsageError(`--timeout must be a whole number of ms ≥ 1, got '${values.timeout}'`);
  return { url, name: values.queue, prefix: values.prefix, timeoutMs: Number(values.timeout) };
}

/** The jobs by state, and whether the queue is paused (BullMQ 6 keeps a paused queue's jobs in waiting). */
async function status(queue: Queue, json: boolean, io: CliIo): Promise<number> {
  const [counts, paused] = await Promise.all([queue.getJobCounts(...STATES), queue.isPaused()]);
  const report = { ...Object.fromEntries(STATES.map((state) => [state, counts[state] ?? 0])), paused };
  if (json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else io.stdout.write(Object.entries(report).map(([name, value]) => `${name.padEnd(10)} ${value === true ? 'yes' : value === false ? 'no' : value}\n`).join(''));
  return 0;
}

/** The failed set as it is now (its ids), then the jobs page by page: a listing cut short by its reader stops there. */
async function failed(queue: Queue, json: boolean, io: CliIo): Promise<number> {
  const ids = await queue.getRanges(['failed'], 0, -1, false);
  for (let start = 0; start < ids.length; start += PAGE) {
    const jobs = await Promise.all(ids.slice(start, start + PAGE).map((id) => queue.getJob(id)));
    for (const job of jobs) {
      if (io.stdout.writable === false) return 0;
      // Gone, or retried, since the ids were read.
      if (job === undefined || job.failedReason === undefined) continue;
      io.stdout.write(json ? `${JSON.stringify(failedRecord(job))}\n` : failedLine(job));
    }
  }
  if (ids.length === 0 && !json) io.stdout.write('no failed jobs\n');
  return 0;
}

function failedRecord(job: Job) {
  return {
    id: job.id,
    event: job.name,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason,
    failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn).toISOString(),
  };
}

function failedLine(job: Job): string {
  const { id, event, attemptsMade, failedReason, failedAt } = failedRecord(job);
  const attempts = `${attemptsMade} attempt${attemptsMade === 1 ? '' : 's'}`;
  return `${id}  ${event}  ${attempts}  ${failedAt ?? '-'}  ${failedReason.replace(/\s+/g, ' ').trim()}\n`;
}

/** BullMQ's own `job.retry()`, one job at a time, so each unknown or not failed id is named. */
async function retry(queue: Queue, ids: readonly string[], io: CliIo): Promise<number> {
  let retried = 0;
  const problems: string[] = [];
  for (const id of ids) {
    const job = await queue.getJob(id);
    const state = job === undefined ? undefined : await job.getState();
    if (job === undefined || state === 'unknown') problems.push(`no job '${id}' in queue '${queue.name}'`);
    else if (state !== 'failed') problems.push(`job '${id}' is ${state}, not failed: nothing to retry`);
    else {
      await job.retry('failed');
      retried++;
    }
  }
  io.stdout.write(`retried ${retried} job${retried === 1 ? '' : 's'}\n`);
  for (const problem of problems) io.stderr.write(`aicommerce-webhooks queue: ${problem}\n`);
  return problems.length === 0 ? 0 : 1;
}

/** BullMQ's `queue.retryJobs()`: every job in the failed set now. */
async function retryAll(queue: Queue, io: CliIo): Promise<number> {
  const count = await queue.getFailedCount();
  await queue.retryJobs({ state: 'failed' });
  io.stdout.write(`retried ${count} job${count === 1 ? '' : 's'}\n`);
  return 0;
}
