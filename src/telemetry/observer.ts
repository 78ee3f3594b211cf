import type { WebhookError } from '../errors.js';
import type { ReceiveInput, ReceiveResult } from '../core.js';
import { answerForResult } from '../http/exchange.js';
import { openTelemetryApi } from './api.js';
import { asWebhookError, factsOfError, factsOfResult } from './facts.js';
import { logError, type DeliveryFacts, type WebhookLogger } from './logger.js';
import { outcomeOfStatus } from './names.js';
import { OpenTelemetryInstruments, type Handler } from './otel.js';
import type { DeliveryContext } from '../context.js';

type Result = ReceiveResult<unknown>;
type Run = (input: ReceiveInput) => Result | Promise<Result>;

/** Calls one handler; the receiver's dispatch calls every handler through one of these. */
export type HandlerRunner = (handler: Handler, event: unknown, context: DeliveryContext) => unknown;

const callHandler: HandlerRunner = (handler, event, context) => handler(event, context);

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * Everything a receiver tells the outside about its deliveries besides `onError`: OpenTelemetry
 * spans and metrics (when `@opentelemetry/api` is installed) and the `logger`'s records. When
 * neither is there, a delivery goes straight through: no promise, closure or attribute is made.
 */
export class DeliveryObserver {
  readonly #logger: WebhookLogger | undefined;
  readonly #otel: OpenTelemetryInstruments | undefined;
  readonly #isKnownEvent: (name: string) => boolean;
  /** True while a delivery that nothing records runs synchronously: its handlers need no check of their own. */
  #quiet = false;
  /** Runs a handler in its span and times it, or just calls it without OpenTelemetry. */
  readonly runHandler: HandlerRunner;

  constructor(logger: WebhookLogger | undefined, isKnownEvent: (name: string) => boolean) {
    const api = openTelemetryApi();
    this.#logger = logger;
    this.#otel = api === undefined ? undefined : new OpenTelemetryInstruments(api);
    this.#isKnownEvent = isKnownEvent;
    const otel = this.#otel;
    this.runHandler =
      otel === undefined ? callHandler : (handler, event, context) => (this.#quiet ? handler(event, context) : otel.runHandler(handler, event, context));
  }

  /** Runs one delivery through `run` (the pipeline), in its span, and records how it ended. */
  observe(input: ReceiveInput, run: Run): Result | Promise<Result> {
    const otel = this.#otel;
    if (otel === undefined && this.#logger === undefined) return run(input);
    const span = otel?.startDelivery();
    const counting = otel?.counting() === true;
    if (span === undefined && !counting && this.#logger === undefined) return this.#runQuietly(input, run);

    const end = (result: Result | undefined, error: unknown): void => {
      const failure = result === undefined ? asWebhookError(error) : undefined;
      const facts = span !== undefined || (failure !== undefined && this.#logger !== undefined) ? this.#facts(input, result, failure) : {};
      if (failure !== undefined && this.#logger !== undefined) logError(this.#logger, failure, facts);
      if (span === undefined && !counting) return;
      otel!.endDelivery(span, {
        outcome: result?.outcome ?? outcomeOfStatus(failure!.status),
        status: result === undefined ? failure!.status : answerForResult(result).status,
        error: failure,
        facts,
        knownEvent: this.#knownEvent(result, failure),
      });
    };
    let settled;
    try {
      settled = span === undefined ? run(input) : otel!.withSpan(span, run, input);
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

  #runQuietly(input: ReceiveInput, run: Run): Result | Promise<Result> {
    const quiet = this.#quiet;
    this.#quiet = true;
    try {
      return run(input);
    } finally {
      this.#quiet = quiet;
    }
  }

  /** A rejection an adapter made before the pipeline ran (405, 415, 413 …): logged, counted, given a span. */
  rejected(error: WebhookError): WebhookError {
    if (this.#logger !== undefined) logError(this.#logger, error);
    this.#otel?.rejectedEarly(error, outcomeOfStatus(error.status));
    return error;
  }

  /** A failure reported outside a delivery's answer (a dedupe store that could not commit): logged. */
  log(error: WebhookError, facts: DeliveryFacts): void {
    if (this.#logger !== undefined) logError(this.#logger, error, facts);
  }

  #facts(input: ReceiveInput, result: Result | undefined, failure: WebhookError | undefined): DeliveryFacts {
    return result !== undefined ? factsOfResult(input, result) : factsOfError(input, failure!);
  }

  /** The event name, for metrics, only when the receiver has a schema for it: a bounded set of labels. */
  #knownEvent(result: Result | undefined, failure: WebhookError | undefined): string | undefined {
    const event = result !== undefined && result.outcome !== 'ignored' ? result.event : (failure as { event?: unknown } | undefined)?.event;
    const name = (event as { event?: unknown } | undefined)?.event;
    return typeof name === 'string' && this.#isKnownEvent(name) ? name : undefined;
  }
}
