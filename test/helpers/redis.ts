import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe } from 'vitest';
import { freePort } from './http.js';

// Real redis-server processes for the Redis suites: found on PATH, started on a free loopback port
// without persistence, stopped by the tests. Missing binary → the suites are skipped with a loud
// banner, or the run fails where CI or REQUIRE_REDIS=1 says Redis must be tested.

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const isOn = (value: string | undefined): boolean => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';

export const redisServerBin = findOnPath('redis-server');
export const redisRequired = isOn(process.env['CI']) || process.env['REQUIRE_REDIS'] === '1';

if (redisServerBin === undefined) {
  const why = 'redis-server was not found on PATH';
  if (redisRequired) {
    throw new Error(
      `${why}, and ${isOn(process.env['CI']) ? 'CI is set' : 'REQUIRE_REDIS=1'}: the Redis suite must run here. ` +
        'Install it with `apt-get install -y redis-server` (.ci/run does).',
    );
  }
  console.warn(
    [
      '',
      '#'.repeat(78),
      `#  REDIS SUITE SKIPPED: ${why}.`,
      '#  The RedisDedupeStore and multi-process exactly-once tests did NOT run.',
      '#  Install it (apt-get install -y redis-server) to run them; CI or REQUIRE_REDIS=1 makes this a failure.',
      '#'.repeat(78),
      '',
    ].join('\n'),
  );
}

/** `describe` for suites that need a real redis-server: skipped (loudly, above) where there is none. */
export const describeRedis = describe.skipIf(redisServerBin === undefined);

/** A redis-server child process on a fixed loopback port, which can be stopped and started again. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit; nothing is saved. */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL), as a crash would: only what its AOF already holds survives. */
  crash(): Promise<void>;
  /** Starts it again on the same port: empty, or from its AOF when started with one. */
  start(): Promise<void>;
}

export interface RedisServerOptions {
  /** Keep an append-only file in this directory, fsynced as given (`always` loses nothing acknowledged). */
  aof?: { dir: string; fsync: 'always' | 'everysec' };
  /** This port, where a client already waits for it; default a free one. */
  port?: number;
}

/** Every server still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns redis-server and resolves once it accepts connections; rejects with its output if it exits first. */
function spawnRedis(port: number, persistence: readonly string[]): Promise<ChildProcess> {
  if (redisServerBin === undefined) throw new Error('redis-server is not installed');
  const child = spawn(redisServerBin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} was not ready within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume(); // keep draining, or a full pipe would block the server
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private redis-server on a free port (a few tries, in case another process takes the port first). */
export async function startRedisServer({ aof, port: given }: RedisServerOptions = {}): Promise<RedisServer> {
  const persistence = aof === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', aof.fsync, '--dir', aof.dir];
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = given === undefined ? 1 : 3; child === undefined; attempt++) {
    port = given ?? (await freePort());
    try {
      child = await spawnRedis(port, persistence);
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  let current: ChildProcess | undefined = child;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const stopping = current;
      current = undefined;
      if (stopping === undefined) return;
      stopping.kill('SIGTERM');
      await waitForExit(stopping);
    },
    async crash() {
      const crashing = current;
      current = undefined;
      if (crashing === undefined) return;
      crashing.kill('SIGKILL');
      await waitForExit(crashing);
    },
    async start() {
      if (current !== undefined) return;
      current = await spawnRedis(port, persistence);
    },
  };
}

/**
 * A Redis for tests that only need one running: `REDIS_URL` when the environment gives one
 * (.ci/run starts it), else a private server. Tests keep apart with their own key prefix.
 */
export async function useRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const shared = process.env['REDIS_URL'];
  if (shared !== undefined && shared !== '') return { url: shared, stop: async () => {} };
  const server = await startRedisServer();
  return { url: server.url, stop: () => server.stop() };
}

/** A key prefix no other test uses. */
export const uniquePrefix = (): string => `aicommerce-test:${randomUUID()}:`;

/**
 * A connected client configured as the README advises: for the dedupe store, commands fail at once
 * while Redis is unreachable (`disableOfflineQueue`); for BullMQ (`offlineQueue: true`) they wait for
 * the reconnection. Connection errors are observed rather than thrown.
 */
export async function connectClient(url: string, { offlineQueue = false }: { offlineQueue?: boolean } = {}) {
  const client = createClient({ url, disableOfflineQueue: !offlineQueue });
  client.on('error', () => {}); // reconnects by itself; the failed commands surface as 503s
  await client.connect();
  return client;
}

export type TestRedisClient = Awaited<ReturnType<typeof connectClient>>;

/**
 * Inside a `describeRedis` block: a Redis (see `useRedis`) and a connected client for its tests,
 * set up before them and closed after. Read `.client` inside a test, not at collection time.
 */
export function useRedisClient(): { readonly client: TestRedisClient } {
  let redis: Awaited<ReturnType<typeof useRedis>> | undefined;
  let client: TestRedisClient | undefined;
  beforeAll(async () => {
    redis = await useRedis();
    client = await connectClient(redis.url);
  });
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });
  return {
    get client() {
      if (client === undefined) throw new Error('useRedisClient: the client exists only while the tests run');
      return client;
    },
  };
}
