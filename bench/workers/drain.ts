import type { Worker } from 'bullmq';
import { createClient } from 'redis';

// Every bench worker runs in a child process of its own, like the servers (servers/serve.ts): the
// parent fills the queue, then says `drain`; the child starts its BullMQ worker, times it until
// the given number of jobs completed, and answers with the wall time and its own CPU time.

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'prepared' }
  | { type: 'drained'; ms: number; cpuMicros: number; completed: number; failed: number };

export type WorkerRequest = { type: 'prepare' } | { type: 'drain'; jobs: number } | { type: 'stop' };

/** With its offline queue, as createWebhookWorker requires. */
const connectionTo = (url: string) => createClient({ url });
export type RedisConnection = ReturnType<typeof connectionTo>;

/** How a bench worker is made: a BullMQ Worker on `connection`, not yet running (`autorun: false`). */
export type MakeWorker = (connection: RedisConnection, queueName: string, concurrency: number) => Worker;

const send = (message: WorkerMessage): void => void process.send!(message);

const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

export function serveWorker(make: MakeWorker): void {
  const [url, queueName, concurrencyArg] = process.argv.slice(2);
  if (url === undefined || queueName === undefined) throw new Error('a bench worker takes <redis url> <queue name> <concurrency>');
  const concurrency = Number(concurrencyArg ?? 1);
  let current: { worker: Worker; connection: RedisConnection } | undefined;

  process.on('message', async (request: WorkerRequest) => {
    switch (request.type) {
      case 'prepare': {
        // A new connection and worker each round, made before the clock starts.
        const connection = connectionTo(url);
        connection.on('error', (error: unknown) => console.error('bench worker: Redis error', error));
        await connection.connect();
        const worker = make(connection, queueName, concurrency);
        await worker.waitUntilReady();
        current = { worker, connection };
        return send({ type: 'prepared' });
      }
      case 'drain': {
        const { worker, connection } = current!;
        let completed = 0;
        let failed = 0;
        const drained = new Promise<void>((resolve) => {
          const settle = (): void => {
            if (completed + failed === request.jobs) resolve();
          };
          worker.on('completed', () => {
            completed++;
            settle();
          });
          worker.on('failed', () => {
            failed++;
            settle();
          });
        });
        const cpuStart = cpuMicros();
        const start = performance.now();
        void worker.run();
        await drained;
        const ms = performance.now() - start;
        const cpu = cpuMicros() - cpuStart;
        await worker.close();
        await connection.close();
        current = undefined;
        return send({ type: 'drained', ms, cpuMicros: cpu, completed, failed });
      }
      case 'stop':
        process.exit(0);
    }
  });
  send({ type: 'ready' });
}
