import { setTimeout as sleep } from 'node:timers/promises';
import type { EventName } from '../events.js';
import { createDelivery, type Delivery } from './delivery.js';
import type { EventData } from './samples.js';

/** The options of `createTestSender()`: its retry policy, as AICommerce's (1 attempt and 3 retries, exponential backoff). */
export interface TestSenderOptions {
  /** Retries after the first attempt, on a non-2xx answer or a network error. Default 3 (4 attempts). */
  retries?: number;
  /** Wait before retry n is `baseDelayMs × 2^(n−1)`, ± jitter. Default 1000. */
  baseDelayMs?: number;
  /** Largest relative jitter of each wait, 0 to 1. Default 0.2 (±20 %). */
  jitter?: number;
  /** An attempt with no answer after this many ms counts as a network error. Default 10,000. */
  timeoutMs?: number;
  /** Random source in [0, 1) for the jitter, for reproducible tests. Default `Math.random`. */
  random?: () => number;
}

/** A registered endpoint, as `client.webhooks.create` returns it. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly secret: string;
}

/** One POST of a delivery, as `DeliveryReport.attempts` lists it. */
export interface Attempt {
  /** HTTP status, or `null` when no answer came (refused, reset, timed out). */
  readonly status: number | null;
  /** When the attempt started, in ms after the first attempt. */
  readonly at: number;
  /** The backoff waited before this attempt, in ms, jitter included; 0 for the first. */
  readonly delayMs: number;
  /** How long it took, in ms. */
  readonly ms: number;
  /** Why there was no answer. */
  readonly error?: string;
  /** The answer's body (JSON parsed when it is JSON). */
  readonly response?: unknown;
}

/** How one delivery to one endpoint went: every attempt, and whether one was answered 2xx. */
export interface DeliveryReport {
  readonly webhookId: string | undefined;
  readonly url: string;
  /** Some attempt was answered 2xx. */
  readonly delivered: boolean;
  readonly attempts: readonly Attempt[];
}

/** The options of `send()`. */
export interface SendOptions {
  /** The envelope timestamp. Default: now. */
  timestamp?: Date | string;
}

/** A local AICommerce: registers endpoints, signs deliveries and retries them like the real service. */
export interface TestSender {
  readonly webhooks: {
    /** Registers an endpoint, as `client.webhooks.create` does. */
    create(endpoint: { url: string; events: readonly string[]; secret: string }): Promise<WebhookEndpoint>;
    /** The endpoints registered. */
    list(): Promise<readonly WebhookEndpoint[]>;
    /** Removes an endpoint; `false` when there was none with this id. */
    delete(id: string): Promise<boolean>;
  };
  /** Sends `event` to every endpoint subscribed to it, each signed with its own secret. */
  send<Name extends EventName>(event: Name, data: EventData<Name>, options?: SendOptions): Promise<DeliveryReport[]>;
  /** Sends an event of your own, or `data` that fails its schema, as given. */
  send(event: string, data: unknown, options?: SendOptions): Promise<DeliveryReport[]>;
  /** Posts one prepared delivery (forged, tampered, replayed …) to a URL with the same retry policy. */
  deliver(url: string, delivery: Delivery): Promise<DeliveryReport>;
}

/**
 * A local AICommerce for tests: endpoints registered with `webhooks.create`, deliveries signed with
 * each endpoint's secret and retried like the real service (by default 3 retries, from 1 s, ±20 %).
 */
export function createTestSender({
  retries = 3,
  baseDelayMs = 1000,
  jitter = 0.2,
  timeoutMs = 10_000,
  random = Math.random,
}: TestSenderOptions = {}): TestSender {
  checkPolicy(retries, baseDelayMs, jitter, timeoutMs);
  const endpoints = new Map<string, WebhookEndpoint>();
  let nextId = 1;

  const delayBefore = (retry: number): number => baseDelayMs * 2 ** (retry - 1) * (1 + jitter * (2 * random() - 1));

  async function deliver(url: string, delivery: Delivery, webhookId?: string): Promise<DeliveryReport> {
    const startedAt = performance.now();
    const attempts: Attempt[] = [];
    for (let n = 0; n <= retries; n++) {
      const delayMs = n === 0 ? 0 : delayBefore(n);
      if (delayMs > 0) await sleep(delayMs);
      const result = await attempt(url, delivery, { startedAt, delayMs, timeoutMs });
      attempts.push(result);
      if (result.status !== null && result.status >= 200 && result.status < 300) {
        return { webhookId, url, delivered: true, attempts };
      }
    }
    return { webhookId, url, delivered: false, attempts };
  }

  return {
    webhooks: {
      async create({ url, events, secret }) {
        if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new TypeError('webhooks.create: url must be an http(s) URL');
        if (!Array.isArray(events) || events.length === 0) throw new TypeError('webhooks.create: subscribe to at least one event');
        if (typeof secret !== 'string' || secret === '') throw new TypeError('webhooks.create: secret must be a non-empty string');
        const endpoint = { id: `wh_${nextId++}`, url, events: [...events], secret };
        endpoints.set(endpoint.id, endpoint);
        return endpoint;
      },
      async list() {
        return [...endpoints.values()];
      },
      async delete(id) {
        return endpoints.delete(id);
      },
    },
    send(event: string, data: unknown, { timestamp = new Date() }: SendOptions = {}) {
      const subscribed = [...endpoints.values()].filter((e) => e.events.includes(event) || e.events.includes('*'));
      // One event, one timestamp: every endpoint gets the same body (signed with its own secret).
      return Promise.all(
        subscribed.map((endpoint) => deliver(endpoint.url, createDelivery(event, data, { secret: endpoint.secret, timestamp }), endpoint.id)),
      );
    },
    deliver: (url, delivery) => deliver(url, delivery),
  };
}

function checkPolicy(retries: number, baseDelayMs: number, jitter: number, timeoutMs: number): void {
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError('retries must be a whole number ≥ 0');
  if (!(baseDelayMs >= 0)) throw new TypeError('baseDelayMs must be ≥ 0');
  if (!(jitter >= 0 && jitter <= 1)) throw new TypeError('jitter must be between 0 and 1');
  if (!(timeoutMs > 0)) throw new TypeError('timeoutMs must be a positive number of milliseconds');
}

/** One POST of the delivery: its answer, or why none came. */
async function attempt(url: string, delivery: Delivery, { startedAt, delayMs, timeoutMs }: { startedAt: number; delayMs: number; timeoutMs: number }): Promise<Attempt> {
  const begin = performance.now();
  const at = Math.round(begin - startedAt);
  try {
    const response = await fetch(url, { method: 'POST', body: delivery.body, headers: delivery.headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { status: response.status, at, delayMs, ms: Math.round(performance.now() - begin), response: parseMaybeJson(text) };
  } catch (error) {
    return { status: null, at, delayMs, ms: Math.round(performance.now() - begin), error: describe(error) };
  }
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
