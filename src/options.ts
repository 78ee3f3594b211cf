import type { KeyObject } from 'node:crypto';
import bytes from 'bytes';
import { toKeys, type Secrets } from './signature.js';
import { defaultOrderKeys, type OrderKeys } from './deliver/order.js';
import type { MergeSchemas, SchemaMap } from './events.js';
import type { DedupeStore, OrderStore } from './stores/types.js';
import { MemoryDedupeStore } from './stores/memory.js';
import type { DeliveryQueue } from './queue/types.js';
import type { WebhookLogger } from './telemetry/logger.js';
import type { RequestInfo } from './request.js';

export type { IncomingHeaders, RequestInfo } from './request.js';

/** Chooses the secret(s) per request, e.g. per store. No secret (`undefined`, `''`, `[]`) → 401. */
export type SecretResolver = (request: RequestInfo) => Secrets | undefined | Promise<Secrets | undefined>;

/** The options of `createWebhookReceiver()`; every one has a default, and all are checked once, at creation. */
export interface ReceiverOptions<Custom extends SchemaMap = {}> {
  /** Signing secret, a list while rotating, or a resolver. Default `process.env.AICOMMERCE_WEBHOOK_SECRET`. */
  secret?: Secrets | SecretResolver | undefined;
  /** Seconds the envelope timestamp may differ from now, either way. Default 300; `false` turns it off. */
  tolerance?: number | false;
  /** Largest body accepted, in bytes or as `'512kb'`, `'1mb'`. Default `'1mb'`. */
  limit?: number | string;
  /** Milliseconds to wait for the whole body before answering 408. Default 10,000. */
  bodyTimeout?: number;
  /** An event with no schema: `'ignore'` answers 200 `ignored`, `'reject'` answers 400. Default `'ignore'`. */
  unknownEvents?: 'ignore' | 'reject';
  /** Where processed deliveries are remembered; `false` turns deduplication off. Default: in memory (inline mode only). */
  dedupe?: DedupeStore | false;
  /**
   * Latest wins: event name or `'prefix.*'` → the entity key of a delivery (or `undefined`: none).
   * An older delivery of an entity than the newest applied is answered `superseded` and not run;
   * one delivery per entity runs at a time. Default `defaultOrderKeys` (products by store and id,
   * daily reports by store and date); replace or extend it (`{ ...defaultOrderKeys, … }`); `false` turns it off.
   */
  order?: OrderKeys<MergeSchemas<NoInfer<Custom>>> | false;
  /**
   * Queued mode: store each delivery here (e.g. `new BullMQDeliveryQueue({ queue })` from
   * `aicommerce-webhooks/bullmq`) and answer 202; workers run the handlers. The queue's job ids
   * deduplicate, so `dedupe` does not apply. Default: none, handlers run inside the request.
   */
  queue?: DeliveryQueue;
  /** Handle only this path (others go to `next()`, or 404 on a bare server). Default: every path. */
  path?: string;
  /** The clock the timestamp is checked against. Default `() => new Date()`. */
  now?: () => Date;
  /** Replace or extend the `data` schema of events, or add events of your own. */
  schemas?: Custom;
  /**
   * A pino-style logger (`warn(obj, msg)`, `error(obj, msg)`): rejections (4xx) are logged as
   * `warn` with their code, status, event name and delivery id when known; failures (5xx) as
   * `error` with the error and its cause as `err`. Never the body, a signature or a secret.
   * Default: none, and a 5xx that no `onError` observer hears goes to `console.error`.
   */
  logger?: WebhookLogger | undefined;
}

/** Options with defaults applied and checked once, at creation. */
export interface Settings {
  /** Fixed keys, or `undefined` when a resolver picks them per request. */
  readonly keys: readonly KeyObject[] | undefined;
  readonly resolveSecret: SecretResolver | undefined;
  readonly toleranceMs: number | undefined;
  readonly limit: number;
  readonly bodyTimeout: number;
  readonly rejectUnknownEvents: boolean;
  readonly dedupe: DedupeStore | undefined;
  /** The entity key functions by pattern, as given; `undefined` when ordering is off. */
  readonly order: Readonly<Record<string, unknown>> | undefined;
  /** Where inline mode keeps the latest-wins marks: beside the dedupe records. */
  readonly orderStore: OrderStore;
  /** How long an entity's mark is kept: as long as an older delivery of it could still pass the freshness check. */
  readonly orderRetainMs: number;
  readonly queue: DeliveryQueue | undefined;
  /** How long a processed delivery is remembered: the whole span its timestamp is accepted in. */
  readonly rememberMs: number;
  readonly path: string | undefined;
  readonly now: () => number;
  readonly logger: WebhookLogger | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** `1048576`, `'1mb'`, `'512kb'` → bytes, read by `bytes` as body-parser and Express read their `limit` (1 kb = 1024). */
function parseByteSize(limit: number | string): number {
  const size = typeof limit === 'number' ? limit : typeof limit === 'string' ? bytes.parse(limit) : null;
  if (size === null || !Number.isSafeInteger(size) || size <= 0) {
    throw new TypeError(`limit must be a positive number of bytes or a size such as '1mb' (got ${String(limit)})`);
  }
  return size;
}

function positive(name: string, value: number): number {
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new TypeError(`${name} must be a positive finite number (got ${String(value)})`);
  }
  return value;
}

export function resolveSettings(options: ReceiverOptions<SchemaMap>): Settings {
  const secret = options.secret ?? process.env['AICOMMERCE_WEBHOOK_SECRET'];
  if (secret === undefined || secret === '' || (Array.isArray(secret) && secret.length === 0)) {
    throw new TypeError(
      'createWebhookReceiver: no webhook secret. Pass { secret } (the one given to client.webhooks.create) or set AICOMMERCE_WEBHOOK_SECRET.',
    );
  }
  const tolerance = options.tolerance ?? 300;
  const toleranceMs = tolerance === false ? undefined : positive('tolerance', tolerance) * 1000;
  const unknownEvents = options.unknownEvents ?? 'ignore';
  if (unknownEvents !== 'ignore' && unknownEvents !== 'reject') {
    throw new TypeError(`unknownEvents must be 'ignore' or 'reject' (got ${String(unknownEvents)})`);
  }
  const now = options.now;
  const queue = options.queue;
  if (queue !== undefined && typeof (queue as Partial<DeliveryQueue> | null)?.enqueue !== 'function') {
    throw new TypeError('queue must be a DeliveryQueue, e.g. new BullMQDeliveryQueue({ queue }) from aicommerce-webhooks/bullmq');
  }
  if (queue !== undefined && options.dedupe !== undefined && options.dedupe !== false) {
    throw new TypeError('dedupe does not apply in queued mode: the queue deduplicates by job id. Remove the dedupe option.');
  }
  const dedupe = options.dedupe === false || queue !== undefined ? undefined : (options.dedupe ?? new MemoryDedupeStore());
  const rememberMs = toleranceMs === undefined ? DAY_MS : 2 * toleranceMs;
  const order = checkOrder(options.order);
  return {
    keys: typeof secret === 'function' ? undefined : toKeys(secret),
    resolveSecret: typeof secret === 'function' ? secret : undefined,
    toleranceMs,
    limit: parseByteSize(options.limit ?? '1mb'),
    bodyTimeout: positive('bodyTimeout', options.bodyTimeout ?? 10_000),
    rejectUnknownEvents: unknownEvents === 'reject',
    dedupe,
    order,
    orderStore: order === undefined ? new MemoryDedupeStore() : orderStoreBeside(dedupe), // unused with order: false
    // An older delivery of an entity passes the freshness check for as long as a replay would.
    orderRetainMs: rememberMs,
    queue,
    // A timestamp is accepted from (t − tolerance) to (t + tolerance): remembering a delivery for
    // twice the tolerance covers every moment a replay of it could still look fresh.
    rememberMs,
    path: options.path === undefined ? undefined : normalizePath(options.path),
    now: now === undefined ? Date.now : () => now().getTime(),
    logger: checkLogger(options.logger),
  };
}

function checkOrder(order: unknown): Readonly<Record<string, unknown>> | undefined {
  if (order === false) return undefined;
  if (order === undefined) return defaultOrderKeys;
  if (typeof order !== 'object' || order === null) throw new TypeError('order must be an object of entity key functions (e.g. { ...defaultOrderKeys }) or false');
  return order as Readonly<Record<string, unknown>>;
}

const isOrderStore = (store: unknown): store is OrderStore => typeof (store as Partial<OrderStore> | undefined)?.hold === 'function';

/**
 * The marks live beside the dedupe records, so they are shared exactly as widely. A store of your
 * own that keeps no marks (no `hold()`) gets them kept in this process's memory, said once.
 */
function orderStoreBeside(dedupe: DedupeStore | undefined): OrderStore {
  if (isOrderStore(dedupe)) return dedupe;
  if (dedupe !== undefined) {
    process.emitWarning(
      'this dedupe store has no hold(): latest-wins marks are kept in this process only. Implement OrderStore (see MemoryDedupeStore) or pass order: false.',
      { type: 'AICommerceWebhooksWarning' },
    );
  }
  return new MemoryDedupeStore();
}

function checkLogger(logger: WebhookLogger | undefined): WebhookLogger | undefined {
  if (logger === undefined) return undefined;
  const candidate = logger as Partial<WebhookLogger> | null;
  if (typeof candidate?.warn !== 'function' || typeof candidate.error !== 'function') {
    throw new TypeError('logger must have warn(obj, msg) and error(obj, msg) methods, as pino does');
  }
  return logger;
}

/** `/a/b/` and `/a/b` are one path; the query string is not part of it. */
export function normalizePath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}
