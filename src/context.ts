import { createHash } from 'node:crypto';
import type { IncomingHeaders } from './request.js';
import type { BodyInput } from './signature.js';

/** What a handler gets besides the event. */
export class DeliveryContext {
  readonly headers: IncomingHeaders;
  readonly url: string | undefined;
  /**
   * Which run of the handlers this is: 1 inline (each of AICommerce's retries is a new request);
   * in queued mode the worker's attempt, 2 and up after a failure or a worker that died mid-run.
   */
  readonly attempt: number;
  /**
   * The entity this delivery is a snapshot of (`'store_xyz/product/prod_1'`), by the receiver's
   * `order` keys; `undefined` for an event without one. Upsert by it: docs/latest-wins.md.
   */
  readonly orderKey: string | undefined;
  readonly #body: BodyInput;
  #id: string | undefined;

  constructor(body: BodyInput, headers: IncomingHeaders, url: string | undefined, attempt = 1, id?: string, orderKey?: string) {
    this.#body = body;
    this.headers = headers;
    this.url = url;
    this.attempt = attempt;
    this.orderKey = orderKey;
    this.#id = id;
  }

  /** SHA-256 (hex) of the raw body: the same for every retry of one delivery, the dedupe key and the job id. */
  get id(): string {
    return (this.#id ??= createHash('sha256').update(this.#body).digest('hex'));
  }
}
