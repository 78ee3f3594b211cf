import { randomUUID } from 'node:crypto';
import { HOLD_SCRIPT, HOLD_STATUS, SETTLE_SCRIPT } from './order-scripts.js';
import { BUSY, DUPLICATE, IN_FLIGHT, SUPERSEDED, type ClaimResult, type DedupeStore, type HoldResult, type OrderStore } from './types.js';

/**
 * The few commands the store sends, in the official `redis` client's (v5 and v6) syntax. Typed
 * structurally so that either version's `createClient()` fits without this package importing it.
 */
export interface RedisDedupeClient {
  /** `SET key value PX ms [NX]`: a claim, and a commit. */
  set(key: string, value: string, options: { expiration: { type: 'PX'; value: number }; condition?: 'NX' }): Promise<unknown>;
  /** `GET key`: what a claim found when the key was taken. */
  get(key: string): Promise<unknown>;
  /** `EVAL`: a release, and each latest-wins step, one script on one key. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** The options of `new RedisDedupeStore()`. */
export interface RedisDedupeStoreOptions {
  /**
   * A connected client from `redis` (`createClient({ url, disableOfflineQueue: true })`).
   * `disableOfflineQueue` makes commands fail at once while Redis is unreachable (503 and a
   * retry later) instead of waiting for a reconnection that may never come.
   */
  client: RedisDedupeClient;
  /** Put before every key, to share a Redis with other data. Default `'aicommerce:'`. */
  prefix?: string;
  /** How long an in-flight claim, or a hold on an entity, lasts if its process dies before it settles, in ms. Default 60,000. */
  leaseMs?: number;
}

/** The value of a processed delivery's key; an in-flight key holds its claim's random token instead. */
const COMMITTED = 'committed';

/** Deletes the key only while it still holds this claim's token: never a commit, never someone else's lease. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * A dedupe store shared by every receiver on one Redis: claims are atomic `SET NX PX` across
 * processes, and an in-flight claim is a lease that Redis expires by itself if its process dies.
 * It keeps the latest-wins marks and holds too (`<prefix>order:<entity key>`, one hash each).
 */
export class RedisDedupeStore implements DedupeStore, OrderStore {
  readonly #client: RedisDedupeClient;
  readonly #prefix: string;
  readonly #leaseMs: number;

  constructor({ client, prefix = 'aicommerce:', leaseMs = 60_000 }: RedisDedupeStoreOptions) {
    if (typeof client?.set !== 'function' || typeof client.get !== 'function' || typeof client.eval !== 'function') {
      throw new TypeError('RedisDedupeStore: client must be a client from the `redis` package (createClient())');
    }
    if (typeof prefix !== 'string') throw new TypeError('RedisDedupeStore: prefix must be a string');
    if (!(Number.isFinite(leaseMs) && leaseMs > 0)) throw new TypeError('RedisDedupeStore: leaseMs must be a positive number of milliseconds');
    this.#client = client;
    this.#prefix = prefix;
    this.#leaseMs = Math.ceil(leaseMs);
  }

  async claim(key: string): Promise<ClaimResult> {
    const redisKey = this.#prefix + key;
    const token = randomUUID(); // this claim's own mark: a release frees only the lease that holds it
    const release = (): Promise<unknown> => this.#client.eval(RELEASE_SCRIPT, { keys: [redisKey], arguments: [token] });
    let reply: unknown;
    try {
      reply = await this.#client.set(redisKey, token, { expiration: { type: 'PX', value: this.#leaseMs }, condition: 'NX' });
    } catch (error) {
      // The SET may still have reached Redis (a timeout, not a refusal): free the lease if it did.
      release().catch(ignore);
      throw error;
    }
    if (reply !== null) {
      return {
        status: 'claimed',
        // Unconditional: the delivery was processed, whichever claim holds the key now.
        commit: async (ttlMs) => {
          await this.#client.set(redisKey, COMMITTED, { expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) } });
        },
        release: async () => {
          await release();
        },
      };
    }
    // Typed replies may be Buffers; a key that vanished since the SET is answered as in flight (the retry will claim it).
    return String(await this.#client.get(redisKey)) === COMMITTED ? DUPLICATE : IN_FLIGHT;
  }

  async hold(key: string, timestampMs: number): Promise<HoldResult> {
    const redisKey = `${this.#prefix}order:${key}`;
    const token = randomUUID();
    const settle = async (applied: string, retainMs: number): Promise<void> => {
      await this.#client.eval(SETTLE_SCRIPT, { keys: [redisKey], arguments: [token, applied, String(Math.max(1, Math.ceil(retainMs)))] });
    };
    let reply: unknown;
    try {
      reply = await this.#client.eval(HOLD_SCRIPT, { keys: [redisKey], arguments: [String(timestampMs), token, String(this.#leaseMs)] });
    } catch (error) {
      settle('', 0).catch(ignore); // it may still have reached Redis: free the hold if it did
      throw error;
    }
    const status = HOLD_STATUS[Number(reply)];
    if (status === 'superseded') return SUPERSEDED;
    if (status === 'busy') return BUSY;
    if (status !== 'held') throw new Error(`unexpected answer from the hold script: ${String(reply)}`);
    return { status, applied: (retainMs) => settle(String(timestampMs), retainMs), release: () => settle('', 0) };
  }
}

function ignore(): void {}
