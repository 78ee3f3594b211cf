import type { z } from 'zod';
import { WebhookError, WebhookHandlerError } from './errors.js';
import {
  envelopeSchemaFor,
  eventSchemas,
  type EventSchemas,
  type MergeSchemas,
  type SchemaMap,
  type WebhookEvent,
} from './events.js';
import { resolveSettings, type ReceiverOptions, type Settings } from './options.js';
import {
  authenticate,
  checkFreshness,
  checkSize,
  eventValidator,
  keysFor,
  parseJson,
  parseJsonText,
  utf8Text,
  validate,
  type EventValidator,
  type Validated,
} from './pipeline.js';
import type { DedupeStore } from './stores/types.js';
import type { DeliveryQueue, ProcessResult, StoredDelivery } from './queue/types.js';
import type { KeyObject } from 'node:crypto';
import type { BodyInput } from './signature.js';
import { attachCore, type ReceiveInput, type ReceiveResult, type ReceiverCore } from './core.js';
import { DeliveryContext } from './context.js';
import { createNodeMiddleware, type NodeMiddleware } from './http/node.js';
import { createFetchHandler, type FetchHandler } from './http/fetch.js';
import { deliveryJsonSchemas, type JsonSchema } from './describe/json-schema.js';
import { describeSettings, openAPIDocument } from './describe/openapi.js';
import type { OpenAPIDocument, OpenAPIOptions } from './describe/types.js';
import { DeliveryObserver, type HandlerRunner } from './telemetry/observer.js';
import { currentTraceCarrier, runWithTraceCarrier } from './telemetry/propagation.js';
import { InspectorFeed, inspectorSource } from './inspector/feed.js';
import { createInspector, type Inspector, type InspectorOptions } from './inspector/index.js';

export type EventHandler<Event> = (event: Event, context: DeliveryContext) => unknown;
export type ErrorObserver = (error: WebhookError) => unknown;
export type Unsubscribe = () => void;

type Names<S> = keyof S & string;
/** `'chat.message.received'` → `'chat' | 'chat.message'`: the prefixes a `'prefix.*'` pattern may name. */
type Prefixes<Name extends string> = Name extends `${infer Head}.${infer Rest}` ? Head | `${Head}.${Prefixes<Rest>}` : never;
type Matching<Name extends string, Prefix extends string> = Extract<Name, `${Prefix}.${string}`>;

type KnownEvent = Extract<Validated, { known: true }>['event'];

interface Registration {
  readonly pattern: string;
  readonly handler: EventHandler<never>;
  /**
   * `'<pattern>#<n>'`, the n-th handler registered for that pattern: the same in every process that
   * runs the same code, so a queued job can record which handlers are done across workers.
   */
  readonly key: string;
}

const matches = (pattern: string, name: string): boolean =>
  pattern === '*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1)));

export class WebhookReceiver<Schemas extends SchemaMap = EventSchemas> {
  readonly #settings: Settings;
  /** Event name → the whole-delivery schema and its fast check, built once. */
  readonly #schemas = new Map<string, EventValidator>();
  readonly #registrations: Registration[] = [];
  /** Event name → its handlers in registration order; rebuilt lazily after on/off. */
  readonly #handlersByName = new Map<string, readonly EventHandler<unknown>[]>();
  /** Event name → its registrations, for the worker (which skips those already done); rebuilt lazily after on/off. */
  readonly #registrationsByName = new Map<string, readonly Registration[]>();
  readonly #errorObservers: ErrorObserver[] = [];
  readonly #core: ReceiverCore;
  /** Spans, metrics and logs (src/telemetry/): every delivery passes through it. */
  readonly #observer: DeliveryObserver;
  // Inspector feed (src/inspector/feed.ts): records deliveries only while an inspector is mounted.
  readonly #feed = new InspectorFeed((name) => this.#registrationsFor(name));

  constructor(options: ReceiverOptions<SchemaMap> = {}) {
    this.#settings = resolveSettings(options);
    for (const [name, schema] of Object.entries({ ...eventSchemas, ...options.schemas })) {
      if (typeof (schema as Partial<z.ZodType> | undefined)?.safeParse !== 'function') {
        throw new TypeError(`schemas['${name}'] must be a zod schema of the event's data`);
      }
      this.#schemas.set(name, eventValidator(envelopeSchemaFor(name, schema)));
    }
    this.#observer = new DeliveryObserver(this.#settings.logger, (name) => this.#schemas.has(name));
    const pipeline = (input: ReceiveInput) => this.#receive(input);
    const observed = (input: ReceiveInput) => this.#observer.observe(input, pipeline);
    this.#core = {
      settings: this.#settings,
      receive: (input) => (this.#feed.active ? this.#feed.observe(input, observed) : observed(input)), // inspector feed
      reject: (error, request) => {
        if (this.#feed.active) this.#feed.rejected(error, request); // inspector feed
        return this.#observer.rejected(this.#report(error));
      },
      process: (delivery, job) => runWithTraceCarrier(delivery.trace, () => this.#process(delivery, job)),
      fail: (error, facts) => {
        this.#observer.log(this.#report(error), facts);
        return error;
      },
    };
    attachCore(this, this.#core);
  }

  /** Runs `handler` for every delivery of the event(s): a name, a list, `'prefix.*'` or `'*'`. */
  on<Name extends Names<Schemas>>(name: Name | readonly Name[], handler: EventHandler<WebhookEvent<Name, Schemas>>): Unsubscribe;
  on<Prefix extends Prefixes<Names<Schemas>>>(
    pattern: `${Prefix}.*`,
    handler: EventHandler<WebhookEvent<Matching<Names<Schemas>, Prefix>, Schemas>>,
  ): Unsubscribe;
  on(pattern: '*', handler: EventHandler<WebhookEvent<Names<Schemas>, Schemas>>): Unsubscribe;
  on(names: string | readonly string[], handler: EventHandler<never>): Unsubscribe {
    if (typeof handler !== 'function') throw new TypeError('on(): the handler must be a function');
    const patterns = typeof names === 'string' ? [names] : [...names];
    if (patterns.length === 0) throw new TypeError('on(): name at least one event');
    for (const pattern of patterns) this.#checkPattern(pattern);
    const added: Registration[] = [];
    for (const pattern of patterns) {
      const registration = { pattern, handler, key: `${pattern}#${this.#registered(pattern) + 1}` };
      this.#registrations.push(registration); // one at a time: the next key of the same pattern counts it
      added.push(registration);
    }
    this.#handlersByName.clear();
    this.#registrationsByName.clear();
    return () => {
      for (const registration of added) {
        const index = this.#registrations.indexOf(registration);
        if (index !== -1) this.#registrations.splice(index, 1);
      }
      this.#handlersByName.clear();
      this.#registrationsByName.clear();
    };
  }

  /** Runs `handler` for every delivery of every known event. */
  onAny(handler: EventHandler<WebhookEvent<Names<Schemas>, Schemas>>): Unsubscribe {
    return this.on('*', handler);
  }

  /**
   * Observes every rejection (401, 400, 413 …) and every handler failure, as a `WebhookError`
   * with `status` and `code`. Observers cannot change the answer; their own errors are warned about.
   */
  onError(observer: ErrorObserver): Unsubscribe {
    if (typeof observer !== 'function') throw new TypeError('onError(): the observer must be a function');
    this.#errorObservers.push(observer);
    return () => {
      const index = this.#errorObservers.indexOf(observer);
      if (index !== -1) this.#errorObservers.splice(index, 1);
    };
  }

  /**
   * The framework-free core: verify → parse → validate → check freshness → claim → dispatch →
   * commit. Resolves with the outcome; every rejection throws a `WebhookError`.
   */
  receive(input: ReceiveInput): Promise<ReceiveResult<WebhookEvent<Names<Schemas>, Schemas>>> {
    try {
      return Promise.resolve(this.#core.receive(input)) as Promise<ReceiveResult<WebhookEvent<Names<Schemas>, Schemas>>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `(req, res, next?)` middleware for Express 4/5, Connect and `node:http`. */
  middleware(): NodeMiddleware {
    return createNodeMiddleware(this.#core);
  }

  /** `(request: Request) => Promise<Response>` for Next.js route handlers, Hono, Bun and other Fetch API servers. */
  fetchHandler(): FetchHandler {
    return createFetchHandler(this.#core);
  }

  /**
   * A local page that lists the deliveries this receiver answers, live, with why each was refused,
   * and replays, samples and fixtures: node middleware with a Fetch handler as `.fetch`. Recording
   * starts here (nothing is recorded before); loopback clients only; throws under NODE_ENV=production
   * unless `allowInProduction`. See docs/inspector.md.
   */
  inspector(options: InspectorOptions = {}): Inspector {
    const source = inspectorSource({ feed: this.#feed, settings: this.#settings, eventNames: [...this.#schemas.keys()], receive: this.#core.receive });
    return createInspector(source, options);
  }

  /**
   * JSON Schema 2020-12 of each whole delivery (envelope and `data`), by event name, generated from
   * the zod schemas. (Keyed by `string`: a type that follows `Schemas` would change how receivers of
   * different schemas relate, which the framework adapters rely on.)
   */
  toJSONSchema(): Record<string, JsonSchema> {
    return deliveryJsonSchemas(this.#schemas);
  }

  /** An OpenAPI 3.1 document: one `webhooks` entry per event (signature header, body, answers), `paths[path]` when a path is known. */
  toOpenAPI(options: OpenAPIOptions = {}): OpenAPIDocument {
    return openAPIDocument(this.#schemas, describeSettings(this.#settings), options);
  }

  // The hot path is synchronous through the handlers (no promise, no closure per request) whenever
  // the secret is fixed and they don't return promises; a secret resolver, a dedupe store or an
  // async handler adds the awaits they need. Rejections are thrown here, reported.
  #receive(input: ReceiveInput): ReceiveResult<unknown> | Promise<ReceiveResult<unknown>> {
    const keys = this.#settings.keys;
    if (keys === undefined) return this.#receiveWithResolver(input);
    let text: string;
    let validated: Validated;
    try {
      text = this.#authenticate(input, keys);
      validated = this.#validate(text);
    } catch (error) {
      throw this.#fail(error);
    }
    return this.#deliver(validated, input, text);
  }

  async #receiveWithResolver(input: ReceiveInput): Promise<ReceiveResult<unknown>> {
    let text: string;
    let validated: Validated;
    try {
      assertRawBody(input.body);
      text = this.#authenticate(input, await keysFor(this.#settings, { headers: input.headers ?? {}, url: input.url }));
      validated = this.#validate(text);
    } catch (error) {
      throw this.#fail(error);
    }
    return this.#deliver(validated, input, text);
  }

  // Every check on the delivery itself, in DESIGN.md's order, in two steps: the bytes, then what
  // they say. Nothing unverified is parsed; the text is decoded once, for JSON.parse and the queue.

  /** Size, signature, strict UTF-8: the verified body as text. */
  #authenticate({ body, signature }: ReceiveInput, keys: readonly KeyObject[]): string {
    assertRawBody(body);
    checkSize(body, this.#settings.limit);
    authenticate(body, signature, keys);
    return utf8Text(body);
  }

  /** JSON, the event's schema, freshness. */
  #validate(text: string): Validated {
    const settings = this.#settings;
    const validated = validate(parseJsonText(text), this.#schemas, settings.rejectUnknownEvents);
    checkFreshness(validated.event.timestamp, settings);
    return validated;
  }

  /** The step after freshness, one seam with two sides: inline (claim, run the handlers, commit or release) or queued (enqueue). */
  #deliver(validated: Validated, input: ReceiveInput, text: string): ReceiveResult<unknown> | Promise<ReceiveResult<unknown>> {
    if (!validated.known) return { outcome: 'ignored', event: validated.event };
    const { event } = validated;
    const { body, headers = {}, url } = input;
    const context = new DeliveryContext(body, headers, url);
    const run = this.#feed.active ? this.#feed.runnerFor(input, this.#observer.runHandler) : this.#observer.runHandler; // inspector feed
    if (this.#settings.queue !== undefined) return this.#enqueue(event, text, context, this.#settings.queue);
    if (this.#settings.dedupe !== undefined) return this.#deliverOnce(event, context, this.#settings.dedupe, run);
    const failures = runHandlers(this.#handlersFor(event.event), event, context, run);
    return isThenable(failures)
      ? Promise.resolve(failures).then((f) => this.#outcome(f, event))
      : this.#outcome(failures, event);
  }

  async #deliverOnce(event: KnownEvent, context: DeliveryContext, store: DedupeStore, run: HandlerRunner): Promise<ReceiveResult<unknown>> {
    let claim;
    try {
      claim = await store.claim(context.id);
    } catch (cause) {
      throw this.#fail(
        new WebhookError('store_unavailable', 'Dedupe store unavailable; nothing was processed', { cause, headers: { 'retry-after': '5' } }),
      );
    }
    if (claim.status === 'duplicate') return { outcome: 'duplicate', event };
    if (claim.status === 'in_flight') throw this.#fail(new WebhookError('in_flight', 'This delivery is being processed by another request'));

    const failures = await runHandlers(this.#handlersFor(event.event), event, context, run);
    try {
      await (failures === undefined ? claim.commit(this.#settings.rememberMs) : claim.release());
    } catch (cause) {
      // The handlers' result stands: a processed delivery still answers 2xx (a retry would run it
      // twice), a failed one 500. The store's trouble is reported, not answered.
      const error = new WebhookError('store_unavailable', `Dedupe store failed to ${failures ? 'release' : 'commit'} a delivery`, { cause });
      this.#observer.log(this.#report(error), { event: event.event, deliveryId: context.id });
    }
    return this.#outcome(failures, event);
  }

  /** Queued mode: the answer waits for the queue's acknowledgement, so a 2xx means the delivery is stored. */
  async #enqueue(event: KnownEvent, body: string, context: DeliveryContext, queue: DeliveryQueue): Promise<ReceiveResult<unknown>> {
    let stored;
    try {
      stored = await queue.enqueue({
        id: context.id,
        event: event.event,
        body,
        headers: context.headers,
        url: context.url,
        trace: currentTraceCarrier(), // the delivery span is active here: the worker's spans continue its trace
        rememberMs: this.#settings.rememberMs,
      });
    } catch (cause) {
      throw this.#fail(queueUnavailable(cause));
    }
    return { outcome: stored === 'duplicate' ? 'duplicate' : 'queued', event };
  }

  /** A worker's run of a stored delivery: validated again, then the handlers not yet done, concurrently. */
  async #process(
    delivery: StoredDelivery,
    job: { readonly id: string; readonly attempt: number; readonly done: readonly string[] },
  ): Promise<ProcessResult> {
    const validated = validate(parseJson(delivery.body), this.#schemas, false);
    if (!validated.known) return { event: validated.event, done: job.done, failures: [] };
    const { event } = validated;
    const context = new DeliveryContext(delivery.body, delivery.headers, delivery.url, job.attempt, job.id);
    const registrations = this.#registrationsFor(event.event);
    const pending = job.done.length === 0 ? registrations : registrations.filter((r) => !job.done.includes(r.key));
    // The inline dispatch, once per handler: each one's own outcome is what the job records.
    const outcomes = await Promise.all(pending.map((r) => runHandlers([r.handler as EventHandler<unknown>], event, context, this.#observer.runHandler)));
    const done = [...job.done];
    const failures: unknown[] = [];
    outcomes.forEach((failed, index) => (failed === undefined ? done.push(pending[index]!.key) : failures.push(...failed)));
    return { event, done, failures };
  }

  #outcome(failures: unknown[] | undefined, event: KnownEvent): ReceiveResult<unknown> {
    if (failures === undefined) return { outcome: 'handled', event };
    throw this.#fail(new WebhookHandlerError(failures, event));
  }

  /** Reports a rejection and returns it as the `WebhookError` to throw. */
  #fail(error: unknown): WebhookError {
    return this.#report(
      error instanceof WebhookError ? error : new WebhookError('misconfigured', 'Webhook receiver failed', { cause: error }),
    );
  }

  #handlersFor(name: string): readonly EventHandler<unknown>[] {
    let handlers = this.#handlersByName.get(name);
    if (handlers === undefined) {
      handlers = this.#registrationsFor(name).map((r) => r.handler as EventHandler<unknown>);
      this.#handlersByName.set(name, handlers);
    }
    return handlers;
  }

  #registrationsFor(name: string): readonly Registration[] {
    let registrations = this.#registrationsByName.get(name);
    if (registrations === undefined) {
      registrations = this.#registrations.filter((r) => matches(r.pattern, name));
      this.#registrationsByName.set(name, registrations);
    }
    return registrations;
  }

  /** How many handlers are registered for exactly this pattern. */
  #registered(pattern: string): number {
    return this.#registrations.filter((r) => r.pattern === pattern).length;
  }

  /** A typo in an event name is a bug to hear about at start-up, not a handler that never runs. */
  #checkPattern(pattern: string): void {
    if (typeof pattern !== 'string') throw new TypeError('on(): event names must be strings');
    for (const name of this.#schemas.keys()) if (matches(pattern, name)) return;
    throw new TypeError(
      `on(): no event matches '${pattern}'. Known events: ${[...this.#schemas.keys()].join(', ')}. ` +
        'Add events of your own with createWebhookReceiver({ schemas }).',
    );
  }

  #report(error: WebhookError): WebhookError {
    if (this.#errorObservers.length === 0) {
      // Nobody is listening: a server-side failure must not pass silently; a 4xx is the sender's
      // problem. A `logger` hears it instead (src/telemetry/observer.ts).
      if (error.status >= 500 && this.#settings.logger === undefined) {
        const causes = error instanceof WebhookHandlerError ? error.errors : error.cause === undefined ? [] : [error.cause];
        console.error(`[aicommerce-webhooks] ${error.status} ${error.code}: ${error.message}`, ...causes);
      }
      return error;
    }
    for (const observer of this.#errorObservers) {
      try {
        const result = observer(error);
        if (isThenable(result)) result.then(undefined, warnObserverFailed);
      } catch (observerError) {
        warnObserverFailed(observerError);
      }
    }
    return error;
  }
}

const queueUnavailable = (cause: unknown): WebhookError =>
  new WebhookError('queue_unavailable', 'Delivery queue unavailable; nothing was stored', { cause, headers: { 'retry-after': '5' } });

function warnObserverFailed(error: unknown): void {
  process.emitWarning(`an onError observer threw: ${error instanceof Error ? error.message : String(error)}`, {
    type: 'AICommerceWebhooksWarning',
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * Runs every handler concurrently and gives their failures, or `undefined` when all succeeded;
 * synchronously when no handler returned a promise.
 */
function runHandlers(
  handlers: readonly EventHandler<unknown>[],
  event: unknown,
  context: DeliveryContext,
  run: HandlerRunner,
): unknown[] | undefined | Promise<unknown[] | undefined> {
  if (handlers.length === 1) {
    try {
      const result = run(handlers[0]!, event, context);
      return isThenable(result) ? Promise.resolve(result).then(noFailures, (error: unknown) => [error]) : undefined;
    } catch (error) {
      return [error];
    }
  }
  if (handlers.length === 0) return undefined;
  return Promise.allSettled(handlers.map(async (handler) => run(handler, event, context))).then((settled) => {
    const failures = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    return failures.length === 0 ? undefined : failures;
  });
}

const noFailures = (): undefined => undefined;

function assertRawBody(body: unknown): asserts body is BodyInput {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new WebhookError(
      'misconfigured',
      'receive() needs the raw body as a string, Buffer or Uint8Array: a parsed object can no longer be verified',
    );
  }
}

/**
 * A receiver for AICommerce webhooks. Types follow the schemas: the built-in events, with any
 * given in `schemas` replacing or adding to them.
 */
export function createWebhookReceiver<Custom extends SchemaMap = {}>(
  options: ReceiverOptions<Custom> = {},
): WebhookReceiver<MergeSchemas<Custom>> {
  return new WebhookReceiver<MergeSchemas<Custom>>(options);
}
