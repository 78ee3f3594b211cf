import { createHash } from 'node:crypto';
import { createDelivery, sampleEvents, type Delivery, type DeliveryReport } from 'aicommerce-webhooks/testing';
import { seededRandom } from './random.js';
import type { TestRedisClient } from './redis.js';

// The latest-wins load: product.updated snapshots of many products, prices 1 … n at increasing
// timestamps, in a seeded shuffle; and what the fixtures' handlers wrote (test/fixtures/latest-database.mjs).

export interface Snapshot {
  readonly productId: string;
  readonly price: number;
  /** The delivery id: SHA-256 hex of the body, as `context.id` and the job id say. */
  readonly id: string;
  readonly delivery: Delivery;
}

/**
 * `products` × `snapshots` product.updated deliveries, snapshot k (price k) stamped k seconds after
 * `base` (a minute ago by default: fresh, and no two snapshots of a product in one second), shuffled by `seed`.
 */
export function shuffledSnapshots({ products, snapshots, secret, seed, base = Date.now() - 60_000 }: { products: number; snapshots: number; secret: string; seed: number; base?: number }): Snapshot[] {
  const all: Snapshot[] = [];
  for (let p = 0; p < products; p++) {
    const productId = `prod_${String(p).padStart(4, '0')}`;
    for (let price = 1; price <= snapshots; price++) {
      const data = { ...sampleEvents['product.updated'], product: { ...sampleEvents['product.updated'].product, id: productId, price } };
      const delivery = createDelivery('product.updated', data, { secret, timestamp: new Date(base + price * 1_000) });
      all.push({ productId, price, id: createHash('sha256').update(delivery.body).digest('hex'), delivery });
    }
  }
  const random = seededRandom(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

/** What the handlers wrote: each product's price, and the counters. */
export async function readDatabase(client: TestRedisClient, prefix: string) {
  const [price, runs, failed, stale, overlap, maxActive] = await Promise.all([
    client.hGetAll(`${prefix}db:price`),
    client.get(`${prefix}db:runs`),
    client.get(`${prefix}db:failed`),
    client.get(`${prefix}db:stale`),
    client.get(`${prefix}db:overlap`),
    client.get(`${prefix}db:max-active`),
  ]);
  const count = (value: unknown): number => Number(value ?? 0);
  return {
    price: Object.fromEntries(Object.entries(price as Record<string, string>).map(([id, value]) => [id, Number(value)])),
    runs: count(runs),
    failed: count(failed),
    stale: count(stale),
    overlap: count(overlap),
    /** Runs of one product seen at once, at most (1 unless two ever overlapped). */
    maxActive: Math.max(count(runs) > 0 ? 1 : 0, count(maxActive)),
  };
}

/** Products whose price is not `expected`, with what they hold. */
export function notAt(price: Readonly<Record<string, number>>, productIds: Iterable<string>, expected: number): string[] {
  return [...new Set(productIds)].filter((id) => price[id] !== expected).map((id) => `${id}: ${price[id] ?? 'none'}`);
}

export function summary(report: DeliveryReport): string {
  return `${report.url}: ${report.attempts.map((a) => a.status ?? a.error).join(', ')}`;
}
