import type { IncomingMessage } from 'node:http';
import { WebhookError } from '../errors.js';
import type { Settings } from '../options.js';
import type { BodyInput } from '../signature.js';

/** What frameworks and earlier middleware may have left on the request. */
export interface FrameworkRequest extends IncomingMessage {
  rawBody?: unknown;
  body?: unknown;
  originalUrl?: string;
  _body?: unknown; // body-parser's "I consumed the stream" mark
}

export type BodyCallback = (error: WebhookError | undefined, body?: BodyInput) => void;

const MOUNTING_HELP =
  'The request body was already read by a body parser mounted before aicommerce-webhooks, and no raw copy was kept, ' +
  'so the signature cannot be checked. Mount the webhook middleware before express.json(), ' +
  'or keep the bytes with express.json({ verify: rawBodySaver }). ' +
  'In NestJS, create the app with NestFactory.create(AppModule, { rawBody: true }), or mount the middleware with app.use() before app.listen().';

const tooLarge = (limit: number): WebhookError => new WebhookError('payload_too_large', `Payload too large: the limit is ${limit} bytes`);
const aborted = (cause?: Error): WebhookError =>
  new WebhookError('incomplete_body', 'Request aborted before the body was complete', cause === undefined ? {} : { cause });

/**
 * The exact bytes of the body: a raw copy an earlier parser kept, or the stream, read once with
 * the limit and the timeout. Callback-style with a handful of listeners, because this runs for
 * every request: a promise, a timer and a stream helper each cost about a microsecond there.
 */
export function readBody(req: FrameworkRequest, settings: Settings, done: BodyCallback): void {
  const captured = typeof req.rawBody === 'string' || req.rawBody instanceof Uint8Array ? req.rawBody : req.body;
  if (typeof captured === 'string' || captured instanceof Uint8Array) return done(undefined, captured);
  if (req.readableEnded || req._body === true) return done(new WebhookError('misconfigured', MOUNTING_HELP));
  // The client hung up before this middleware ran (e.g. while an async one before it waited).
  if (req.destroyed) return done(new WebhookError('incomplete_body', 'The client closed the connection before the body was read'));
  if (req.readableEncoding !== null) {
    return done(new WebhookError('misconfigured', 'The request stream was given an encoding (setEncoding) before aicommerce-webhooks read it'));
  }
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header); // Node has checked it is digits
  if (declared !== undefined && declared > settings.limit) return done(tooLarge(settings.limit));

  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;

  const finish = (error: WebhookError | undefined, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    if (timer !== undefined) {
      clearTimeout(timer);
      req.off('close', onClose);
    }
    if (error !== undefined) req.pause(); // read no further: the answer closes the connection
    done(error, body);
  };
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (received > settings.limit) return finish(tooLarge(settings.limit));
    chunks.push(chunk);
  };
  // Node's parser ends a body after exactly Content-Length bytes, or fails the request.
  const onEnd = (): void => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
  const onError = (cause: Error): void => finish(aborted(cause));
  // Only destroy() without an error closes a request without an 'error' first.
  const onClose = (): void => finish(aborted());
  /** Only a body still on its way needs the timer (and the close watch): once every byte is here, 'end' follows. */
  const watchSlowBody = (): void => {
    if (finished || received === declared || (req.complete && req.readableFlowing === true)) return;
    timer = setTimeout(() => finish(new WebhookError('body_timeout', `Request body not received within ${settings.bodyTimeout} ms`)), settings.bodyTimeout);
    req.on('close', onClose);
  };

  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  // A small body usually comes in the same read as the headers: by the next tick Node has handed it over.
  process.nextTick(watchSlowBody);
}
