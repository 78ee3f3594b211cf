import { createHmac } from 'node:crypto';
import type { DeliveryContext } from '../context.js';
import type { ReceiveInput, ReceiveResult } from '../core.js';
import type { WebhookError } from '../errors.js';
import { answerForResult } from '../http/exchange.js';
import type { Settings } from '../options.js';
import { keysFor } from '../pipeline.js';
import type { RequestInfo } from '../request.js';
import type { BodyInput } from '../signature.js';
import { asWebhookError, factsOfError, factsOfResult } from '../telemetry/facts.js';
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

interface RunSlot {
  key: string;
  pattern: string;
  name: string;
  ok: boolean;
  error?: unknown;
  ms: number;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === 'function';

const elapsed = (since: number): number => Math.round((performance.now() - since) * 100) / 100;

export class InspectorFeed {
  readonly #listeners = new Set<Listener>();
  /** A delivery's input, then its DeliveryContext (see `link`) → the handler runs of that delivery. */
  readonly #runs = new WeakMap<object, RunSlot[]>();
  readonly #registrations: (event: string) => readonly HandlerRegistration[];
  /** True while some inspector listens: the only thing the receiver checks when none does. */
  active = false;

  constructor(registrations: (event: string) => readonly HandlerRegistration[]) {
    this.#registrations = registrations;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    this.active = true;
    return () => {
      this.#listeners.delete(listener);
      this.active = this.#listeners.size > 0;
    };
  }

  /** Runs one delivery through `run` (the observed pipeline) and records how it ended. */
  observe(input: ReceiveInput, run: Run): Result | Promise<Result> {
    const at = Date.now();
    const started = performance.now();
    const runs: RunSlot[] = [];
    this.#runs.set(input, runs);
    const end = (result: Result | undefined, error: unknown): void =>
      this.#emit(new PipelineRecord(at, elapsed(started), input, runs, result, result === undefined ? asWebhookError(error) : undefined));
    let settled;
    try {
      settled = run(input);
    } catch (error) {
      end(undefined, error);
      throw error;
    }
    if (!isThenable(settled)) {
      end(settled, undefined);
      return settled;
    }
    return settled.then(
      (result) => {
        end(result, undefined);
        return result;
      },
      (error: unknown) => {
        end(undefined, error);
        throw error;
      },
    );
  }

  /** A rejection an adapter made before the pipeline ran (405, 415, 413 …). */
  rejected(error: WebhookError, request: EarlyRequest | undefined): void {
    this.#emit(earlyRecord(error, request));
  }

  /** Ties a delivery's DeliveryContext to its input, so that its handler runs land in its record. */
  link(input: ReceiveInput, context: DeliveryContext): void {
    const runs = this.#runs.get(input);
    if (runs !== undefined) this.#runs.set(context, runs);
  }

  /** `inner`, timed into the delivery's record while an inspector listens. */
  runner(inner: HandlerRunner): HandlerRunner {
    return (handler, event, context) => {
      const runs = this.active ? this.#runs.get(context) : undefined;
      if (runs === undefined) return inner(handler, event, context);
      const slot = this.#slot(handler, event, runs);
      runs.push(slot);
      const started = performance.now();
      const failed = (error: unknown): never => {
        slot.ms = elapsed(started);
        slot.ok = false;
        slot.error = error;
        throw error;
      };
      let result;
      try {
        result = inner(handler, event, context);
      } catch (error) {
        return failed(error);
      }
      if (!isThenable(result)) {
        slot.ms = elapsed(started);
        return result;
      }
      return Promise.resolve(result).then((value) => {
        slot.ms = elapsed(started);
        return value;
      }, failed);
    };
  }

  /** The registration behind `handler` (the first one not yet run, should one function be registered twice). */
  #slot(handler: unknown, event: unknown, runs: readonly RunSlot[]): RunSlot {
    const name = (event as { event?: unknown } | null)?.event;
    const registration =
      typeof name === 'string'
        ? this.#registrations(name).find((r) => r.handler === handler && !runs.some((run) => run.key === r.key))
        : undefined;
    return {
      key: registration?.key ?? '?',
      pattern: registration?.pattern ?? '?',
      name: typeof handler === 'function' ? handler.name : '',
      ok: true,
      ms: 0,
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
 * A delivery that went through the pipeline. Its event name and id are read only when the page
 * asks (they cost a hash and perhaps a parse), by the same rules logs and spans use.
 */
class PipelineRecord implements DeliveryRecord {
  readonly method = undefined;
  readonly url: string | undefined;
  readonly headers: DeliveryRecord['headers'];
  readonly body: BodyInput;
  readonly outcome: RecordOutcome;
  readonly status: number;
  readonly handlers: readonly HandlerRun[];
  readonly #input: ReceiveInput;
  readonly #result: Result | undefined;
  #facts: { event?: string; deliveryId?: string } | undefined;

  constructor(
    readonly at: number,
    readonly durationMs: number,
    input: ReceiveInput,
    runs: readonly RunSlot[],
    result: Result | undefined,
    readonly error: WebhookError | undefined,
  ) {
    this.#input = input;
    this.#result = result;
    this.url = input.url;
    const signature = input.signature;
    this.headers = input.headers ?? (signature === undefined ? {} : { 'x-webhook-signature': typeof signature === 'string' ? signature : [...signature] });
    this.body = input.body;
    this.status = result !== undefined ? answerForResult(result).status : error!.status;
    this.outcome = result !== undefined ? result.outcome : outcomeOfStatus(this.status);
    this.handlers = runs;
  }

  get event(): string | undefined {
    return this.#factsOf().event;
  }

  get deliveryId(): string | undefined {
    return this.#factsOf().deliveryId;
  }

  #factsOf(): { event?: string; deliveryId?: string } {
    return (this.#facts ??= this.#result !== undefined ? factsOfResult(this.#input, this.#result) : factsOfError(this.#input, this.error!));
  }
}

function earlyRecord(error: WebhookError, request: EarlyRequest | undefined): DeliveryRecord {
  return {
    at: Date.now(),
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
