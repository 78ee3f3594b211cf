import type { WebhookError } from '../errors.js';
import type { HandlerRun as Run } from '../handlers.js';
import { STATUS_BY_OUTCOME, type Outcome } from '../outcome.js';
import type { IncomingHeaders, ReceiveInput } from '../request.js';
import type { BodyInput } from '../signature.js';
import { factsOf } from './facts.js';
import { outcomeOfStatus } from './names.js';

// What one delivery came to, for whoever records deliveries (the inspector, src/inspector/). Made
// only while someone listens. It keeps the body, never the parsed delivery (a record lives for many
// deliveries after it, and what it holds is copied by every garbage collection it survives); its id
// and event name are worked out when asked, by the rules logs and spans use.

/** One handler's run, as a record shows it. */
export interface HandlerRun {
  /** `'<pattern>#<n>'`: the n-th handler registered for that pattern. */
  readonly key: string;
  /** The pattern it was registered for: an event name, `'prefix.*'` or `'*'`. */
  readonly pattern: string;
  /** The handler function's own name, `''` for an anonymous one. */
  readonly name: string;
  readonly ok: boolean;
  readonly error?: unknown;
  readonly ms: number;
}

export type RecordOutcome = Outcome | 'rejected' | 'failed';

/** The request line and headers of a delivery, as an adapter gave them. */
export interface EarlyRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHeaders;
}

export interface DeliveryRecord {
  /** Epoch ms when the delivery arrived. */
  readonly at: number;
  readonly durationMs: number;
  /** `undefined` when it came through `receive()` directly. */
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHeaders;
  /** `undefined` when the body was never read (405, 415, 413 by its declared length), or was no raw body. */
  readonly body: BodyInput | undefined;
  readonly outcome: RecordOutcome;
  /** The status answered (or that would be, for `receive()`). */
  readonly status: number;
  /** The rejection: `code`, `message`, `issues`, `errors`. */
  readonly error: WebhookError | undefined;
  /** The envelope's `event`, once the body was authenticated and parsed. */
  readonly event: string | undefined;
  /** `context.id`, once the body was authenticated. */
  readonly deliveryId: string | undefined;
  /** Each handler that ran, in registration order. */
  readonly handlers: readonly HandlerRun[];
}

/** How the delivery ended: its outcome, or the error it was refused with. */
export type Ending = { readonly outcome: Outcome; readonly event: unknown } | WebhookError;

export class RecordedDelivery implements DeliveryRecord {
  readonly at: number;
  readonly durationMs: number;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHeaders;
  readonly body: BodyInput | undefined;
  readonly outcome: RecordOutcome;
  readonly status: number;
  readonly error: WebhookError | undefined;
  readonly #runs: readonly Run[];
  readonly #ending: Ending;
  #facts: { event?: string; deliveryId?: string } | undefined;

  constructor(at: number, request: EarlyRequest | undefined, input: ReceiveInput | undefined, ending: Ending, runs: readonly Run[]) {
    this.at = at;
    this.durationMs = Date.now() - at;
    this.method = request?.method;
    this.url = request?.url ?? input?.url;
    this.headers = request?.headers ?? input?.headers ?? signatureOnly(input);
    this.body = typeof input?.body === 'string' || input?.body instanceof Uint8Array ? input.body : undefined;
    this.error = 'outcome' in ending ? undefined : ending;
    this.outcome = 'outcome' in ending ? ending.outcome : outcomeOfStatus(ending.status);
    this.status = 'outcome' in ending ? STATUS_BY_OUTCOME[ending.outcome] : ending.status;
    this.#ending = ending;
    this.#runs = runs;
  }

  get event(): string | undefined {
    return this.#factsOf().event;
  }

  get deliveryId(): string | undefined {
    return this.#factsOf().deliveryId;
  }

  get handlers(): readonly HandlerRun[] {
    return this.#runs.map(({ registration, ok, error, ms }) => ({ key: registration.key, pattern: registration.pattern, name: registration.handler.name, ok, error, ms }));
  }

  #factsOf(): { event?: string; deliveryId?: string } {
    if (this.body === undefined) return {};
    return (this.#facts ??= factsOf({ body: this.body, signature: undefined }, this.#ending as Parameters<typeof factsOf>[1]));
  }
}

const signatureOnly = (input: ReceiveInput | undefined): IncomingHeaders => {
  const signature = input?.signature;
  return signature === undefined ? {} : { 'x-webhook-signature': typeof signature === 'string' ? signature : [...signature] };
};
