import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { overHttp } from './http.js';
import { memory } from './memory.js';
import { largeVerification, perDelivery } from './micro.js';
import { targets, targetsTable } from './targets.js';

// `npm run bench`: every section in turn, each printed as a markdown table as soon as it is done,
// then the targets. `--quick` runs everything briefly, to check the bench itself.

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = flags.quick;
if (typeof globalThis.gc !== 'function') throw new Error('run the bench with node --expose-gc (npm run bench does)');

const started = Date.now();
const print = (text: string): void => void process.stdout.write(`${text}\n\n`);

print(
  `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ` +
    `load average ${loadavg().map((load) => load.toFixed(2)).join(' ')} at the start.`,
);

const timing = quick ? { samples: 5, sampleMs: 50 } : { samples: 15, sampleMs: 100 };
const delivery = await perDelivery(timing);
print(delivery.table);
const largeBody = await largeVerification(timing);
print(largeBody.table);
const http = await overHttp(quick ? { rounds: 2, seconds: 1, warmupSeconds: 1, connections: 10 } : { rounds: 4, seconds: 4, warmupSeconds: 2, connections: 10 });
print(http.table);
const memoryResult = await memory({ deliveries: quick ? 10_000 : 100_000, concurrentLargeBodies: 100 });
print(memoryResult.table);

print(targetsTable(targets({ perDelivery: delivery, largeBody, http: http.stats, memory: memoryResult })));
print(`Finished in ${((Date.now() - started) / 1000).toFixed(0)} s${quick ? ' (--quick: figures too short to trust)' : ''}.`);
