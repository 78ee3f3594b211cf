import autocannon, { type Result } from 'autocannon';
import { startServer, type ServerProcess } from './child.js';
import { signedHeaders, smallBody } from './payload.js';
import { integer, markdownTable, ratio } from './table.js';

// Over loopback: each server in its own process, autocannon here. Every round sends every server
// the same freshly signed request (one body, every peer's signature header), in the opposite order
// to the round before, so drift on a shared machine lands on each server alike.

export const HTTP_CONTENDERS = {
  drain: { server: 'drain', label: 'node:http, drain the body only' },
  limit: { server: 'limit', label: 'node:http, the limit: body read by hand + HMAC timingSafeEqual + JSON.parse' },
  rawBodyLimit: { server: 'raw-body-limit', label: 'node:http, the raw-body limit: body read by raw-body + HMAC timingSafeEqual + JSON.parse' },
  oursNode: { server: 'ours-node', label: 'aicommerce-webhooks middleware on node:http' },
  expressJson: { server: 'express-json', label: 'Express 5, express.json() route (verifies nothing)' },
  oursExpress: { server: 'ours-express', label: 'aicommerce-webhooks middleware in Express 5' },
  octokit: { server: 'octokit-express', label: '@octokit/webhooks createNodeMiddleware in Express 5' },
  stripe: { server: 'stripe-express', label: 'Stripe constructEvent behind express.raw, Express 5' },
} as const;

export type HttpContender = keyof typeof HTTP_CONTENDERS;

export interface HttpOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  /** Only these servers (an A/B of a few rows); default every one. */
  readonly only?: readonly HttpContender[] | undefined;
  /** Also run each of our servers as built from this commit (`--baseline <ref>`), in the same rounds. */
  readonly baseline?: { readonly commit: string; readonly benchDir: URL } | undefined;
}

/** A row of the section: a contender, or our contender as the baseline commit builds it (`<name>@base`). */
type Row = HttpContender | `${HttpContender}@base`;

const contenderOf = (row: Row): HttpContender => row.replace(/@base$/, '') as HttpContender;

export const isHttpContender = (name: string): name is HttpContender => Object.hasOwn(HTTP_CONTENDERS, name);

export interface HttpStats {
  readonly requestsPerSecond: number;
  readonly p99: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly runs: number;
  /** The server's own CPU time per request, in µs: robust to the load generator's share of the CPU. */
  readonly cpuPerRequest: number;
  /** Every 2xx was a handler run (runs may exceed it by the requests in flight when a round stopped). */
  readonly runsMatch: boolean;
}

interface Tally {
  requests: number;
  seconds: number;
  p99s: number[];
  ok: number;
  non2xx: number;
  errors: number;
  cpuMicros: number;
}

async function load(url: string, seconds: number, connections: number): Promise<Result> {
  const body = smallBody();
  return autocannon({ url, method: 'POST', headers: signedHeaders(body), body, connections, duration: seconds });
}

export async function overHttp(options: HttpOptions): Promise<{ table: string; stats: Map<Row, HttpStats> }> {
  const contenders = options.only ?? (Object.keys(HTTP_CONTENDERS) as HttpContender[]);
  const names: readonly Row[] = options.baseline === undefined ? contenders : contenders.flatMap((name) => (name.startsWith('ours') ? [name, `${name}@base` as const] : [name]));
  const servers = new Map<Row, ServerProcess>();
  try {
    const start = async (name: Row): Promise<readonly [Row, ServerProcess]> => [
      name,
      await startServer(HTTP_CONTENDERS[contenderOf(name)].server, [], name.endsWith('@base') ? options.baseline!.benchDir : undefined),
    ];
    for (const [name, server] of await Promise.all(names.map(start))) servers.set(name, server);
    const runsBefore = new Map<Row, number>();
    for (const name of names) {
      await load(servers.get(name)!.url, options.warmupSeconds, options.connections); // JIT warm-up, not counted
      runsBefore.set(name, (await servers.get(name)!.runs()).runs);
    }
    const tallies = new Map<Row, Tally>(names.map((name) => [name, { requests: 0, seconds: 0, p99s: [], ok: 0, non2xx: 0, errors: 0, cpuMicros: 0 }]));
    for (let round = 0; round < options.rounds; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const server = servers.get(name)!;
        const cpuStart = (await server.runs()).cpuMicros;
        const result = await load(server.url, options.seconds, options.connections);
        const tally = tallies.get(name)!;
        tally.cpuMicros += (await server.runs()).cpuMicros - cpuStart;
        tally.requests += result.requests.total;
        tally.seconds += result.duration;
        tally.p99s.push(result.latency.p99);
        tally.ok += result['2xx'];
        tally.non2xx += result.non2xx;
        tally.errors += result.errors + result.timeouts;
      }
    }
    const stats = new Map<Row, HttpStats>();
    for (const name of names) {
      const tally = tallies.get(name)!;
      const runs = (await servers.get(name)!.runs()).runs - runsBefore.get(name)!;
      stats.set(name, {
        requestsPerSecond: tally.requests / tally.seconds,
        p99: median(tally.p99s),
        ok: tally.ok,
        non2xx: tally.non2xx,
        errors: tally.errors,
        runs,
        cpuPerRequest: tally.cpuMicros / tally.requests,
        runsMatch: runs >= tally.ok && runs <= tally.ok + options.connections * options.rounds,
      });
    }
    return { table: httpTable(stats, options), stats };
  } finally {
    await Promise.all([...servers.values()].map((server) => server.stop()));
  }
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;

function httpTable(stats: ReadonlyMap<Row, HttpStats>, options: HttpOptions): string {
  const limit = stats.get('limit')?.requestsPerSecond ?? Number.NaN;
  const rows = [...stats].map(([name, s]) => [
    name.endsWith('@base') ? `${HTTP_CONTENDERS[contenderOf(name)].label}, at ${options.baseline!.commit.slice(0, 7)}` : HTTP_CONTENDERS[contenderOf(name)].label,
    integer(s.requestsPerSecond),
    Number.isNaN(limit) ? '–' : ratio(s.requestsPerSecond / limit),
    `${s.p99.toFixed(0)} ms`,
    `${s.cpuPerRequest.toFixed(1)} µs`,
    integer(s.non2xx + s.errors),
    integer(s.ok),
    integer(s.runs),
    s.runsMatch ? 'yes' : 'NO',
  ]);
  // The ratios the targets name; CPU per request (inverted, so higher is better for us too) is the
  // same comparison without the load generator's share of the machine in it.
  const pairs: [string, Row, Row][] = [
    ['ours on node:http ÷ the limit (hand-read)', 'oursNode', 'limit'],
    ['ours on node:http ÷ the raw-body limit', 'oursNode', 'rawBodyLimit'],
    ['ours in Express 5 ÷ express.json() route', 'oursExpress', 'expressJson'],
    ['ours in Express 5 ÷ @octokit/webhooks', 'oursExpress', 'octokit'],
    ...(['oursNode', 'oursExpress'] as const).map((name): [string, Row, Row] => [`${name} now ÷ ${name} at the baseline`, name, `${name}@base`]),
  ];
  const ratioRows = pairs.filter(([, ours, other]) => stats.has(ours) && stats.has(other)).map(([label, ours, other]) => [
    label,
    ratio(stats.get(ours)!.requestsPerSecond / stats.get(other)!.requestsPerSecond),
    ratio(stats.get(other)!.cpuPerRequest / stats.get(ours)!.cpuPerRequest),
  ]);
  return (
    `Over HTTP (loopback; ~1 KB body; ${options.connections} connections; ${options.rounds} alternating rounds of ${options.seconds} s per server after a ${options.warmupSeconds} s warm-up):\n\n` +
    markdownTable(['server', 'requests/s', '× limit', 'p99', 'server CPU per request', 'non-2xx + errors', '2xx', 'handler runs', 'every 2xx ran a handler'], rows) +
    '\n\n' +
    markdownTable(['ratio', 'requests/s', 'inverse CPU per request'], ratioRows)
  );
}
