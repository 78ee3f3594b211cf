import type { DeliveryContext } from './context.js';

// The handlers a receiver runs: which ones match an event, and running them. Inline, a worker and
// the inspector all dispatch through here, so "handlers matching one delivery run concurrently, and
// every failure is kept" holds in one place.

/**
 * A function given to `on()` or `onAny()`: the validated event, typed from its schema, and the
 * delivery's `context`. It may return a promise; a throw or a rejection fails the delivery.
 */
export type EventHandler<Event> = (event: Event, context: DeliveryContext) => unknown;
/** Returned by `on()`, `onAny()` and `onError()`: call it to remove what was registered. */
export type Unsubscribe = () => void;

/** Calls one handler; telemetry wraps it in a span (src/telemetry/otel.ts). */
export type HandlerRunner = (handler: EventHandler<unknown>, event: unknown, context: DeliveryContext) => unknown;

export interface Registration {
  readonly pattern: string;
  readonly handler: EventHandler<unknown>;
  /**
   * `'<pattern>#<n>'`, the n-th handler registered for that pattern: the same in every process that
   * runs the same code, so a queued job can record which handlers are done across workers.
   */
  readonly key: string;
}

/** One handler's run for one delivery. */
export interface HandlerRun {
  readonly registration: Registration;
  /** `false` when it threw or rejected; `error` is what it threw. */
  readonly ok: boolean;
  readonly error?: unknown;
  readonly ms: number;
}

/** Does `pattern` (a name, `'prefix.*'` or `'*'`) match the event `name`? */
export const matches = (pattern: string, name: string): boolean =>
  pattern === '*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1)));

export class HandlerRegistry {
  readonly #eventNames: readonly string[];
  readonly #registrations: Registration[] = [];
  /** Event name → its registrations in registration order; rebuilt lazily after a change. */
  readonly #byName = new Map<string, readonly Registration[]>();

  /** `eventNames`: the events the receiver has schemas for; a pattern must match one of them. */
  constructor(eventNames: readonly string[]) {
    this.#eventNames = eventNames;
  }

  /** How many handlers are registered, for any event. */
  get size(): number {
    return this.#registrations.length;
  }

  add(names: string | readonly string[], handler: EventHandler<never>): Unsubscribe {
    if (typeof handler !== 'function') throw new TypeError('on(): the handler must be a function');
    const patterns = typeof names === 'string' ? [names] : [...names];
    if (patterns.length === 0) throw new TypeError('on(): name at least one event');
    for (const pattern of patterns) this.#checkPattern(pattern);
    const added = patterns.map((pattern) => {
      const registration = { pattern, handler: handler as EventHandler<unknown>, key: `${pattern}#${this.#count(pattern) + 1}` };
      this.#registrations.push(registration); // one at a time: the next key of the same pattern counts it
      return registration;
    });
    this.#byName.clear();
    return () => {
      for (const registration of added) {
        const index = this.#registrations.indexOf(registration);
        if (index !== -1) this.#registrations.splice(index, 1);
      }
      this.#byName.clear();
    };
  }

  /** The registrations whose pattern matches the event `name`, in registration order. */
  for(name: string): readonly Registration[] {
    let registrations = this.#byName.get(name);
    if (registrations === undefined) {
      registrations = this.#registrations.filter((r) => matches(r.pattern, name));
      this.#byName.set(name, registrations);
    }
    return registrations;
  }

  #count(pattern: string): number {
    return this.#registrations.filter((r) => r.pattern === pattern).length;
  }

  /** A typo in an event name is a bug to hear about at start-up, not a handler that never runs. */
  #checkPattern(pattern: string): void {
    if (typeof pattern !== 'string') throw new TypeError('on(): event names must be strings');
    if (this.#eventNames.some((name) => matches(pattern, name))) return;
    throw new TypeError(
      `on(): no event matches '${pattern}'. Known events: ${this.#eventNames.join(', ')}. ` +
        'Add events of your own with createWebhookReceiver({ schemas }).',
    );
  }
}

/** Runs every registration's handler concurrently and settles when all have: each one's own result, in order. */
export async function dispatch(
  registrations: readonly Registration[],
  event: unknown,
  context: DeliveryContext,
  run: HandlerRunner,
): Promise<HandlerRun[]> {
  if (registrations.length !== 1) return Promise.all(registrations.map((registration) => runOne(registration, event, context, run)));
  // The usual case, one handler: the same as runOne, without a second async frame per delivery.
  const registration = registrations[0]!;
  const started = performance.now();
  try {
    await run(registration.handler, event, context);
    return [{ registration, ok: true, ms: performance.now() - started }];
  } catch (error) {
    return [{ registration, ok: false, error, ms: performance.now() - started }];
  }
}

async function runOne(registration: Registration, event: unknown, context: DeliveryContext, run: HandlerRunner): Promise<HandlerRun> {
  const started = performance.now();
  try {
    await run(registration.handler, event, context);
    return { registration, ok: true, ms: performance.now() - started };
  } catch (error) {
    return { registration, ok: false, error, ms: performance.now() - started };
  }
}

/** What the failed runs threw, in registration order. */
export const failuresOf = (runs: readonly HandlerRun[]): unknown[] => runs.filter((run) => !run.ok).map((run) => run.error);
