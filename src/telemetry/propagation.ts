import { openTelemetryApi } from './api.js';

// Queued mode: the job stores the trace context of the delivery that enqueued it, and the worker
// runs the job's dispatch with that context as its parent, so one trace covers both processes.
// The carrier is whatever the registered propagator writes (W3C `traceparent`/`tracestate` by
// default with the Node SDK): plain strings, safe to store as JSON.

/** A propagator's fields, e.g. `{ traceparent: '00-…-…-01' }`. */
export type TraceCarrier = Record<string, string>;

/** The active trace context as a plain object to store in a job; `undefined` when there is nothing to carry. */
export function currentTraceCarrier(): TraceCarrier | undefined {
  const api = openTelemetryApi();
  if (api === undefined) return undefined;
  const carrier: TraceCarrier = {};
  api.propagation.inject(api.context.active(), carrier);
  return Object.keys(carrier).length === 0 ? undefined : carrier;
}

/**
 * Runs `fn` with the context extracted from `carrier` (as stored by `currentTraceCarrier()`) as its
 * parent: spans started inside, such as the worker's delivery span, continue the receiving trace.
 * Without OpenTelemetry, or without a usable carrier (it comes from storage), `fn` just runs.
 */
export function runWithTraceCarrier<T>(carrier: unknown, fn: () => T): T {
  const api = openTelemetryApi();
  if (api === undefined || !isCarrier(carrier)) return fn();
  return api.context.with(api.propagation.extract(api.context.active(), carrier), fn);
}

function isCarrier(value: unknown): value is TraceCarrier {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((field) => typeof field === 'string');
}
