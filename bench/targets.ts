import type { HttpContender, HttpStats } from './http.js';
import type { MemoryResult } from './memory.js';
import { BARE_HMAC, FLOOR, OUR_VERIFY, OURS, OURS_INSPECTED, OURS_ORDERED, OURS_UNORDERED, OURS_WITHOUT_OTEL, STORE_NEW, STORE_OLDEST, type MicroResult } from './micro.js';
import { QUEUE_CONTENDERS, type QueueResult } from './queue.js';
import { integer, markdownTable, megabytes, ratio } from './table.js';

// The targets of issues 6, 9, 10 and 15, each checked against this run's own figures (only those of the
// sections that ran, with --only).

export interface Measured {
  readonly perDelivery?: MicroResult | undefined;
  readonly largeBody?: MicroResult | undefined;
  readonly storeScale?: MicroResult | undefined;
  readonly http?: ReadonlyMap<HttpContender | `${HttpContender}@base`, HttpStats> | undefined;
  readonly memory?: MemoryResult | undefined;
  /** Without its figures when the section was skipped (no redis-server): then it sets no targets. */
  readonly queue?: QueueResult | undefined;
}

interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const MB = 1024 * 1024;

export function targets({ perDelivery, largeBody, storeScale, http, memory, queue }: Measured): Target[] {
  const rows: Target[] = [];
  if (perDelivery !== undefined) {
    const receiveRatio = perDelivery.ns.get(OURS)! / perDelivery.ns.get(FLOOR)!;
    rows.push({ target: 'receive() ≤ 1.3 × the floor, per 1 KB delivery', measured: ratio(receiveRatio), met: receiveRatio <= 1.3 });
    const otelRatio = perDelivery.ns.get(OURS)! / perDelivery.ns.get(OURS_WITHOUT_OTEL)!;
    rows.push({ target: 'receive() with @opentelemetry/api and no SDK ≤ 1.03 × without the API', measured: ratio(otelRatio), met: otelRatio <= 1.03 });
    const inspectorRatio = perDelivery.ns.get(OURS_INSPECTED)! / perDelivery.ns.get(OURS)!;
    rows.push({ target: 'receive() with the inspector mounted ≤ 1.05 × not mounted', measured: ratio(inspectorRatio), met: inspectorRatio <= 1.05 });
    const orderRatio = perDelivery.ns.get(OURS_ORDERED)! / perDelivery.ns.get(OURS_UNORDERED)!;
    rows.push({ target: 'receive() of an ordered event with latest wins (each delivery applied) ≤ 1.05 × order: false', measured: ratio(orderRatio), met: orderRatio <= 1.05 });
  }
  if (http !== undefined) rows.push(...httpTargets(http));
  if (storeScale !== undefined) {
    const scaleRatio = storeScale.ns.get(STORE_OLDEST)! / storeScale.ns.get(STORE_NEW)!;
    rows.push({ target: 'in-memory store at 100,000 entities: updating the oldest ≤ 4 × a new one (no walk over deleted slots)', measured: ratio(scaleRatio), met: scaleRatio <= 4 });
  }
  if (largeBody !== undefined) {
    const verifyRatio = largeBody.ns.get(OUR_VERIFY)! / largeBody.ns.get(BARE_HMAC)!;
    rows.push({ target: '1 MiB verification ≤ 1.1 × the bare HMAC', measured: ratio(verifyRatio), met: verifyRatio <= 1.1 });
  }
  if (memory !== undefined) {
    const growth = Math.max(memory.heapGrowth.receive, memory.heapGrowth.middleware);
    rows.push({ target: 'heap growth < 5 MB over 100,000 deliveries', measured: megabytes(growth), met: growth < 5 * MB });
    rows.push({ target: 'peak RSS < 250 MB with 100 concurrent 1 MiB bodies', measured: megabytes(memory.peakRss), met: memory.peakRss < 250 * MB });
  }
  if (queue !== undefined) rows.push(...queueTargets(queue));
  return rows;
}

function queueTargets({ http, workers, orderedWorkers, retainedBytes, deadLetterBytes }: QueueResult): Target[] {
  const rows: Target[] = [];
  const ours = http?.get('queueOurs');
  const bare = http?.get('queueBare');
  if (ours !== undefined && bare !== undefined) {
    const rps = ours.requestsPerSecond / bare.requestsPerSecond;
    const cpu = bare.cpuPerRequest / ours.cpuPerRequest;
    rows.push({ target: 'queued middleware on node:http ≥ 0.9 × the bare queue.add handler, in requests/s', measured: ratio(rps), met: rps >= 0.9 });
    rows.push({ target: 'queued middleware on node:http ≥ 0.9 × the bare queue.add handler, on server CPU per request', measured: ratio(cpu), met: cpu >= 0.9 });
  }
  if (http !== undefined) {
    const mismatched = [...http].filter(([, stats]) => !stats.jobsMatch).map(([name]) => QUEUE_CONTENDERS[name].label);
    rows.push({ target: 'every 202 stored one job, on every queued server', measured: mismatched.length === 0 ? 'yes' : `not on: ${mismatched.join(', ')}`, met: mismatched.length === 0 });
  }
  if (workers !== undefined) {
    const jobs = workers.ours.jobsPerSecond / workers.bare.jobsPerSecond;
    rows.push({ target: 'createWebhookWorker (no-op handler) ≥ 0.9 × a bare BullMQ Worker (no-op processor), in jobs/s', measured: ratio(jobs), met: jobs >= 0.9 });
  }
  if (orderedWorkers !== undefined) {
    const jobs = orderedWorkers.ordered.jobsPerSecond / orderedWorkers.unordered.jobsPerSecond;
    rows.push({ target: 'createWebhookWorker with latest wins (an ordered event, each job applied) ≥ 0.9 × with order: false, in jobs/s', measured: ratio(jobs), met: jobs >= 0.9 });
  }
  if (retainedBytes !== undefined) {
    rows.push({ target: 'Redis memory per retained delivery ≤ 400 B', measured: `${integer(retainedBytes)} B`, met: retainedBytes <= 400 });
  }
  if (deadLetterBytes !== undefined) {
    rows.push({ target: 'Redis memory of a dead letter after 42 attempts ≤ 4 KB', measured: `${integer(deadLetterBytes)} B`, met: deadLetterBytes <= 4096 });
  }
  return rows;
}

function httpTargets(http: ReadonlyMap<HttpContender | `${HttpContender}@base`, HttpStats>): Target[] {
  const rps = (name: HttpContender): number => http.get(name)!.requestsPerSecond;
  /** How many of `other`'s requests one of ours costs in server CPU, inverted: ≥ 1 means ours is leaner. */
  const cpu = (ours: HttpContender, other: HttpContender): number => http.get(other)!.cpuPerRequest / http.get(ours)!.cpuPerRequest;
  const both = (ours: HttpContender, other: HttpContender): boolean => http.has(ours) && http.has(other);
  const versus = (ours: HttpContender, other: HttpContender, floor: number, label: string): Target[] => {
    if (!both(ours, other)) return []; // a run of a few servers (--servers) checks only what it measured
    const measured = cpu(ours, other);
    return [{ target: label, measured: `${ratio(measured)} (requests/s ${ratio(rps(ours) / rps(other))})`, met: measured >= floor }];
  };
  const throughput = (ours: HttpContender, other: HttpContender, label: string): Target[] => {
    if (!both(ours, other)) return [];
    const measured = rps(ours) / rps(other);
    return [{ target: label, measured: ratio(measured), met: measured >= 1.0 }];
  };
  const mismatched = [...http].filter(([, stats]) => !stats.runsMatch).map(([name]) => name);
  return [
    ...versus('oursNode', 'limit', 0.85, 'middleware on node:http ≥ 0.85 × the hand-read limit handler, on server CPU per request'),
    ...versus('oursNode', 'rawBodyLimit', 0.9, 'middleware on node:http ≥ 0.9 × the raw-body limit handler, on server CPU per request'),
    ...throughput('oursExpress', 'expressJson', 'middleware in Express 5 ≥ 1.0 × the bare express.json() route'),
    ...throughput('oursExpress', 'octokit', 'middleware in Express 5 ≥ 1.0 × @octokit/webhooks in Express 5'),
    { target: 'every 2xx was a handler run, on every server', measured: mismatched.length === 0 ? 'yes' : `not on: ${mismatched.join(', ')}`, met: mismatched.length === 0 },
  ];
}

export const targetsTable = (rows: readonly Target[]): string =>
  `Targets:\n\n${markdownTable(['target', 'measured', 'met'], rows.map((row) => [row.target, row.measured, row.met ? 'met' : 'MISSED']))}`;
