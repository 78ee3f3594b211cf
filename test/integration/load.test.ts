import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon, { type RequestDefinition } from 'autocannon';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signPayload } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import type { LoadServerStats } from '../fixtures/hostile-load-server.js';

// Load: 50 connections, 90 % valid distinct deliveries and 10 % forged ones, against the node
// middleware in a child process (so its memory is measured alone, after a full GC). About ten
// seconds; the request count follows what this machine can do, so a slow CI runner stays bounded.

const SECRET = 'whsec_load-test-secret-91b2';
const CONNECTIONS = 50;
const LOAD_SECONDS = 6;
/** Ten requests (nine valid, one forged) per connection per cycle: exactly one in ten is forged. */
const BATCH = CONNECTIONS * 10 * 10;

let child: ChildProcess;
let url: string;

beforeAll(async () => {
  child = fork(fileURLToPath(new URL('../fixtures/hostile-load-server.ts', import.meta.url)), [SECRET], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  url = `http://127.0.0.1:${message.port}/`;
});

afterAll(() => {
  child.kill(); // the child this file started, by its handle
});

async function serverStats(): Promise<LoadServerStats> {
  child.send({ type: 'stats' });
  const [message] = (await once(child, 'message')) as [{ stats: LoadServerStats }];
  return message.stats;
}

/** A tally of answers by kind of request and status. */
interface Tally {
  valid: Record<number, number>;
  forged: Record<number, number>;
}

let sequence = 0;
/** Nine valid deliveries (each a distinct body), then one forged: every connection cycles through them. */
function mix(tally: Tally): RequestDefinition[] {
  const valid = (): RequestDefinition => {
    const id = `load-${process.pid}-${sequence++}`;
    const { body, headers } = createDelivery('chat.message.received', { ...sampleEvents['chat.message.received'], messageId: id }, { secret: SECRET });
    return { method: 'POST', path: '/', headers: { ...headers }, body };
  };
  const forged = (): RequestDefinition => {
    const request = valid();
    // A well-formed signature of the same body under another key: only the HMAC can tell.
    return { ...request, headers: { ...request.headers, 'x-webhook-signature': signPayload(request.body!, `${SECRET}!`) } };
  };
  const count = (kind: keyof Tally) => (status: number) => void (tally[kind][status] = (tally[kind][status] ?? 0) + 1);
  return [
    ...Array.from({ length: 9 }, () => ({ setupRequest: valid, onResponse: count('valid') })),
    { setupRequest: forged, onResponse: count('forged') },
  ];
}

async function run(amount: number, tally: Tally) {
  const started = performance.now();
  const result = await autocannon({ url, connections: CONNECTIONS, amount, timeout: 10, sampleInt: 100, requests: mix(tally) });
  return { result, seconds: (performance.now() - started) / 1000 };
}

const sum = (counts: Record<number, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

it('50 connections, 90 % valid and 10 % forged: no 5xx, no socket error, every valid one handled once, memory flat', async () => {
  // Warm-up: JIT, buffers and pools settle before the baseline; it also measures this machine.
  const warm: Tally = { valid: {}, forged: {} };
  await run(5_000, warm);
  const before = await serverStats();

  // Batches of exact size (so every answer is counted) until the time is up: a fast machine runs
  // more of them, a slow one fewer, and the whole stays near ten seconds either way.
  const tally: Tally = { valid: {}, forged: {} };
  const result = { errors: 0, timeouts: 0, resets: 0, '5xx': 0 };
  let amount = 0;
  let seconds = 0;
  while (seconds < LOAD_SECONDS) {
    const batch = await run(BATCH, tally);
    for (const key of Object.keys(result) as (keyof typeof result)[]) result[key] += batch.result[key];
    amount += BATCH;
    seconds += batch.seconds;
  }
  const after = await serverStats();

  // Every request answered, none by a 5xx, none lost to a socket error or a timeout.
  expect(result).toEqual({ errors: 0, timeouts: 0, resets: 0, '5xx': 0 });
  expect(sum(tally.valid) + sum(tally.forged)).toBe(amount);
  // Valid deliveries: all 200; forged ones: all 401.
  expect(Object.keys(tally.valid)).toEqual(['200']);
  expect(Object.keys(tally.forged)).toEqual(['401']);
  expect(tally.forged[401]).toBe(amount / 10);
  // Handler runs = valid 2xx answers, each delivery exactly once, and nothing unexpected server-side.
  expect(after.handled - before.handled).toBe(tally.valid[200]);
  expect(after.handledTwice).toBe(0);
  expect(after.clientErrors).toBe(0);
  expect(after.errorsByCode).toEqual({ invalid_signature: warm.forged[401]! + tally.forged[401]! });

  // Memory: the dedupe store keeps one entry per delivery by design (about 200 bytes each); beyond
  // that, a generous bound for a shared, noisy machine. A leak of the request, the body or a timer
  // per request would be several KB each, tens of MB at this count.
  const retained = tally.valid[200]! * 400;
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  console.info(
    `load: ${amount} requests in ${seconds.toFixed(1)} s; rss ${mb(before.rss)} → ${mb(after.rss)} MB, heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB`,
  );
  expect(after.heapUsed - before.heapUsed).toBeLessThan(retained + 8 * 1024 * 1024);
  expect(after.rss - before.rss).toBeLessThan(retained + 48 * 1024 * 1024);
}, 60_000);
