import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './http.js';
import { redisServerBin } from './redis.js';

// A real Redis Cluster for the tests that need one: 3 masters, no replicas, on free loopback
// ports, without persistence, made as an operator would (`redis-cli --cluster create`), torn
// down with its node files afterwards.

const run = promisify(execFile);
const redisCli = redisServerBin === undefined ? undefined : path.join(path.dirname(redisServerBin), 'redis-cli');

export interface RedisCluster {
  /** The masters' ports. */
  readonly ports: readonly number[];
  /** `{ host, port }` of each master, as ioredis's Cluster and node-redis's createCluster take them. */
  readonly nodes: readonly { host: string; port: number }[];
  stop(): Promise<void>;
}

function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    redisServerBin!,
    ['--cluster-enabled', 'yes', '--port', String(port), '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`cluster node on port ${port} exited (${code}) before it was ready:\n${output}`)));
  });
}

async function clusterState(port: number): Promise<string> {
  const { stdout } = await run(redisCli!, ['-p', String(port), 'cluster', 'info']);
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'unknown';
}

export async function startRedisCluster(): Promise<RedisCluster> {
  if (redisServerBin === undefined || redisCli === undefined) throw new Error('redis-server is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'aicommerce-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL'); // nothing to save: the cluster goes with its files
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) children.push(await startNode(port, dir));
    await run(redisCli, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 10_000;
    while ((await Promise.all(ports.map(clusterState))).some((state) => state !== 'ok')) {
      if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
}

/** Inside a `describeRedis` block: a cluster started before its tests and stopped after. Read `.cluster` inside a test. */
export function useRedisCluster(): { readonly cluster: RedisCluster } {
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get cluster() {
      if (cluster === undefined) throw new Error('useRedisCluster: the cluster exists only while the tests run');
      return cluster;
    },
  };
}
