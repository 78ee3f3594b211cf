import { parseArgs } from 'node:util';
import { HELP_OPTION, parseOrUsage, printHelp, UsageError, type CliIo, type Command } from './io.js';
import { failed, failedDetails, retry, retryAll, retrying, SHORT_ID, status } from './queue-jobs.js';
import { openQueue, type QueueAddress } from './queue-connection.js';

export const REDIS_ENV = 'REDIS_URL';
/** DEFAULT_QUEUE_NAME of src/queue/job.ts, which cannot be imported here: it loads bullmq, an optional peer. */
export const DEFAULT_QUEUE = 'aicommerce-webhooks';
const ACTIONS = ['status', 'retrying', 'failed', 'retry'] as const;
type Action = (typeof ACTIONS)[number];

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
  summary: 'the queued deliveries (BullMQ): status, retrying, failed, retry',
  usage: `Usage: aicommerce-webhooks queue status [--json] [options]
       aicommerce-webhooks queue retrying [--json] [options]
       aicommerce-webhooks queue failed [<id>...] [--json] [options]
       aicommerce-webhooks queue retry <id>... | --all [options]

Looks into the BullMQ queue of a queued receiver (aicommerce-webhooks/bullmq).

  status    how many jobs are waiting, active, retrying (waiting for their next
            attempt), completed and failed, whether the queue is paused, and how many
            workers are connected; warns (stderr) when jobs wait and no worker is
  retrying  the jobs waiting for their next attempt, soonest first, one a line:
            <id>  <event>  attempt <n>/<N> at <when>  <last error>
  failed    the failed jobs (the dead letters), newest first, one a line:
            <id>  <event>  <n> attempts  <failed at>  <last error>
            With ids: each of those jobs in full, with its last stack.
  retry     puts failed jobs back in the queue for one more attempt: the jobs with
            these ids, or --all of them. A retried job that fails again is back
            among the failed after that attempt.

An id is the delivery id; listings print its first ${SHORT_ID} hex digits, and any prefix of
8 or more that only one failed job's id starts with names that job.

Options:
  --redis <url>      redis://[user:password@]host:port[/db] or rediss://… (default: $${REDIS_ENV})
  --queue <name>     the queue's name (default ${DEFAULT_QUEUE})
  --prefix <prefix>  BullMQ's key prefix, if the queue was made with one (default bull)
  --timeout <ms>     how long to wait for Redis to connect, and for each answer (default 5000)
  --json             one JSON object (status) or one a line (the listings), with whole ids
  --all              retry: every failed job
  -h, --help         show this help

Exit status: 0 done; 1 Redis unreachable, no such queue, or an id that names no failed job;
2 usage error.
`,
  async run(args, io) {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }));
    if (values.help === true) return printHelp(io, this.usage);
    const [action, ...ids] = positionals;
    if (action === undefined) throw new UsageError(`missing what to do: ${ACTIONS.join(', ')}`);
    if (!isAction(action)) throw new UsageError(`unknown queue command '${action}': expected ${ACTIONS.join(', ')}`);
    if ((action === 'status' || action === 'retrying') && ids.length > 0) throw new UsageError(`queue ${action} takes no arguments, got '${ids.join(' ')}'`);
    if (action !== 'retry' && values.all === true) throw new UsageError('--all is for queue retry');
    if (action === 'retry' && values.json === true) throw new UsageError('--json is for queue status, retrying and failed');
    if (action === 'retry' && values.all !== true && ids.length === 0) throw new UsageError('queue retry takes the ids of the jobs to retry, or --all');
    if (action === 'retry' && values.all === true && ids.length > 0) throw new UsageError('queue retry takes job ids or --all, not both');
    const address = addressFrom(values, io.env);

    const { queue: opened, client, failure, close } = await openQueue(address);
    const json = values.json === true;
    const unique = [...new Set(ids)];
    try {
      if (action === 'status') return await status(opened, json, io);
      if (action === 'retrying') return await retrying(opened, client, json, io);
      if (action === 'failed') return unique.length === 0 ? await failed(opened, json, io) : await failedDetails(opened, unique, json, io);
      return values.all === true ? await retryAll(opened, io) : await retry(opened, unique, io);
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
