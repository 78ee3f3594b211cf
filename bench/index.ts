import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { prepareBaseline } from './baseline.js';
import { isHttpContender, overHttp } from './http.js';
import { memory } from './memory.js';
import { largeVerification, perDelivery, storeAtScale } from './micro.js';
import { isQueueContender, queued } from './queue.js';
import { targets, targetsTable } from './targets.js';

// `npm run bench`: every section in turn, each printed as a markdown table as soon as it is done,
// then the targets. `--quick` runs everything briefly, to check the bench itself; `--only http`
// (or micro, memory, queue) runs one section and the targets it measures:
// `npm run bench -- --quick --only http`. An A/B of a few HTTP servers, with rounds of your choice:
// `npm run bench -- --only http --servers limit,rawBodyLimit,oursNode --rounds 10 --seconds 3`;
// of a few queued ones: `npm run bench -- --only queue --servers queueOurs,queueBare,queueBareOptions`
// (see QUEUE_CONTENDERS in bench/queue.ts).
// `BENCH_CPU_PROF=queue-ours,queue-bare npm run bench -- --only queue` profiles those children.
// `npm run bench -- --only http --servers oursNode,limit --baseline main~3` also runs our servers as
// that commit builds them, in the same rounds: today ÷ then, as a ratio from one run.

const SECTIONS = ['micro', 'http', 'memory', 'queue'] as const;
type Section = (typeof SECTIONS)[number];

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    servers: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const quick = flags.quick;
const only = flags.only;
if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) throw new Error(`--only takes one of ${SECTIONS.join(', ')} (got ${only})`);
const servers = flags.servers?.split(',');
const isContender = only === 'queue' ? isQueueContender : isHttpContender;
const unknownServer = servers?.find((name) => !isContender(name));
if (unknownServer !== undefined) {
  throw new Error(`--servers: no ${only === 'queue' ? 'queued' : 'HTTP'} contender ${unknownServer} (see ${only === 'queue' ? 'QUEUE_CONTENDERS in bench/queue.ts' : 'HTTP_CONTENDERS in bench/http.ts'})`);
}
const count = (flag: string | undefined, fallback: number): number => {
  const value = flag === undefined ? fallback : Number(flag);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--rounds and --seconds take a positive integer (got ${String(flag)})`);
  return value;
};
const runs = (section: Section): boolean => only === undefined || only === section;
if (typeof globalThis.gc !== 'function') throw new Error('run the bench with node --expose-gc (npm run bench does)');

const started = Date.now();
const print = (text: string): void => void process.stdout.write(`${text}\n\n`);

print(
  `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ` +
    `load average ${loadavg().map((load) => load.toFixed(2)).join(' ')} at the start.`,
);

const timing = quick ? { samples: 5, sampleMs: 50 } : { samples: 15, sampleMs: 100 };
const delivery = runs('micro') ? await perDelivery(timing) : undefined;
if (delivery !== undefined) print(delivery.table);
const largeBody = runs('micro') ? await largeVerification(timing) : undefined;
if (largeBody !== undefined) print(largeBody.table);
const storeScale = runs('micro') ? await storeAtScale(timing) : undefined;
if (storeScale !== undefined) print(storeScale.table);
const http = runs('http')
  ? await overHttp({
      rounds: count(flags.rounds, quick ? 2 : 4),
      seconds: count(flags.seconds, quick ? 1 : 4),
      warmupSeconds: quick ? 1 : 2,
      connections: 10,
      only: only === 'queue' ? undefined : servers?.filter(isHttpContender),
      baseline: flags.baseline === undefined ? undefined : prepareBaseline(flags.baseline),
    })
  : undefined;
if (http !== undefined) print(http.table);
const memoryResult = runs('memory') ? await memory({ deliveries: quick ? 10_000 : 100_000, concurrentLargeBodies: 100 }) : undefined;
if (memoryResult !== undefined) print(memoryResult.table);
const queue = runs('queue')
  ? await queued({
      rounds: count(flags.rounds, quick ? 2 : 4),
      seconds: count(flags.seconds, quick ? 1 : 4),
      warmupSeconds: quick ? 1 : 2,
      connections: 10,
      latencyConnections: 50,
      jobs: quick ? 2_000 : 20_000,
      concurrency: 10,
      latency: quick ? { rate: 100, seconds: 2 } : { rate: 200, seconds: 10 },
      only: only === 'queue' ? servers?.filter(isQueueContender) : undefined,
    })
  : undefined;
if (queue !== undefined) print(queue.table);

print(targetsTable(targets({ perDelivery: delivery, largeBody, storeScale, http: http?.stats, memory: memoryResult, queue })));
print(`Finished in ${((Date.now() - started) / 1000).toFixed(0)} s${quick ? ' (--quick: figures too short to trust)' : ''}.`);
