import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { post } from '../helpers/http.js';
import { root } from '../helpers/paths.js';
import { assertBuilt } from '../helpers/processes.js';
import { describeRedis, uniquePrefix, useRedis } from '../helpers/redis.js';

// Two receivers in two separate `node` processes, each with its own HTTP server, sharing one real
// Redis: the claim must be atomic across processes, not just across requests of one process.

const fixture = fileURLToPath(new URL('../fixtures/redis-receiver.mjs', import.meta.url));
const SECRET = 'whsec_two_processes';

interface ReceiverProcess {
  readonly url: string;
  runs(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function startReceiverProcess(env: Record<string, string>): Promise<ReceiverProcess> {
  const child = spawn(process.execPath, [fixture], { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver process did not listen within 15 s\n${stderr}`)), 15_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`receiver process exited (${code}) before listening\n${stderr}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}/webhooks/aicommerce`,
    runs: async () => (await (await fetch(`http://127.0.0.1:${port}/runs`)).json()) as Record<string, number>,
    async stop() {
      child.stdin.end(); // the fixture closes its server and Redis client and exits by itself
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

const delivery = (messageId: string) =>
  createDelivery('chat.message.received', { ...sampleEvents['chat.message.received'], messageId }, { secret: SECRET });

describeRedis('two receiver processes sharing one Redis', () => {
  let redis: Awaited<ReturnType<typeof useRedis>>;
  let processes: ReceiverProcess[] = [];
  beforeAll(async () => {
    assertBuilt();
    redis = await useRedis();
    const env = { REDIS_URL: redis.url, PREFIX: uniquePrefix(), SECRET, HANDLER_MS: '20' };
    processes = await Promise.all([startReceiverProcess(env), startReceiverProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await redis?.stop();
  });

  it('the same delivery sent to both processes at once runs the handler exactly once in total', async () => {
    const [a, b] = processes as [ReceiverProcess, ReceiverProcess];
    const ROUNDS = 100;

    const answers = await mapConcurrently(ROUNDS, 8, async (i) => {
      const copy = delivery(`msg_${i}`);
      return Promise.all([post(a.url, copy), post(b.url, copy)]);
    });

    const problems: string[] = [];
    answers.forEach((pair, i) => {
      const handled = pair.filter((r) => r.status === 200 && JSON.stringify(r.body) === '{"received":true}');
      const other = pair.find((r) => !handled.includes(r));
      const otherOk =
        (other?.status === 409 && (other.body as { code?: string }).code === 'in_flight') ||
        (other?.status === 200 && JSON.stringify(other.body) === '{"received":true,"duplicate":true}');
      if (handled.length !== 1 || !otherOk) problems.push(`round ${i}: ${JSON.stringify(pair.map((r) => [r.status, r.body]))}`);
    });
    expect(problems).toEqual([]);

    const [runsA, runsB] = await Promise.all([a.runs(), b.runs()]);
    const total = (id: string): number => (runsA[id] ?? 0) + (runsB[id] ?? 0);
    const notOnce = Array.from({ length: ROUNDS }, (_, i) => `msg_${i}`).filter((id) => total(id) !== 1);
    expect(notOnce).toEqual([]);
  });

  it('a delivery processed by one process is a duplicate for the other', async () => {
    const [a, b] = processes as [ReceiverProcess, ReceiverProcess];
    const copy = delivery('msg_cross');

    expect(await post(b.url, copy)).toMatchObject({ status: 200, body: { received: true } });
    expect(await post(a.url, copy)).toMatchObject({ status: 200, body: { received: true, duplicate: true } });

    expect((await a.runs())['msg_cross']).toBeUndefined();
    expect((await b.runs())['msg_cross']).toBe(1);
  });
});
