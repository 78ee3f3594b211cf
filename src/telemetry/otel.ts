import type { Attributes, Counter, Histogram, Span, SpanOptions, Tracer, TracerProvider } from '@opentelemetry/api';
import type { DeliveryContext } from '../context.js';
import type { WebhookError } from '../errors.js';
import { instrumentationScope, type OpenTelemetryApi } from './api.js';
import {
  ATTR_DELIVERY_ID,
  ATTR_ERROR_TYPE,
  ATTR_EVENT,
  ATTR_FUNCTION,
  ATTR_OUTCOME,
  ATTR_STATUS,
  METRIC_DELIVERIES,
  METRIC_HANDLER_DURATION,
  SPAN_DELIVERY,
  SPAN_HANDLER,
} from './names.js';
import type { DeliveryFacts } from './logger.js';

export type Handler = (event: unknown, context: DeliveryContext) => unknown;

/** How a delivery ended, as spans and metrics record it. */
export interface Ending {
  readonly outcome: string;
  readonly status: number;
  readonly error: WebhookError | undefined;
  readonly facts: DeliveryFacts;
  /** Set for events the receiver has a schema for: only those label metrics (a bounded set). */
  readonly knownEvent: string | undefined;
}

/** OpenTelemetry's own advice for request durations, in seconds (http.server.request.duration). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * Spans and metrics through `@opentelemetry/api`. The tracer and instruments are taken from the
 * global providers and taken again whenever those change (an SDK started after the receiver was
 * made is picked up). Without an SDK every span is a non-recording one and every instrument a
 * no-op: then nothing else is done, and the handlers are called as they would be without it.
 */
export class OpenTelemetryInstruments {
  readonly #api: OpenTelemetryApi;
  readonly #deliverySpan: SpanOptions;
  readonly #handlerSpan: SpanOptions;
  readonly #noopCounter: Counter;
  readonly #noopTracerProvider: TracerProvider;
  #tracerProvider: unknown;
  /** `undefined` while the global provider has no SDK behind it. */
  #tracer: Tracer | undefined;
  #meterProvider: unknown;
  #deliveries: Counter | undefined;
  #handlerDuration: Histogram | undefined;

  constructor(api: OpenTelemetryApi) {
    this.#api = api;
    // Internal, not SERVER: the HTTP server span belongs to the HTTP instrumentation, which sees
    // the request; this span is its child there, and the root of the trace in receive().
    this.#deliverySpan = { kind: api.SpanKind.INTERNAL };
    this.#handlerSpan = { kind: api.SpanKind.INTERNAL };
    // The API's no-op instruments are singletons: what an instrument is compared with to know
    // that no SDK stands behind it, without starting a span or recording anything.
    this.#noopCounter = api.createNoopMeter().createCounter(METRIC_DELIVERIES);
    this.#noopTracerProvider = new api.ProxyTracerProvider().getDelegate();
  }

  /** The tracer, or `undefined` while no tracing SDK is registered. */
  #currentTracer(): Tracer | undefined {
    // The global tracer provider is a proxy that an SDK fills in when it registers (at any time).
    const proxy = this.#api.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
    const provider = proxy.getDelegate?.() ?? proxy;
    if (provider !== this.#tracerProvider) {
      const { name, version } = instrumentationScope();
      this.#tracer = provider === this.#noopTracerProvider ? undefined : provider.getTracer(name, version);
      this.#tracerProvider = provider;
    }
    return this.#tracer;
  }

  /** The delivery counter, or `undefined` while no metrics SDK is registered. */
  #currentCounter(): Counter | undefined {
    const provider = this.#api.metrics.getMeterProvider();
    if (provider !== this.#meterProvider) {
      const { name, version } = instrumentationScope();
      const meter = provider.getMeter(name, version);
      const counter = meter.createCounter(METRIC_DELIVERIES, { description: 'Webhook deliveries, by outcome and code', unit: '{delivery}' });
      this.#deliveries = counter === this.#noopCounter ? undefined : counter;
      this.#handlerDuration =
        this.#deliveries === undefined
          ? undefined
          : meter.createHistogram(METRIC_HANDLER_DURATION, {
              description: 'Duration of each webhook handler run',
              unit: 's',
              advice: { explicitBucketBoundaries: DURATION_BUCKETS },
            });
      this.#meterProvider = provider;
    }
    return this.#deliveries;
  }

  /** A recording span for one delivery, or `undefined` when nothing records it. */
  startDelivery(): Span | undefined {
    const span = this.#currentTracer()?.startSpan(SPAN_DELIVERY, this.#deliverySpan);
    return span?.isRecording() === true ? span : undefined;
  }

  /** Whether a metrics SDK is listening. */
  counting(): boolean {
    return this.#currentCounter() !== undefined;
  }

  /** Runs `fn` with `span` as the active span, so that handler spans (and the user's own) become its children. */
  withSpan<R>(span: Span, fn: () => R): R {
    const { context, trace } = this.#api;
    return context.with(trace.setSpan(context.active(), span), fn);
  }

  /** Records how a delivery ended: on its span (when recording), in the counter (when counting). */
  endDelivery(span: Span | undefined, { outcome, status, error, facts, knownEvent }: Ending): void {
    const counter = this.#currentCounter();
    if (counter !== undefined) {
      const attributes: Attributes = { [ATTR_OUTCOME]: outcome };
      if (error !== undefined) attributes[ATTR_ERROR_TYPE] = error.code;
      if (knownEvent !== undefined) attributes[ATTR_EVENT] = knownEvent;
      counter.add(1, attributes);
    }
    if (span === undefined) return;
    span.setAttribute(ATTR_OUTCOME, outcome);
    span.setAttribute(ATTR_STATUS, status);
    if (facts.event !== undefined) span.setAttribute(ATTR_EVENT, facts.event);
    if (facts.deliveryId !== undefined) span.setAttribute(ATTR_DELIVERY_ID, facts.deliveryId);
    if (error !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, error.code);
      // A 4xx is the sender's problem, not a fault here (as OpenTelemetry's HTTP server conventions
      // treat it): the status stays unset and `error.type` says why. A 5xx is an error.
      if (status >= 500) {
        span.recordException(error);
        // What our code caught from user code (a secret resolver, a dedupe store), recorded as
        // written; handler failures are recorded on each handler's own span instead.
        if (error.code !== 'handler_failed' && error.cause instanceof Error) span.recordException(error.cause);
        span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: error.message });
      }
    }
    span.end();
  }

  /** A rejection made before the pipeline ran (405, 415, 413 …): a span of its own, and counted. */
  rejectedEarly(error: WebhookError, outcome: string): void {
    this.endDelivery(this.startDelivery(), { outcome, status: error.status, error, facts: {}, knownEvent: undefined });
  }

  /** Runs one handler in a span of its own (a child of the delivery span) and times it; calls it plainly when neither is recorded. */
  runHandler(handler: Handler, event: unknown, context: DeliveryContext): unknown {
    const candidate = this.#currentTracer()?.startSpan(SPAN_HANDLER, this.#handlerSpan);
    const span = candidate?.isRecording() === true ? candidate : undefined;
    const histogram = this.#currentCounter() === undefined ? undefined : this.#handlerDuration;
    if (span === undefined && histogram === undefined) return handler(event, context);
    return this.#runRecorded(handler, event, context, span, histogram);
  }

  async #runRecorded(handler: Handler, event: unknown, context: DeliveryContext, span: Span | undefined, histogram: Histogram | undefined): Promise<unknown> {
    const name = (event as { event: string }).event;
    if (span !== undefined) {
      span.setAttribute(ATTR_EVENT, name);
      span.setAttribute(ATTR_DELIVERY_ID, context.id);
      if (handler.name !== '') span.setAttribute(ATTR_FUNCTION, handler.name);
    }
    const started = performance.now();
    let failure: { error: unknown } | undefined;
    try {
      return await (span === undefined ? handler(event, context) : this.#runInSpan(span, handler, event, context));
    } catch (error) {
      failure = { error };
      throw error;
    } finally {
      if (histogram !== undefined) {
        const attributes: Attributes = { [ATTR_EVENT]: name };
        if (failure !== undefined) attributes[ATTR_ERROR_TYPE] = 'handler_failed';
        histogram.record((performance.now() - started) / 1000, attributes);
      }
      if (span !== undefined) {
        if (failure !== undefined) {
          span.setAttribute(ATTR_ERROR_TYPE, 'handler_failed');
          span.recordException(failure.error instanceof Error ? failure.error : String(failure.error));
          span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: 'Webhook handler failed' });
        }
        span.end();
      }
    }
  }

  #runInSpan(span: Span, handler: Handler, event: unknown, context: DeliveryContext): unknown {
    const api = this.#api;
    return api.context.with(api.trace.setSpan(api.context.active(), span), handler, undefined, event, context);
  }
}
