import { HTTP_CONTENDERS, type HttpContender, type HttpStats } from './http.js';
import type { MemoryResult } from './memory.js';
import { BARE_HMAC, FLOOR, OUR_VERIFY, OURS, OURS_WITHOUT_OTEL, type MicroResult } from './micro.js';
import { markdownTable, megabytes, ratio } from './table.js';

// The targets of issue 6, each checked against this run's own figures.

export interface Measured {
  readonly perDelivery: MicroResult;
  readonly largeBody: MicroResult;
  readonly http: ReadonlyMap<HttpContender, HttpStats>;
  readonly memory: MemoryResult;
}

interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const MB = 1024 * 1024;

export function targets({ perDelivery, largeBody, http, memory }: Measured): Target[] {
  const rps = (name: HttpContender): number => http.get(name)!.requestsPerSecond;
  const receiveRatio = perDelivery.ns.get(OURS)! / perDelivery.ns.get(FLOOR)!;
  const otelRatio = perDelivery.ns.get(OURS)! / perDelivery.ns.get(OURS_WITHOUT_OTEL)!;
  const verifyRatio = largeBody.ns.get(OUR_VERIFY)! / largeBody.ns.get(BARE_HMAC)!;
  const nodeRatio = rps('oursNode') / rps('limit');
  const expressRatio = rps('oursExpress') / rps('expressJson');
  const octokitRatio = rps('oursExpress') / rps('octokit');
  const growth = Math.max(memory.heapGrowth.receive, memory.heapGrowth.middleware);
  const mismatched = [...http].filter(([, stats]) => !stats.runsMatch).map(([name]) => HTTP_CONTENDERS[name].label);
  return [
    { target: 'receive() ≤ 1.3 × the floor, per 1 KB delivery', measured: ratio(receiveRatio), met: receiveRatio <= 1.3 },
    { target: 'receive() with @opentelemetry/api and no SDK ≤ 1.03 × without the API', measured: ratio(otelRatio), met: otelRatio <= 1.03 },
    { target: 'middleware on node:http ≥ 0.9 × the limit handler, requests/s', measured: ratio(nodeRatio), met: nodeRatio >= 0.9 },
    { target: 'middleware in Express 5 ≥ 1.0 × the bare express.json() route', measured: ratio(expressRatio), met: expressRatio >= 1.0 },
    { target: 'middleware in Express 5 ≥ 1.0 × @octokit/webhooks in Express 5', measured: ratio(octokitRatio), met: octokitRatio >= 1.0 },
    { target: '1 MiB verification ≤ 1.1 × the bare HMAC', measured: ratio(verifyRatio), met: verifyRatio <= 1.1 },
    { target: 'heap growth < 5 MB over 100,000 deliveries', measured: megabytes(growth), met: growth < 5 * MB },
    { target: 'peak RSS < 250 MB with 100 concurrent 1 MiB bodies', measured: megabytes(memory.peakRss), met: memory.peakRss < 250 * MB },
    { target: 'every 2xx was a handler run, on every server', measured: mismatched.length === 0 ? 'yes' : `not on: ${mismatched.join(', ')}`, met: mismatched.length === 0 },
  ];
}

export const targetsTable = (rows: readonly Target[]): string =>
  `Targets:\n\n${markdownTable(['target', 'measured', 'met'], rows.map((row) => [row.target, row.measured, row.met ? 'met' : 'MISSED']))}`;
