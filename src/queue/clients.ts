import type { ConnectionOptions } from 'bullmq';

// What the queue and the worker can tell of the Redis client they are given, before using it:
// where it points (for the worker's ready line and every report), whether it can work at all (a
// client that cannot is refused at creation, with the fix), and what a Redis error means.
// BullMQ tells the clients apart by shape, without importing them; so does this module.

type Shape = Record<string, unknown> & { options?: Record<string, unknown> };

const shape = (connection: unknown): Shape => (typeof connection === 'object' && connection !== null ? (connection as Shape) : {});
const isIORedis = (c: Shape): boolean => typeof c['defineCommand'] === 'function';
const isIORedisCluster = (c: Shape): boolean => isIORedis(c) && c['isCluster'] === true;
/** node-redis `createCluster()`: `sendCommand` like its client, and the slot map a client lacks. */
const isNodeRedisCluster = (c: Shape): boolean =>
  !isIORedis(c) && typeof c['sendCommand'] === 'function' && (typeof c['getSlotMaster'] === 'function' || 'masters' in c);
const isNodeRedisClient = (c: Shape): boolean => !isIORedis(c) && typeof c['sendCommand'] === 'function' && !isNodeRedisCluster(c);

/** Redis routes a key by its first `{…}` with something inside: every key of a hash-tagged prefix lands on one slot. */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open !== -1 && prefix.indexOf('}', open + 1) > open + 1;
}

const CLUSTER_FIX =
  "On a Redis Cluster, give BullMQ an ioredis Cluster and a hash-tagged prefix: new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } }) with prefix: '{aicommerce}' on the Queue and the worker.";

/** A client no queue can work with, whoever uses it: a node-redis cluster (BullMQ 6 sends its commands as to one node, and waits forever). */
export function refuseUnusableClient(connection: unknown, who: string): void {
  if (isNodeRedisCluster(shape(connection))) {
    throw new TypeError(`${who}: a node-redis cluster client (createCluster) cannot run BullMQ: its jobs would never finish. ${CLUSTER_FIX}`);
  }
}

/**
 * What a worker needs beyond that. Without its offline queue, a client fails each command at once
 * while Redis is away, with an error BullMQ's worker does not take for a connection error: it
 * stops fetching after the outage (seen: 288 jobs left waiting a minute after Redis came back).
 * On a Cluster without a hash tag every script fails (CROSSSLOT), in a loop.
 */
export function refuseWorkerClient(connection: unknown, prefix: string): void {
  const who = 'createWebhookWorker';
  refuseUnusableClient(connection, who);
  const c = shape(connection);
  if (isNodeRedisClient(c) && c.options?.['disableOfflineQueue'] === true) {
    throw new TypeError(
      `${who}: this node-redis client was created with disableOfflineQueue: true, which stalls a BullMQ worker after a Redis outage. ` +
        'Give the worker a client with the offline queue on: createClient({ url }).',
    );
  }
  if (isIORedis(c) && c.options?.['enableOfflineQueue'] === false) {
    throw new TypeError(
      `${who}: this ioredis client was created with enableOfflineQueue: false, which stalls a BullMQ worker after a Redis outage. ` +
        'Leave enableOfflineQueue at its default (true).',
    );
  }
  if (isIORedisCluster(c) && !hasHashTag(prefix)) {
    throw new TypeError(
      `${who}: on a Redis Cluster the prefix must be hash-tagged, or every BullMQ script fails (CROSSSLOT): got prefix '${prefix}'. ` +
        `Pass prefix: '{${prefix}}' to the worker and to the receiver's Queue alike.`,
    );
  }
}

/** `127.0.0.1:6379/0`, `/run/redis.sock/0` or `cluster 10.0.0.1:7000,10.0.0.2:7000`: never a password. */
export function describeConnection(connection: ConnectionOptions | undefined): string {
  const c = shape(connection);
  if (isIORedisCluster(c)) {
    const nodes = Array.isArray(c['startupNodes']) ? (c['startupNodes'] as unknown[]) : [];
    return `cluster ${nodes.map(describeNode).join(',')}`;
  }
  const options = isNodeRedisClient(c) ? (c.options ?? {}) : isIORedis(c) ? (c.options ?? {}) : c;
  const url = typeof options['url'] === 'string' && URL.canParse(options['url']) ? new URL(options['url']) : undefined;
  const socket = shape(options['socket']);
  const path = options['path'] ?? socket['path'];
  const host = url?.hostname || options['host'] || socket['host'] || '127.0.0.1';
  const port = url?.port || options['port'] || socket['port'] || 6379;
  const db = options['db'] ?? options['database'] ?? (url !== undefined && url.pathname.length > 1 ? url.pathname.slice(1) : 0);
  return `${typeof path === 'string' ? path : `${String(host)}:${String(port)}`}/${String(db)}`;
}

function describeNode(node: unknown): string {
  if (typeof node === 'number') return `127.0.0.1:${node}`;
  if (typeof node === 'string') return URL.canParse(node) ? new URL(node).host : node;
  const { host = '127.0.0.1', port = 6379 } = shape(node) as { host?: string; port?: number };
  return `${host}:${port}`;
}

/** Errors that mean "Redis is not there (yet)", by their code or, for those without one, their message. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
const UNREACHABLE_MESSAGES = /Connection is closed|The client is closed|The client is offline|Socket closed unexpectedly|Connection timeout|connect ETIMEDOUT|ECONNREFUSED|Failed to refresh slots cache|None of startup nodes is available|CLUSTERDOWN|LOADING|MASTERDOWN/;

export type RedisTrouble = 'out_of_memory' | 'cross_slot' | 'unreachable' | 'other';

export function redisTrouble(error: unknown): RedisTrouble {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (message.startsWith('OOM ')) return 'out_of_memory';
  if (message.startsWith('CROSSSLOT')) return 'cross_slot';
  if ((typeof code === 'string' && UNREACHABLE_CODES.has(code)) || UNREACHABLE_MESSAGES.test(message)) return 'unreachable';
  return 'other';
}

/**
 * What a Redis error means for whoever reads the report and, when there is one, the fix; `where`
 * (host:port/db) only where the reader runs the system, never in an HTTP answer.
 */
export function explainRedisError(error: unknown, where?: string): string {
  const redis = where === undefined ? 'Redis' : `Redis at ${where}`;
  const message = oneLine(error instanceof Error ? error.message : String(error));
  const code = (error as { code?: unknown } | null)?.code;
  switch (redisTrouble(error)) {
    case 'out_of_memory':
      return `${redis} is out of memory (maxmemory reached): raise maxmemory or free memory`;
    case 'cross_slot':
      return `${redis} (a Cluster) refused the job: the queue's keys are in different slots. Give the Queue and the worker a hash-tagged prefix, e.g. prefix: '{aicommerce}'`;
    case 'unreachable':
      return `${redis} is unreachable (${typeof code === 'string' ? code : message})`;
    case 'other':
      return `${redis} failed: ${message}`;
  }
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * The job a BullMQ error is about, when it is about one: a lock that could not be renewed or was
 * gone when the job was settled (its handler held the event loop past `lockDuration`), not Redis.
 */
export function lockLostJobId(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  return /^(?:could not renew lock for job|Missing lock for job|Lock mismatch for job) ([^\s.]+)/.exec(message)?.[1];
}
