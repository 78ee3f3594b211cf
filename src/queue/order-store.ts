import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { HOLD_SCRIPT, HOLD_STATUS, RENEW_SCRIPT, SETTLE_SCRIPT } from '../stores/order-scripts.js';
import { BUSY, SUPERSEDED, type HoldResult, type OrderStore } from '../stores/types.js';

// Latest wins in queued mode: the marks and holds live in the queue's own Redis, under its prefix
// (`<prefix>:<queue>:order:<entity key>`, so a hash-tagged prefix keeps them on the queue's Cluster
// slot), through the client BullMQ already holds. The scripts are the Redis store's own.

type RedisClient = Awaited<ReturnType<Worker['getBackend']>['client']>;

const COMMANDS = { aicommerceOrderHold: HOLD_SCRIPT, aicommerceOrderSettle: SETTLE_SCRIPT, aicommerceOrderRenew: RENEW_SCRIPT } as const;
type Command = keyof typeof COMMANDS;

/**
 * An `OrderStore` on a worker's Redis. A hold lasts `leaseMs` and is renewed every half lease while
 * its job runs, so a long handler keeps its entity and a worker that dies frees it within a lease.
 */
export class QueueOrderStore implements OrderStore {
  readonly #client: () => Promise<RedisClient>;
  readonly #keyPrefix: string;
  readonly #leaseMs: number;
  readonly #defined = new WeakSet<object>();

  constructor(worker: Worker, keyPrefix: string, leaseMs: number) {
    this.#client = () => worker.getBackend().client;
    this.#keyPrefix = keyPrefix;
    this.#leaseMs = Math.ceil(leaseMs);
  }

  async hold(key: string, timestampMs: number): Promise<HoldResult> {
    const redisKey = this.#keyPrefix + key;
    const token = randomUUID();
    const client = await this.#client();
    const reply: unknown = await this.#run(client, 'aicommerceOrderHold', [redisKey, String(timestampMs), token, String(this.#leaseMs)]);
    const status = HOLD_STATUS[Number(reply)];
    if (status === 'superseded') return SUPERSEDED;
    if (status === 'busy') return BUSY;
    if (status !== 'held') throw new Error(`unexpected answer from the hold script: ${String(reply)}`);
    // A failed renewal is no failure of the job: the hold simply lapses at its lease, as it would for a dead worker.
    const renewal = setInterval(() => void this.#run(client, 'aicommerceOrderRenew', [redisKey, token, String(this.#leaseMs)]).catch(() => {}), this.#leaseMs / 2);
    renewal.unref();
    // Sent at once, on the client the job's completion follows on (see runStored).
    const settle = (applied: string, retainMs: number): Promise<unknown> => {
      clearInterval(renewal);
      return this.#run(client, 'aicommerceOrderSettle', [redisKey, token, applied, String(Math.max(1, Math.ceil(retainMs)))]);
    };
    return { status, applied: (retainMs) => settle(String(timestampMs), retainMs).then(() => {}), release: () => settle('', 0).then(() => {}) };
  }

  #run(client: RedisClient, command: Command, args: string[]): Promise<unknown> {
    if (!this.#defined.has(client)) {
      for (const [name, lua] of Object.entries(COMMANDS)) client.defineCommand(name, { numberOfKeys: 1, lua });
      this.#defined.add(client);
    }
    return client.runCommand(command, args);
  }
}
