import type { z } from 'zod';
import type { WebhookError } from './errors.js';
import type { anyEnvelopeSchema } from './events.js';
import type { Settings } from './options.js';
import type { IncomingHeaders } from './request.js';
import type { ProcessResult, StoredDelivery } from './queue/types.js';
import type { DeliveryFacts } from './telemetry/logger.js';
import type { BodyInput } from './signature.js';
import type { EarlyRequest } from './inspector/source.js';

// The receiver's surface as the adapters (src/http/*) and the other subpaths see it. It lives apart
// from receiver.ts so that the layout reads top-down: the receiver builds adapters, adapters only
// know this module.

/** What `receive()` is given: the raw body and the signature header, and optionally the rest of the request. */
export interface ReceiveInput {
  body: BodyInput;
  /** The `x-webhook-signature` header value. */
  signature: string | readonly string[] | undefined;
  headers?: IncomingHeaders | undefined;
  url?: string | undefined;
}

/** An event whose name has no schema: only its envelope was checked. */
export type UnknownEvent = z.output<typeof anyEnvelopeSchema>;

export type ReceiveResult<Event> =
  | { outcome: 'handled'; event: Event }
  | { outcome: 'duplicate'; event: Event }
  | { outcome: 'queued'; event: Event }
  | { outcome: 'ignored'; event: UnknownEvent };

/** What an adapter needs of a receiver; not exported from the package. */
export interface ReceiverCore {
  readonly settings: Settings;
  /**
   * Runs the pipeline: the result itself when nothing had to wait (a fixed secret, no dedupe store,
   * synchronous handlers), a promise otherwise. Its rejections, thrown or rejected, are already
   * reported to `onError`.
   */
  receive(input: ReceiveInput): ReceiveResult<unknown> | Promise<ReceiveResult<unknown>>;
  /** Reports a rejection made by an adapter (405, 413 …), or a worker's failure, and returns it; `request` is for the inspector. */
  reject(error: WebhookError, request?: EarlyRequest): WebhookError;
  /**
   * Queued mode's worker side: validates a stored delivery again (it may have waited through a
   * deploy) and runs its handlers, but for those already `done` in an earlier attempt. Throws a
   * `WebhookPayloadError` when it no longer matches its schema.
   */
  process(delivery: StoredDelivery, job: { readonly id: string; readonly attempt: number; readonly done: readonly string[] }): Promise<ProcessResult>;
  /** Reports a failure that no HTTP answer carries (a worker's last attempt failed) to `onError` and the logger. */
  fail(error: WebhookError, facts: DeliveryFacts): WebhookError;
}

/** Receiver → its core: how adapters in other subpaths (Fastify, Koa …) reach it without a public method. */
const cores = new WeakMap<object, ReceiverCore>();

export function attachCore(receiver: object, core: ReceiverCore): void {
  cores.set(receiver, core);
}

/** The core of a receiver made by `createWebhookReceiver()`; a clear TypeError for anything else. */
export function coreOf(receiver: unknown): ReceiverCore {
  const core = typeof receiver === 'object' && receiver !== null ? cores.get(receiver) : undefined;
  if (core === undefined) throw new TypeError('Expected a receiver made by createWebhookReceiver()');
  return core;
}
