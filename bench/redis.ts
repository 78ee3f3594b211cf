import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

// A private redis-server for the queued section, started the way the tests start theirs
// (test/helpers/redis.ts, which loads vitest and so is not imported here): on a free loopback
// port, nothing saved, or with an append-only file when a row measures what durability costs.

export interface BenchRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/** `--appendonly no`, or an AOF fsynced every second (kept in a temporary directory, removed at stop). */
export type Persistence = 'none' | 'aof-everysec';

export function findRedisServer(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function spawnRedis(bin: string, port: number, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} was not ready within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stdout?.resume(); // keep draining, or a full pipe would block the server
      child.off('exit', onExit);
      resolve(child);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited (${signal ?? code}) before it was ready:\n${output}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', onExit);
  });
}

/** Starts redis-server (`bin`) on a free loopback port; a few tries, in case another process takes the port first. */
export async function startRedis(bin: string, persistence: Persistence = 'none'): Promise<BenchRedis> {
  const dir = persistence === 'none' ? undefined : mkdtempSync(path.join(tmpdir(), 'aicommerce-bench-redis-'));
  const args = dir === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir];
  const killOnExit = (): void => void child?.kill('SIGKILL');
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await spawnRedis(bin, port, args);
    } catch (error) {
      if (attempt === 3) {
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  process.once('exit', killOnExit); // a bench that throws half-way leaves no redis-server behind
  const running = child;
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      process.off('exit', killOnExit);
      if (running.exitCode === null && running.signalCode === null) {
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGTERM');
        await exited;
      }
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
