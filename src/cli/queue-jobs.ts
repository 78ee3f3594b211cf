import type { Job, Queue } from 'bullmq';
import type { CliIo } from './io.js';
import type { OpenQueue } from './queue-connection.js';

// What `aicommerce-webhooks queue` reads and does, one function a command: the counts, the dead
// letters, the jobs waiting for a retry, and a retry. Ids are printed shortened, as git prints
// commits, and taken back as any unique prefix of 8 or more hex digits.

/** Jobs fetched at a time: their bodies come along, so not all at once. */
const PAGE = 100;
/** How many hex digits of a delivery id a listing prints. */
export const SHORT_ID = 12;
const MIN_PREFIX = 8;

const short = (id: string | undefined): string => (id !== undefined && /^[0-9a-f]{64}$/.test(id) ? id.slice(0, SHORT_ID) : String(id));
const iso = (ms: number | undefined): string | null => (ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString());
const oneLine = (text: string | undefined): string => (text ?? '-').replace(/\s+/g, ' ').trim();
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
/** BullMQ stores no `attempts` (0) for a job added without it: one attempt. */
const attemptsOf = (job: Job): number => Math.max(1, job.opts.attempts ?? 1);

export interface Status {
  waiting: number;
  active: number;
  /** Delayed jobs: each waits for its next attempt. */
  retrying: number;
  completed: number;
  failed: number;
  paused: boolean;
  /** Workers connected to the queue now; `null` where Redis does not list its clients (CLIENT LIST refused). */
  workers: number | null;
}

/** The jobs by state, whether the queue is paused (BullMQ 6 keeps a paused queue's jobs in waiting), and its workers. */
export async function status(queue: Queue, json: boolean, io: CliIo): Promise<number> {
  const [counts, paused, workers] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
    queue.isPaused(),
    queue.getWorkers().then(
      (clients) => (clients.some((client) => / does not support /.test(client['name'] ?? '')) ? null : clients.length),
      () => null,
    ),
  ]);
  const report: Status = {
    waiting: counts['waiting'] ?? 0,
    active: counts['active'] ?? 0,
    retrying: counts['delayed'] ?? 0,
    completed: counts['completed'] ?? 0,
    failed: counts['failed'] ?? 0,
    paused,
    workers,
  };
  if (json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else io.stdout.write(Object.entries(report).map(([name, value]) => `${name.padEnd(10)} ${value === true ? 'yes' : value === false ? 'no' : (value ?? 'unknown')}\n`).join(''));
  const pending = report.waiting + report.retrying;
  if (pending > 0 && workers === 0) {
    io.stderr.write(
      `aicommerce-webhooks queue: warning: ${plural(pending, 'job')} wait${pending === 1 ? 's' : ''} and no worker is connected to queue '${queue.name}' ` +
        `(prefix '${queue.opts.prefix ?? 'bull'}'): start one, or check the worker's queueName and prefix\n`,
    );
  }
  return 0;
}

/** Pages through `ids` (a set as it was when read), writing a line per job still there; a listing cut short by its reader stops. */
async function list(queue: Queue, ids: readonly string[], io: CliIo, keep: (job: Job) => boolean, write: (job: Job) => string): Promise<void> {
  for (let start = 0; start < ids.length; start += PAGE) {
    const jobs = await Promise.all(ids.slice(start, start + PAGE).map((id) => queue.getJob(id)));
    for (const job of jobs) {
      if (io.stdout.writable === false) return;
      if (job !== undefined && keep(job)) io.stdout.write(write(job));
    }
  }
}

function failedRecord(job: Job) {
  return { id: job.id, event: job.name, attemptsMade: job.attemptsMade, failedReason: job.failedReason, failedAt: iso(job.finishedOn) };
}

/** The failed set (the dead letters), newest first, one line a job; or, given ids, each of those with its last stack. */
export async function failed(queue: Queue, json: boolean, io: CliIo): Promise<number> {
  const ids = await queue.getRanges(['failed'], 0, -1, false);
  // Gone, or retried, since the ids were read: no longer failed.
  await list(queue, ids, io, (job) => job.failedReason !== undefined && job.finishedOn !== undefined, (job) => {
    if (json) return `${JSON.stringify(failedRecord(job))}\n`;
    const { event, attemptsMade, failedReason, failedAt } = failedRecord(job);
    return `${short(job.id)}  ${event}  ${plural(attemptsMade, 'attempt')}  ${failedAt ?? '-'}  ${oneLine(failedReason)}\n`;
  });
  if (ids.length === 0 && !json) io.stdout.write('no failed jobs\n');
  return 0;
}

/** Each named failed job in full: id, event, attempts, when, why, and its last stack. */
export async function failedDetails(queue: Queue, ids: readonly string[], json: boolean, io: CliIo): Promise<number> {
  const { found, problems } = await resolve(queue, ids, '');
  for (const id of found) {
    const job = await queue.getJob(id);
    if (job === undefined) continue;
    const stack = job.stacktrace?.at(-1) ?? null;
    if (json) io.stdout.write(`${JSON.stringify({ ...failedRecord(job), attempts: attemptsOf(job), stack })}\n`);
    else {
      const fields: [string, string][] = [
        ['id', String(job.id)],
        ['event', job.name],
        ['attempts', `${job.attemptsMade} of ${attemptsOf(job)}`],
        ['failed at', iso(job.finishedOn) ?? '-'],
        ['reason', oneLine(job.failedReason)],
      ];
      io.stdout.write(fields.map(([name, value]) => `${name.padEnd(10)} ${value}\n`).join(''));
      if (stack !== null) io.stdout.write(`${stack.replace(/^/gm, '  ')}\n`);
      io.stdout.write('\n');
    }
  }
  for (const problem of problems) io.stderr.write(`aicommerce-webhooks queue: ${problem}\n`);
  return problems.length === 0 ? 0 : 1;
}

/** The jobs waiting for their next attempt, soonest first: id, event, which attempt of how many, when, the last error. */
export async function retrying(queue: Queue, client: OpenQueue['client'], json: boolean, io: CliIo): Promise<number> {
  // BullMQ scores a delayed job by its due time × 4096 (the low 12 bits keep FIFO order within a millisecond).
  const entries = await client.zRangeWithScores(queue.toKey('delayed'), 0, -1);
  const due = new Map(entries.map(({ value, score }) => [value, Math.floor(score / 4096)]));
  await list(queue, [...due.keys()], io, () => true, (job) => {
    const record = {
      id: job.id,
      event: job.name,
      attemptsMade: job.attemptsMade,
      attempts: attemptsOf(job),
      nextAttemptAt: iso(due.get(job.id!)),
      failedReason: job.failedReason ?? null,
    };
    if (json) return `${JSON.stringify(record)}\n`;
    return `${short(job.id)}  ${record.event}  attempt ${record.attemptsMade + 1}/${record.attempts} at ${record.nextAttemptAt ?? '-'}  ${oneLine(job.failedReason)}\n`;
  });
  if (due.size === 0 && !json) io.stdout.write('no jobs waiting for a retry\n');
  return 0;
}

/** BullMQ's own `job.retry()`, one job at a time, so each id that is not a failed job is named. */
export async function retry(queue: Queue, ids: readonly string[], io: CliIo): Promise<number> {
  const { found, problems } = await resolve(queue, ids, ': nothing to retry');
  let retried = 0;
  for (const id of found) {
    const job = await queue.getJob(id);
    if (job === undefined) continue; // removed since it was found
    await job.retry('failed');
    retried++;
  }
  io.stdout.write(`retried ${plural(retried, 'job')}\n`);
  for (const problem of problems) io.stderr.write(`aicommerce-webhooks queue: ${problem}\n`);
  return problems.length === 0 ? 0 : 1;
}

/** BullMQ's `queue.retryJobs()`: every job in the failed set now. */
export async function retryAll(queue: Queue, io: CliIo): Promise<number> {
  const count = await queue.getFailedCount();
  await queue.retryJobs({ state: 'failed' });
  io.stdout.write(`retried ${plural(count, 'job')}\n`);
  return 0;
}

/**
 * The failed jobs the given ids name: a whole id, or a prefix of 8 or more hex digits that only one
 * failed job's id starts with (as the listings print them). Each id that names none is a problem that says why.
 */
async function resolve(queue: Queue, given: readonly string[], consequence: string): Promise<{ found: string[]; problems: string[] }> {
  const failedIds = await queue.getRanges(['failed'], 0, -1, false);
  const failedSet = new Set(failedIds);
  const found = new Set<string>();
  const problems: string[] = [];
  for (const id of given) {
    if (failedSet.has(id)) {
      found.add(id);
      continue;
    }
    const isPrefix = /^[0-9a-f]+$/i.test(id) && id.length < 64;
    if (isPrefix && id.length < MIN_PREFIX) {
      problems.push(`'${id}' is too short: give at least ${MIN_PREFIX} hex digits of the id`);
      continue;
    }
    const matches = isPrefix ? failedIds.filter((candidate) => candidate.startsWith(id.toLowerCase())) : [];
    if (matches.length === 1) found.add(matches[0]!);
    else if (matches.length > 1) problems.push(`'${id}' starts ${matches.length} failed jobs' ids: give more digits`);
    else problems.push(await notFailed(queue, id, isPrefix, consequence));
  }
  return { found: [...found], problems };
}

/** Why an id names no failed job: no such job, or one in another state. */
async function notFailed(queue: Queue, id: string, isPrefix: boolean, consequence: string): Promise<string> {
  const state = isPrefix ? 'unknown' : await queue.getJobState(id);
  if (state !== 'unknown') return `job '${id}' is ${state === 'delayed' ? 'waiting for a retry' : state}, not failed${consequence}`;
  return isPrefix ? `no failed job's id starts with '${id}' in queue '${queue.name}'` : `no job '${id}' in queue '${queue.name}'`;
}
