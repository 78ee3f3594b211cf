import { createHmac } from 'node:crypto';
import type { ReceiveInput, ReceiveResult } from '../core.js';
import type { WebhookError } from '../errors.js';
import { answerForResult } from '../http/exchange.js';
import type { Settings } from '../options.js';
import { keysFor } from '../pipeline.js';
import type { RequestInfo } from '../request.js';
import type { BodyInput } from '../signature.js';
import { DeliveryContext } from '../context.js';
import { asWebhookError, factsOfError } from '../telemetry/facts.js';
import { outcomeOfStatus } from '../telemetry/names.js';
import type { HandlerRunner } from '../telemetry/observer.js';
import type { DeliveryRecord, EarlyRequest, HandlerRun, InspectorSource, RecordOutcome } from './source.js';

// The receiver's side of the inspector: it turns the deliveries the receiver answers into
// DeliveryRecords, but only while an inspector listens. With no listener, the receiver checks one
// boolean per delivery and per handler run, and does nothing else for it.

type Result = ReceiveResult<unknown>;
type Run = (input: ReceiveInput) => Result | Promise<Result>;
type Listener = (record: DeliveryRecord) => void;

/** A handler as the receiver registered it. */
export interface HandlerRegistration {
  readonly pattern: string;
  readonly key: string;
  readonly handler: unknown;
}

type Registrations = (event: string) => readonly HandlerRegistration[];

/**
 * One handler's run as the hot path leaves it: the n-th handler of its delivery, and how it went.
 * Which registration that was is looked up only when the page reads it.
 */
class RunSlot implements HandlerRun {
  ok = true;
  error: unknown = undefined;
  ms = 0;
  readonly #registrations: Registrations;
  readonly #event: unknown;
  readonly #index: number;
  readonly #handler: unknown;
  #registration: HandlerRegistration | undefined;

  /** `event` is the event's name (the record must not keep the parsed delivery alive). */
  constructor(registrations: Registrations, event: unknown, index: number, handler: unknown) {
    this.#registrations = registrations;
    this.#event = event;
    this.#index = index;
    this.#handler = handler;
  }

  /** Records the failure; returns the error to rethrow. */
  failed(started: number, error: unknown): unknown {
    this.ms = performance.now() - started;
    this.ok = false;
    this.error = error;
    return error;
  }

  get key(): string {
    return this.#lookup()?.key ?? '?';
  }

  get pattern(): string {
    return this.#lookup()?.pattern ?? '?';
  }

  get name(): string {
    return typeof this.#handler === 'function' ? this.#handler.name : '';
  }

  /** The delivery's handlers run in registration order, so the n-th run is the n-th matching registration. */
  #lookup(): HandlerRegistration | undefined {
    const name = this.#event;
    if (this.#registration !== undefined || typeof name !== 'string') return this.#registration;
    const registrations = this.#registrations(name);
    const at = registrations[this.#index];
    return (this.#registration = at?.handler === this.#handler ? at : registrations.find((r) => r.handler === this.#handler));
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/** Where a recorded delivery's input carries the list its handler runs go to. */
const RUNS = Symbol('inspector handler runs');

/** The input the pipeline runs with while a delivery is recorded: the caller's own fields, and its runs. */
interface TrackedInput extends ReceiveInput {
  readonly [RUNS]: RunSlot[];
}

export class InspectorFeed {
  #listeners: readonly Listener[] = [];
  readonly #registrations: Registrations;
  /** True while some inspector listens: the only thing the receiver checks when none does. */
  active = false;

  constructor(registrations: Registrations) {
    this.#registrations = registrations;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners = [...this.#listeners, listener];
    this.active = true;
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
      this.active = this.#listeners.length > 0;
    };
  }

  /** Runs one delivery through `run` (the observed pipeline) and records how it ended. */
  observe(input: ReceiveInput, run: Run): Result | Promise<Result> {
    const started = performance.now();
    const runs: RunSlot[] = [];
    const tracked: TrackedInput = { body: input.body, signature: input.signature, headers: input.headers, url: input.url, [RUNS]: runs };
    let settled;
    try {
      settled = run(tracked);
    } catch (error) {
      this.#end(started, input, runs, undefined, error);
      throw error;
    }
    if (!isThenable(settled)) {
      this.#end(started, input, runs, settled, undefined);
      return settled;
    }
    return settled.then(
      (result) => {
        this.#end(started, input, runs, result, undefined);
        return result;
      },
      (error: unknown) => {
        this.#end(started, input, runs, undefined, error);
        throw error;
      },
    );
  }

  #end(started: number, input: ReceiveInput, runs: readonly RunSlot[], result: Result | undefined, error: unknown): void {
    this.#emit(new PipelineRecord(started, performance.now() - started, input, runs, result, result === undefined ? asWebhookError(error) : undefined));
  }

  /** A rejection an adapter made before the pipeline ran (405, 415, 413 …). */
  rejected(error: WebhookError, request: EarlyRequest | undefined): void {
    this.#emit(earlyRecord(error, request));
  }

  /** The handler runner for the delivery `input` is: `inner`, timed into its record when it is being recorded. */
  runnerFor(input: ReceiveInput, inner: HandlerRunner): HandlerRunner {
    const runs = (input as Partial<TrackedInput>)[RUNS];
    if (runs === undefined) return inner;
    return (handler, event, context) => {
      const slot = new RunSlot(this.#registrations, (event as { event?: unknown } | null)?.event, runs.length, handler);
      runs.push(slot);
      const started = performance.now();
      let result;
      try {
        result = inner(handler, event, context);
      } catch (error) {
        throw slot.failed(started, error);
      }
      if (!isThenable(result)) {
        slot.ms = performance.now() - started;
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          slot.ms = performance.now() - started;
          return value;
        },
        (error: unknown) => {
          throw slot.failed(started, error);
        },
      );
    };
  }

  #emit(record: DeliveryRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (error) {
        // A listener's trouble must never change a delivery's answer.
        process.emitWarning(`an inspector listener threw: ${error instanceof Error ? error.message : String(error)}`, { type: 'AICommerceWebhooksWarning' });
      }
    }
  }
}

/**
 * A delivery that went through the pipeline. Its id and, for a rejection, its event name are
 * worked out only when the page asks (they cost a hash and perhaps a parse), by the rules logs and
 * spans use. It keeps the body, not the parsed delivery: a record lives for `limit` deliveries, and
 * what it holds is copied by every garbage collection it survives.
 */
class PipelineRecord implements DeliveryRecord {
  readonly method = undefined;
  readonly at: number;
  readonly url: string | undefined;
  readonly headers: DeliveryRecord['headers'];
  readonly body: BodyInput | undefined;
  readonly outcome: RecordOutcome;
  readonly status: number;
  readonly handlers: readonly HandlerRun[];
  /** The event name of a delivery that passed, read at once (a string). */
  readonly #passed: string | undefined;
  #facts: { event?: string; deliveryId?: string } | undefined;

  constructor(
    started: number,
    readonly durationMs: number,
    input: ReceiveInput,
    runs: readonly RunSlot[],
    result: Result | undefined,
    readonly error: WebhookError | undefined,
  ) {
    this.at = performance.timeOrigin + started; // one clock read for both
    this.url = input.url;
    const signature = input.signature;
    this.headers = input.headers ?? (signature === undefined ? {} : { 'x-webhook-signature': typeof signature === 'string' ? signature : [...signature] });
    // receive() given something other than raw bytes (a parsed object) was refused as misconfigured: no body to show.
    this.body = typeof input.body === 'string' || input.body instanceof Uint8Array ? input.body : undefined;
    this.status = result !== undefined ? answerForResult(result).status : error!.status;
    this.outcome = result !== undefined ? result.outcome : outcomeOfStatus(this.status);
    this.handlers = runs;
    const name = (result?.event as { event?: unknown } | undefined)?.event;
    this.#passed = result === undefined ? undefined : typeof name === 'string' ? name : '';
  }

  get event(): string | undefined {
    return this.#factsOf().event;
  }

  get deliveryId(): string | undefined {
    return this.#factsOf().deliveryId;
  }

  #factsOf(): { event?: string; deliveryId?: string } {
    if (this.body === undefined) return {};
    if (this.#passed === undefined) return (this.#facts ??= factsOfError({ body: this.body, signature: undefined }, this.error!));
    // As factsOfResult (src/telemetry/facts.ts) has it: the id handlers see, an event name of at most 256 characters.
    const deliveryId = new DeliveryContext(this.body, {}, undefined).id;
    return (this.#facts ??= this.#passed.length <= 256 && this.#passed !== '' ? { deliveryId, event: this.#passed } : { deliveryId });
  }
}

function earlyRecord(error: WebhookError, request: EarlyRequest | undefined): DeliveryRecord {
  return {
    at: performance.timeOrigin + performance.now(),
    durationMs: 0,
    method: request?.method,
    url: request?.url,
    headers: request?.headers ?? {},
    body: undefined,
    outcome: outcomeOfStatus(error.status),
    status: error.status,
    error,
    event: undefined,
    deliveryId: undefined,
    handlers: [],
  };
}

/** What `InspectorSource` needs beyond the feed. */
export interface SourceParts {
  readonly feed: InspectorFeed;
  readonly settings: Settings;
  readonly eventNames: readonly string[];
  receive(input: ReceiveInput): Result | Promise<Result>;
}

export function inspectorSource({ feed, settings, eventNames, receive }: SourceParts): InspectorSource {
  return {
    subscribe: (listener) => feed.subscribe(listener),
    receive: async (input) => receive(input),
    async sign(body: string, request: RequestInfo) {
      const key = settings.keys?.[0] ?? (await keysFor(settings, request))[0]!;
      return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    },
    eventNames,
    toleranceMs: settings.toleranceMs,
    now: settings.now,
  };
}
