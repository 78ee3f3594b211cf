import { createHmac } from 'node:crypto';
import type { Settings } from '../options.js';
import { keysFor } from '../pipeline.js';
import type { Reporter } from '../report.js';
import type { ReceiveInput, RequestInfo } from '../request.js';
import type { DeliveryRecord } from '../telemetry/delivery-record.js';

// What the inspector needs of a receiver, and nothing more: `sourceOf()` below makes it from the
// receiver's parts (see `inspector()` in src/receiver.ts), the inspector only reads it. Everything
// the page shows is worked out from the records the receiver's reporter makes (src/report.ts), and
// only while an inspector is mounted.

export type { DeliveryRecord, EarlyRequest, HandlerRun, RecordOutcome } from '../telemetry/delivery-record.js';

export interface InspectorSource {
  /**
   * Calls `listener` once per delivery, after its answer is known (and, for a delivery made through
   * `receive` below, before that promise settles); only while at least one listener is attached.
   */
  subscribe(listener: (record: DeliveryRecord) => void): () => void;
  /** The receiver's own `receive()`: replays, samples and "send it wrong" go through it, and so are recorded. */
  receive(input: ReceiveInput): Promise<unknown>;
  /**
   * `sha256=<hex>` of `body` with the receiver's secret: the first of a rotation list; for a
   * resolver, the first one it gives for `request` (it rejects when the resolver gives none).
   */
  sign(body: string, request: RequestInfo): Promise<string>;
  /** Event names the receiver has schemas for. */
  readonly eventNames: readonly string[];
  /** The timestamp tolerance in ms, `undefined` when off. */
  readonly toleranceMs: number | undefined;
  /** The receiver's clock (its `now` option), in epoch ms: replays and samples are fresh by it. */
  now(): number;
}

/** The receiver's parts the source is made of. */
export interface ReceiverParts {
  readonly reporter: Reporter;
  readonly settings: Settings;
  readonly eventNames: readonly string[];
  receive(input: ReceiveInput): Promise<unknown>;
}

export function sourceOf({ reporter, settings, eventNames, receive }: ReceiverParts): InspectorSource {
  return {
    subscribe: (listener) => reporter.subscribe(listener),
    receive,
    async sign(body, request) {
      const key = settings.keys?.[0] ?? (await keysFor(settings.resolveSecret!, request))[0]!;
      return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    },
    eventNames,
    toleranceMs: settings.toleranceMs,
    now: settings.now,
  };
}
