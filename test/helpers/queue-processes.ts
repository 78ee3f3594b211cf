import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { root } from './paths.js';

// Receiver and worker processes for the queued-mode and latest-wins tests (test/fixtures/queue-*.mjs,
// latest-*.mjs): real `node` processes running the built package, each printing one JSON object a
// line, which we keep.


export type Line = Record<string, unknown>;

export interface FixtureProcess {
  readonly child: ChildProcess;
  readonly lines: Line[];
  readonly stderr: () => string;
  /** Resolves with the first line (already printed or still to come) that `match` accepts. */
  waitFor(match: (line: Line) => boolean, timeoutMs?: number, what?: string): Promise<Line>;
  /** SIGTERM, and the exit code once it exited. */
  terminate(): Promise<number | null>;
  /** SIGKILL, as a crash or an OOM killer would. */
  kill(): Promise<void>;
}

export type FixtureName = 'queue-receiver' | 'queue-worker' | 'latest-receiver' | 'latest-worker';

export function startFixture(name: FixtureName, env: Record<string, string>): FixtureProcess {
  const file = path.join(root, 'test/fixtures', `${name}.mjs`);
  const child = spawn(process.execPath, [file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiters = new Set<{ match: (line: Line) => boolean; resolve: (line: Line) => void }>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      line = { text };
    }
    lines.push(line);
    for (const waiter of waiters) if (waiter.match(line)) waiter.resolve(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    child,
    lines,
    stderr: () => stderr,
    waitFor(match, timeoutMs = 15_000, what = 'a line') {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (line: Line) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${name}: no ${what} within ${timeoutMs} ms\nstderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(new Error(`${name} exited (${code}) before ${what}\nstderr: ${stderr}`));
        });
      });
    },
    async terminate() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A receiver process, once it listens: its webhook URL. */
export async function startReceiver(env: Record<string, string>, name: FixtureName = 'queue-receiver'): Promise<FixtureProcess & { url: string }> {
  const receiver = startFixture(name, env);
  const { port } = await receiver.waitFor((line) => typeof line['port'] === 'number', 15_000, 'port');
  return Object.assign(receiver, { url: `http://127.0.0.1:${port as number}/webhooks/aicommerce` });
}

/** A worker process, once BullMQ reports it ready. */
export async function startWorker(env: Record<string, string>, name: FixtureName = 'queue-worker'): Promise<FixtureProcess> {
  const worker = startFixture(name, env);
  await worker.waitFor((line) => line['ready'] === true, 15_000, 'ready');
  return worker;
}
