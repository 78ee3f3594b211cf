import type { KeyObject } from 'node:crypto';
import { registerAdapterApi } from './adapter-api.js';
import { deliverInline } from './deliver/inline.js';
import { compileOrderKeys, type OrderKey } from './deliver/order.js';
import { deliverQueued, runStored } from './deliver/queued.js';
import type { Deliver } from './deliver/types.js';
import { deliveryJsonSchemas, type JsonSchema } from './describe/json-schema.js';
import { describeSettings, openAPIDocument } from './describe/openapi.js';
import type { OpenAPIDocument, OpenAPIOptions } from './describe/types.js';
import { eventSchemas, type EventSchemas, type Matching, type MergeSchemas, type Names, type Prefixes, type SchemaMap, type WebhookEvent } from './events.js';
import { HandlerRegistry, type EventHandler, type Unsubscribe } from './handlers.js';
import { exchange } from './http/exchange.js';
import { createFetchHandler, type FetchHandler } from './http/fetch.js';
import { createNodeMiddleware, type NodeMiddleware } from './http/node.js';
import { createInspector, type Inspector, type InspectorOptions } from './inspector/index.js';
import { sourceOf } from './inspector/source.js';
import { resolveSettings, type ReceiverOptions, type Settings } from './options.js';
import type { ReceiveResult } from './outcome.js';
import { checkDelivery, compileSchemas, keysFor, type EventValidator, type KnownEvent } from './pipeline.js';
import { Reporter, type Delivered, type ErrorObserver } from './report.js';
import type { HttpRequest, ReceiveInput, RequestInfo } from './request.js';

export type { ErrorObserver } from './report.js';
export type { EventHandler, Unsubscribe } from './handlers.js';

/**
 * A receiver for AICommerce webhooks: the public front. It wires the parts (docs/architecture.md);
 * each decision lives in its own module: the checks in src/pipeline.ts, the step after them in
 * src/deliver/, the handlers in src/handlers.ts, the reports in src/report.ts.
 */
export class WebhookReceiver<Schemas extends SchemaMap = EventSchemas> {
  readonly #settings: Settings;
  readonly #validators: Map<string, EventValidator>;
  readonly #handlers: HandlerRegistry;
  readonly #reporter: Reporter;
  readonly #deliver: Deliver;
  /** Latest wins: event name → its entity key function. */
  readonly #orderKeys: ReadonlyMap<string, OrderKey<KnownEvent>>;

  constructor(options: ReceiverOptions<SchemaMap> = {}) {
    const settings = (this.#settings = resolveSettings(options));
    this.#validators = compileSchemas({ ...eventSchemas, ...options.schemas });
    this.#handlers = new HandlerRegistry([...this.#validators.keys()]);
    const reporter = (this.#reporter = new Reporter(settings.logger, (name) => this.#validators.has(name)));
    const report = reporter.report.bind(reporter);
    const orderKeys = (this.#orderKeys = compileOrderKeys(settings.order ?? {}, [...this.#validators.keys()]));
    this.#deliver =
      settings.queue === undefined
        ? deliverInline({ ...settings, handlers: this.#handlers, runHandler: reporter.runHandler, orderKeys, report })
        : deliverQueued(settings.queue, settings.rememberMs);
    const receiving = { receive: this.#receive.bind(this), rejected: reporter.rejected.bind(reporter) };
    settings.queue?.attach?.({ report }); // where the queue reports the trouble no request carries
    registerAdapterApi(this, {
      settings,
      answer: (request, respond) => exchange(request, receiving, respond),
      process: (delivery, job, order) =>
        runStored(delivery, job, { validators: this.#validators, handlers: this.#handlers, runHandler: reporter.runHandler, orderKeys, report }, order),
      rememberMs: settings.rememberMs,
      report,
      handlers: this.#handlers,
      reporter,
    });
  }

  /** Runs `handler` for every delivery of the event(s): a name, a list, `'prefix.*'` or `'*'`. */
  on<Name extends Names<Schemas>>(name: Name | readonly Name[], handler: EventHandler<WebhookEvent<Name, Schemas>>): Unsubscribe;
  on<Prefix extends Prefixes<Names<Schemas>>>(pattern: `${Prefix}.*`, handler: EventHandler<WebhookEvent<Matching<Names<Schemas>, Prefix>, Schemas>>): Unsubscribe;
  on(pattern: '*', handler: EventHandler<WebhookEvent<Names<Schemas>, Schemas>>): Unsubscribe;
  on(names: string | readonly string[], handler: EventHandler<never>): Unsubscribe {
    return this.#handlers.add(names, handler);
  }

  /** Runs `handler` for every delivery of every known event. */
  onAny(handler: EventHandler<WebhookEvent<Names<Schemas>, Schemas>>): Unsubscribe {
    return this.on('*', handler);
  }

  /**
   * Observes every rejection (401, 400, 413 …) and every handler failure, as a `WebhookError`
   * with `status`, `code`, and `eventName` and `deliveryId` once the body was authenticated.
   * Observers cannot change the answer; their own errors are warned about.
   */
  onError(observer: ErrorObserver): Unsubscribe {
    return this.#reporter.onError(observer);
  }

  /** One delivery the whole way, framework-free. Resolves with the outcome; every rejection throws a `WebhookError`. */
  receive(input: ReceiveInput): Promise<ReceiveResult<WebhookEvent<Names<Schemas>, Schemas>>> {
    return this.#receive(input) as Promise<ReceiveResult<WebhookEvent<Names<Schemas>, Schemas>>>;
  }

  #receive(input: ReceiveInput, request?: HttpRequest): Promise<ReceiveResult<unknown>> {
    return this.#reporter.observe(input, request, this.#run);
  }

  // Not async: a check that fails throws here, inside observe()'s await; a fixed secret waits for nothing.
  readonly #run = (input: ReceiveInput): Promise<Delivered> => {
    const { keys, resolveSecret } = this.#settings;
    if (keys === undefined) return keysFor(resolveSecret!, requestInfo(input)).then((resolved) => this.#checkAndDeliver(input, resolved));
    return this.#checkAndDeliver(input, keys);
  };

  #checkAndDeliver(input: ReceiveInput, keys: readonly KeyObject[]): Promise<Delivered> {
    const delivery = checkDelivery(input, keys, this.#settings, this.#validators); // size → signature → JSON → schema → freshness
    if (!delivery.known) return Promise.resolve({ result: { outcome: 'ignored', event: delivery.event }, runs: [] });
    return this.#deliver(delivery, input); // inline: claim → order → handlers → commit; queued: enqueue
  }

  /** `(req, res, next?)` middleware for Express 4/5, Connect and `node:http`. */
  middleware(): NodeMiddleware {
    return createNodeMiddleware(this);
  }

  /** `(request: Request) => Promise<Response>` for Next.js route handlers, Hono, Bun and other Fetch API servers. */
  fetchHandler(): FetchHandler {
    return createFetchHandler(this);
  }

  /**
   * A local page that lists the deliveries this receiver answers, live, with why each was refused,
   * and replays, samples and fixtures: node middleware with a Fetch handler as `.fetch`. Recording
   * starts here (nothing is recorded before); loopback clients only; throws under NODE_ENV=production
   * unless `allowInProduction`. See docs/inspector.md.
   */
  inspector(options: InspectorOptions = {}): Inspector {
    const source = sourceOf({ reporter: this.#reporter, settings: this.#settings, eventNames: [...this.#validators.keys()], receive: (input) => this.#receive(input) });
    return createInspector(source, options);
  }

  /**
   * JSON Schema 2020-12 of each whole delivery (envelope and `data`), by event name, generated from
   * the zod schemas. (Keyed by `string`: a type that follows `Schemas` would change how receivers of
   * different schemas relate, which the framework adapters rely on.)
   */
  toJSONSchema(): Record<string, JsonSchema> {
    return deliveryJsonSchemas(this.#validators);
  }

  /** An OpenAPI 3.1 document: one `webhooks` entry per event (signature header, body, answers), `paths[path]` when a path is known. */
  toOpenAPI(options: OpenAPIOptions = {}): OpenAPIDocument {
    return openAPIDocument(this.#validators, describeSettings(this.#settings, [...this.#orderKeys.keys()]), options);
  }
}

const requestInfo = ({ headers = {}, url }: ReceiveInput): RequestInfo => ({ headers, url });

/**
 * A receiver for AICommerce webhooks. Types follow the schemas: the built-in events, with any
 * given in `schemas` replacing or adding to them.
 */
export function createWebhookReceiver<Custom extends SchemaMap = {}>(options: ReceiverOptions<Custom> = {}): WebhookReceiver<MergeSchemas<Custom>> {
  return new WebhookReceiver<MergeSchemas<Custom>>(options as ReceiverOptions<SchemaMap>); // key functions take the narrower events of Custom
}
