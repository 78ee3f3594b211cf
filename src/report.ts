import type { Span } from '@opentelemetry/api';
import { asWebhookError, WebhookHandlerError, type WebhookError } from './errors.js';
import type { HandlerRun, HandlerRunner, Unsubscribe } from './handlers.js';
import { STATUS_BY_OUTCOME, type ReceiveResult } from './outcome.js';
import type { ReceiveInput } from './request.js';
import { openTelemetryApi } from './telemetry/api.js';
import { RecordedDelivery, type DeliveryRecord, type EarlyRequest } from './telemetry/delivery-record.js';
import { factsOf } from './telemetry/facts.js';
import { logError, type DeliveryFacts, type WebhookLogger } from './telemetry/logger.js';
import { outcomeOfStatus } from './telemetry/names.js';
import { OpenTelemetryInstruments } from './telemetry/otel.js';

// The one reporting path. Every rejection and failure — of a delivery, of an adapter's early check,
// of a store after the answer, of a worker's job — goes through `report()`, which feeds `onError`,
// the logger and telemetry once. Adapters never report: they hand their request to the receiver.

/** A function given to `onError()`: told every rejection and failure, once each; what it returns or throws changes no answer. */
export type ErrorObserver = (error: WebhookError) => unknown;

/** The internal end of a delivery: its result, and the handler runs behind it. */
export interface Delivered {
  readonly result: ReceiveResult<unknown>;
  readonly runs: readonly HandlerRun[];
}

type Listener = (record: DeliveryRecord) => void;


const callHandler: HandlerRunner = (handler, event, context) => handler(event, context);

export class Reporter {
  readonly #observers: ErrorObserver[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #logger: WebhookLogger | undefined;
  readonly #otel: OpenTelemetryInstruments | undefined;
  readonly #isKnownEvent: (name: string) => boolean;
  /** Runs a handler in its span and times it when OpenTelemetry is there; just calls it otherwise. */
  readonly runHandler: HandlerRunner;

  constructor(logger: WebhookLogger | undefined, isKnownEvent: (name: string) => boolean) {
    const api = openTelemetryApi();
    this.#logger = logger;
    this.#otel = api === undefined ? undefined : new OpenTelemetryInstruments(api);
    this.#isKnownEvent = isKnownEvent;
    const otel = this.#otel;
    this.runHandler = otel === undefined ? callHandler : (handler, event, context) => otel.runHandler(handler, event, context);
  }

  get logger(): WebhookLogger | undefined {
    return this.#logger;
  }

  onError(observer: ErrorObserver): Unsubscribe {
    if (typeof observer !== 'function') throw new TypeError('onError(): the observer must be a function');
    this.#observers.push(observer);
    return () => {
      const index = this.#observers.indexOf(observer);
      if (index !== -1) this.#observers.splice(index, 1);
    };
  }

  /** Deliveries as records, for the inspector; nothing is recorded while no one listens. */
  subscribe(listener: Listener): Unsubscribe {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Tells `onError`, the logger (and, without either, `console.error` for a 5xx) about one failure, once. */
  report(error: WebhookError, facts: DeliveryFacts): WebhookError {
    if (facts.event !== undefined) error.eventName ??= facts.event;
    if (facts.deliveryId !== undefined) error.deliveryId ??= facts.deliveryId;
    if (this.#logger !== undefined) logError(this.#logger, error, facts);
    if (this.#observers.length === 0) {
      // Nobody is listening: a server-side failure must not pass silently; a 4xx is the sender's problem.
      if (error.status >= 500 && this.#logger === undefined) console.error(`[aicommerce-webhooks] ${error.status} ${error.code}: ${error.message}`, ...causesOf(error));
      return error;
    }
    for (const observer of this.#observers) {
      try {
        Promise.resolve(observer(error)).catch(warnObserverFailed);
      } catch (observerError) {
        warnObserverFailed(observerError);
      }
    }
    return error;
  }

  /**
   * Runs one delivery (`run`, the pipeline) in its span, and says how it ended: a rejection is
   * reported and thrown; the span, the metric and the inspector's record are written either way.
   * (One `then`, no async frame: this is on every delivery's way.)
   */
  observe(input: ReceiveInput, request: EarlyRequest | undefined, run: (input: ReceiveInput) => Promise<Delivered>): Promise<ReceiveResult<unknown>> {
    const otel = this.#otel;
    const span = otel?.startDelivery();
    const ending = { span, counting: otel?.counting() === true, at: this.#listeners.size === 0 ? 0 : Date.now() };
    let pending: Promise<Delivered>;
    try {
      pending = span === undefined ? run(input) : otel!.withSpan(span, () => run(input));
    } catch (thrown) {
      return Promise.reject(this.#failed(thrown, input, request, ending));
    }
    return pending.then(
      (delivered) => this.#delivered(delivered, input, request, ending),
      (thrown: unknown) => {
        throw this.#failed(thrown, input, request, ending);
      },
    );
  }

  #delivered(delivered: Delivered, input: ReceiveInput, request: EarlyRequest | undefined, { span, counting, at }: Ending): ReceiveResult<unknown> {
    const superseded = delivered.result.outcome === 'superseded' && this.#logger?.info !== undefined;
    if (span !== undefined || counting || superseded) {
      const facts = factsOf(input, delivered.result);
      if (superseded) logSuperseded(this.#logger!, facts);
      const status = STATUS_BY_OUTCOME[delivered.result.outcome];
      if (span !== undefined || counting) this.#otel!.endDelivery(span, { outcome: delivered.result.outcome, status, error: undefined, facts, knownEvent: this.#known(facts) });
    }
    if (at !== 0) this.#record(at, request, input, delivered, undefined);
    return delivered.result;
  }

  #failed(thrown: unknown, input: ReceiveInput, request: EarlyRequest | undefined, { span, counting, at }: Ending): WebhookError {
    const error = asWebhookError(thrown);
    const facts = factsOf(input, error);
    this.report(error, facts);
    if (span !== undefined || counting) {
      const knownEvent = error instanceof WebhookHandlerError ? this.#known(facts) : undefined;
      this.#otel!.endDelivery(span, { outcome: outcomeOfStatus(error.status), status: error.status, error, facts, knownEvent });
    }
    if (at !== 0) this.#record(at, request, input, undefined, error);
    return error;
  }

  /** A rejection an adapter's request got before the pipeline ran (405, 415, 413, 408): reported, counted, given a span and a record. */
  rejected(error: WebhookError, request: EarlyRequest): WebhookError {
    const at = this.#listeners.size === 0 ? 0 : Date.now();
    this.report(error, {});
    this.#otel?.rejectedEarly(error, outcomeOfStatus(error.status));
    if (at !== 0) this.#record(at, request, undefined, undefined, error);
    return error;
  }

  /** The event name, for metrics, only when the receiver has a schema for it (a bounded set of labels) and its handlers were reached. */
  #known(facts: DeliveryFacts): string | undefined {
    return facts.event !== undefined && this.#isKnownEvent(facts.event) ? facts.event : undefined;
  }

  #record(at: number, request: EarlyRequest | undefined, input: ReceiveInput | undefined, delivered: Delivered | undefined, error: WebhookError | undefined): void {
    const ending = delivered?.result ?? error!;
    const runs = delivered?.runs ?? (error instanceof WebhookHandlerError ? handlerRunsOf(error) : []);
    const record = new RecordedDelivery(at, request, input, ending, runs);
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (listenerError) {
        warnObserverFailed(listenerError); // a listener's trouble never changes an answer
      }
    }
  }
}

/** How a delivery's end is to be told: its span (when recording), whether metrics count, when it arrived (records). */
interface Ending {
  readonly span: Span | undefined;
  readonly counting: boolean;
  /** 0 while no one records deliveries. */
  readonly at: number;
}

function logSuperseded(logger: WebhookLogger, facts: DeliveryFacts): void {
  try {
    logger.info!({ outcome: 'superseded', status: 200, ...facts }, 'Delivery superseded: a newer one of the same entity was applied already; its handlers did not run');
  } catch (loggerError) {
    process.emitWarning(`the logger threw: ${loggerError instanceof Error ? loggerError.message : String(loggerError)}`, { type: 'AICommerceWebhooksWarning' });
  }
}

const causesOf = (error: WebhookError): unknown[] =>
  error instanceof WebhookHandlerError ? [...error.errors] : error.cause === undefined ? [] : [error.cause];

/** The handler runs behind a `WebhookHandlerError`, kept beside it (not on it: the public error stays as documented). */
const runsByError = new WeakMap<WebhookHandlerError, readonly HandlerRun[]>();

export function handlerFailure(runs: readonly HandlerRun[], event: unknown): WebhookHandlerError {
  const error = new WebhookHandlerError(
    runs.filter((run) => !run.ok).map((run) => run.error),
    event,
  );
  runsByError.set(error, runs);
  return error;
}

const handlerRunsOf = (error: WebhookHandlerError): readonly HandlerRun[] => runsByError.get(error) ?? [];

function warnObserverFailed(error: unknown): void {
  process.emitWarning(`an onError observer threw: ${error instanceof Error ? error.message : String(error)}`, { type: 'AICommerceWebhooksWarning' });
}
