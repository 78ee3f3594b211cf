import type { WebhookError } from './errors.js';
import type { HandlerRegistry } from './handlers.js';
import type { Answer } from './http/answers.js';
import type { Settings } from './options.js';
import type { StoredJob, StoredOrder } from './deliver/queued.js';
import type { ProcessResult, StoredDelivery } from './queue/types.js';
import type { Reporter } from './report.js';
import type { HttpRequest } from './request.js';
import type { DeliveryFacts } from './telemetry/logger.js';

// What the adapters (src/http/), the queue worker (src/queue/) and the inspector get of a receiver:
// not public API. A receiver registers its own here when it is made; adapters in other subpaths
// find it with `adapterApiOf(receiver)`.

export interface AdapterApi {
  readonly settings: Settings;
  /** One HTTP request the whole way; `respond` gets the answer to write, once. Every rejection is reported already. */
  answer(request: HttpRequest, respond: (answer: Answer) => void): void;
  /** Queued mode's worker side: a stored delivery, checked again, its entity held (latest wins), through its pending handlers. */
  process(delivery: StoredDelivery, job: StoredJob, order: StoredOrder | undefined): Promise<ProcessResult>;
  /** How long a delivery is remembered inline (twice the tolerance): what a worker's order marks add their retry horizon to. */
  readonly rememberMs: number;
  /** The one reporting path, for failures no answer carries (a worker's dead letter, a store that failed after the answer). */
  report(error: WebhookError, facts: DeliveryFacts): WebhookError;
  readonly handlers: HandlerRegistry;
  readonly reporter: Reporter;
}

const apis = new WeakMap<object, AdapterApi>();

export function registerAdapterApi(receiver: object, api: AdapterApi): void {
  apis.set(receiver, api);
}

/** The adapter API of a receiver made by `createWebhookReceiver()`; a clear TypeError for anything else. */
export function adapterApiOf(receiver: unknown): AdapterApi {
  const api = typeof receiver === 'object' && receiver !== null ? apis.get(receiver) : undefined;
  if (api === undefined) throw new TypeError('Expected a receiver made by createWebhookReceiver()');
  return api;
}
