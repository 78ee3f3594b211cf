import http from 'node:http';
import autocannon from 'autocannon';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { startServer } from './child.js';
import { EVENT, MIB, paddedBody, SECRET, signedHeaders, smallBody } from './payload.js';
import { integer, markdownTable, megabytes } from './table.js';

export interface MemoryResult {
  readonly table: string;
  /** Heap growth in bytes over the deliveries, in process (receive()) and over HTTP (the middleware). */
  readonly heapGrowth: { readonly receive: number; readonly middleware: number };
  readonly peakRss: number;
}

export interface MemoryOptions {
  readonly deliveries: number;
  readonly concurrentLargeBodies: number;
}

const collect = (): void => {
  for (let i = 0; i < 3; i++) globalThis.gc!();
};

/** receive() in this process, `deliveries` times, each a distinct body: heap after gc, before and after. */
async function receiveHeap(deliveries: number): Promise<{ before: number; after: number; runs: number }> {
  let runs = 0;
  const receiver = createWebhookReceiver({ secret: SECRET, dedupe: false });
  receiver.on(EVENT, () => void runs++);
  const deliver = async (): Promise<void> => {
    const body = smallBody();
    await receiver.receive({ body, signature: signedHeaders(body)['x-webhook-signature'] });
  };
  for (let i = 0; i < 1000; i++) await deliver(); // warm-up: JIT code and lazily built state are not growth
  collect();
  const before = process.memoryUsage().heapUsed;
  runs = 0;
  for (let i = 0; i < deliveries; i++) await deliver();
  collect();
  return { before, after: process.memoryUsage().heapUsed, runs };
}

/** Our middleware on node:http in a child process, `deliveries` requests over loopback. */
async function middlewareHeap(deliveries: number): Promise<{ before: number; after: number; runs: number; ok: number }> {
  const server = await startServer('ours-node');
  try {
    const send = async (amount: number): Promise<number> => {
      const body = smallBody();
      const result = await autocannon({ url: server.url, method: 'POST', headers: signedHeaders(body), body, connections: 10, amount });
      return result['2xx'];
    };
    await send(1000); // warm-up
    const { heapUsed: before } = await server.memory(true);
    const runsBefore = (await server.runs()).runs;
    const ok = await send(deliveries);
    const { heapUsed: after } = await server.memory(true);
    return { before, after, runs: (await server.runs()).runs - runsBefore, ok };
  } finally {
    await server.stop();
  }
}

/** A fresh child with our middleware; `count` 1 MiB deliveries sent at once; its peak RSS. */
async function largeBodiesRss(count: number): Promise<{ baseline: number; peak: number; ok: number; runs: number }> {
  const server = await startServer('ours-node');
  try {
    const body = Buffer.from(paddedBody(MIB));
    const headers = { ...signedHeaders(body.toString()), 'content-length': String(body.length) };
    const { rss: baseline } = await server.memory(true);
    const agent = new http.Agent({ keepAlive: false, maxSockets: count });
    const statuses = await Promise.all(
      Array.from({ length: count }, () =>
        new Promise<number>((resolve, reject) => {
          const request = http.request(server.url, { method: 'POST', headers, agent }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          });
          request.on('error', reject);
          request.end(body);
        }),
      ),
    );
    agent.destroy();
    const { maxRss } = await server.memory(false);
    return { baseline, peak: maxRss, ok: statuses.filter((status) => status === 200).length, runs: (await server.runs()).runs };
  } finally {
    await server.stop();
  }
}

export async function memory({ deliveries, concurrentLargeBodies }: MemoryOptions): Promise<MemoryResult> {
  const receive = await receiveHeap(deliveries);
  const middleware = await middlewareHeap(deliveries);
  const large = await largeBodiesRss(concurrentLargeBodies);
  if (receive.runs !== deliveries || middleware.runs !== middleware.ok || large.runs !== large.ok) {
    throw new Error(`memory: handler runs do not match deliveries (${receive.runs}, ${middleware.runs}/${middleware.ok}, ${large.runs}/${large.ok})`);
  }
  const heapRows = [
    [`receive(), in process, ${integer(deliveries)} distinct deliveries`, megabytes(receive.before), megabytes(receive.after), megabytes(receive.after - receive.before), integer(receive.runs)],
    [`middleware on node:http, ${integer(deliveries)} requests over loopback`, megabytes(middleware.before), megabytes(middleware.after), megabytes(middleware.after - middleware.before), integer(middleware.runs)],
  ];
  const rssRows = [[`${concurrentLargeBodies} concurrent 1 MiB deliveries, middleware on node:http`, megabytes(large.baseline), megabytes(large.peak), `${large.ok} / ${concurrentLargeBodies}`, integer(large.runs)]];
  return {
    table:
      `Memory (dedupe off; heap after gc, after a 1,000-delivery warm-up):\n\n` +
      markdownTable(['deliveries', 'heap before', 'heap after', 'growth', 'handler runs'], heapRows) +
      `\n\n` +
      markdownTable(['load', 'RSS before', 'peak RSS', '200s', 'handler runs'], rssRows),
    heapGrowth: { receive: receive.after - receive.before, middleware: middleware.after - middleware.before },
    peakRss: large.peak,
  };
}
