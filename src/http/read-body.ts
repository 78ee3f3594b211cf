import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { bodyTimeout, incompleteBody, misconfigured, payloadTooLarge, type WebhookError } from '../errors.js';
import type { Settings } from '../options.js';
import type { BodyCallback } from '../request.js';

/** What frameworks and earlier middleware may have left on the request. */
export interface FrameworkRequest extends IncomingMessage {
  rawBody?: unknown;
  body?: unknown;
  originalUrl?: string;
  _body?: unknown; // body-parser's "I consumed the stream" mark
}

const MOUNTING_HELP =
  'The request body was already read by a body parser mounted before aicommerce-webhooks, and no raw copy was kept, ' +
  'so the signature cannot be checked. Mount the webhook middleware before express.json(), ' +
  'or keep the bytes with express.json({ verify: rawBodySaver }). ' +
  'In NestJS, create the app with NestFactory.create(AppModule, { rawBody: true }), or mount the middleware with app.use() before app.listen().';

const ENCODING_SET = 'The request stream was given an encoding (setEncoding) before aicommerce-webhooks read it';

/**
 * The exact bytes of the body: a raw copy an earlier parser kept, or the stream, read once by
 * raw-body (what body-parser and Express stand on) with the limit and the declared length. Any
 * adapter holding a Node `IncomingMessage` (node:http, Express, Fastify, Koa) reads through here.
 */
export function readBody(req: FrameworkRequest, settings: Pick<Settings, 'limit' | 'bodyTimeout'>, done: BodyCallback): void {
  const captured = typeof req.rawBody === 'string' || req.rawBody instanceof Uint8Array ? req.rawBody : req.body;
  if (typeof captured === 'string' || captured instanceof Uint8Array) return done(undefined, captured);
  if (req.readableEnded || req._body === true) return done(misconfigured(MOUNTING_HELP));
  // The client hung up before this middleware ran (e.g. while an async one before it waited).
  if (req.destroyed) return done(incompleteBody('The client closed the connection before the body was read'));
  if (req.readableEncoding !== null) return done(misconfigured(ENCODING_SET));
  readStream(req, settings, done);
}

/** The stream, read once by raw-body with the limit and the declared length, and a deadline of our own. */
function readStream(req: IncomingMessage, settings: Pick<Settings, 'limit' | 'bodyTimeout'>, done: (error: WebhookError | undefined, body?: Buffer) => void): void {
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (error: WebhookError | undefined, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    done(error, body);
  };
  // raw-body answers every early end itself: Node emits 'aborted' whenever a request is destroyed
  // before its end (client hang-up, destroy() with or without an error), and raw-body reports it.
  getRawBody(req, { limit: settings.limit, length: req.headers['content-length'] ?? null }, (error, body) =>
    finish(error ? fromRawBodyError(error, settings.limit) : undefined, body),
  );
  // raw-body has no deadline. A small body usually comes in the same read as the headers: once
  // Node has parsed that read (the check phase after it) the request is complete and 'end' is sure
  // to follow, so only a body still on its way pays for a timer. (An immediate costs a tenth of a
  // timer; a tick is too early, it runs before Node marks the request complete.)
  setImmediate(() => {
    if (finished || (req.complete && req.readableFlowing === true)) return;
    timer = setTimeout(() => {
      req.pause(); // read no further: the 408 closes the connection
      finish(bodyTimeout(settings.bodyTimeout));
      // Node detaches an answered request from its socket without ending it: ending it once the
      // socket is gone is what makes raw-body ('aborted') let go of it.
      req.socket.once('close', () => req.destroy());
    }, settings.bodyTimeout);
  });
}

/** raw-body's errors (http-errors with a `type`) as ours; the encoding and ended cases were answered before it ran. */
function fromRawBodyError(error: getRawBody.RawBodyError, limit: number): WebhookError {
  if (error.type === 'entity.too.large') return payloadTooLarge(limit);
  // 'request.aborted', 'request.size.invalid', or the stream's own error (ECONNRESET …).
  return incompleteBody('Request aborted before the body was complete', error);
}
