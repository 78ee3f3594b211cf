import { createHash } from 'node:crypto';
import type { IncomingHeaders } from './options.js';
import type { BodyInput } from './signature.js';

/** What a handler gets besides the event. */
export class DeliveryContext {
  readonly headers: IncomingHeaders;
  readonly url: string | undefined;
  readonly #body: BodyInput;
  #id: string | undefined;

  constructor(body: BodyInput, headers: IncomingHeaders, url: string | undefined) {
    this.#body = body;
    this.headers = headers;
    this.url = url;
  }

  /** SHA-256 (hex) of the raw body: the same for every retry of one delivery, the dedupe key. */
  get id(): string {
    return (this.#id ??= createHash('sha256').update(this.#body).digest('hex'));
  }
}
