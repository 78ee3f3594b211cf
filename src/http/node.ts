import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import { WebhookError } from '../errors.js';
import { normalizePath, type Settings } from '../options.js';
import type { ReceiverCore } from '../receiver.js';
import type { BodyInput } from '../signature.js';
import { answerForError, answerForResult, checkRequestHead, notFound, type Answer } from './exchange.js';

/** Express 4/5, Connect and `node:http` middleware: `app.use(path, middleware)` or `http.createServer(middleware)`. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** What frameworks and earlier middleware may have left on the request. */
interface FrameworkRequest extends IncomingMessage {
  rawBody?: unknown;
  body?: unknown;
  originalUrl?: string;
  _body?: unknown; // body-parser's "I consumed the stream" mark
}

/**
 * For `express.json({ verify: rawBodySaver })` when a JSON parser must run before the webhook
 * middleware: keeps the exact bytes as `req.rawBody`, which the middleware then verifies.
 */
export function rawBodySaver(req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  (req as FrameworkRequest).rawBody = buf;
}

const MOUNTING_HELP =
  'The request body was already read by a body parser mounted before aicommerce-webhooks, and no raw copy was kept, ' +
  'so the signature cannot be checked. Mount the webhook middleware before express.json(), ' +
  'or keep the bytes with express.json({ verify: rawBodySaver }).';

export function createNodeMiddleware(core: ReceiverCore): NodeMiddleware {
  const { settings } = core;
  return function aicommerceWebhooks(req, res, next) {
    if (settings.path !== undefined && normalizePath(req.url ?? '/') !== settings.path) {
      if (next !== undefined) return next();
      return write(req, res, answerForError(notFound()));
    }
    const headError = checkRequestHead(req.method, req.headers['content-type'], req.headers['content-encoding']);
    if (headError !== undefined) return write(req, res, answerForError(core.reject(headError)));

    readBody(req as FrameworkRequest, settings).then(
      (body) =>
        core
          .receive({ body, signature: req.headers['x-webhook-signature'], headers: req.headers, url: (req as FrameworkRequest).originalUrl ?? req.url })
          .then(
            (result) => write(req, res, answerForResult(result)),
            (error: unknown) => write(req, res, answerForError(error)),
          ),
      (error: WebhookError) => write(req, res, answerForError(core.reject(error))),
    );
  };
}

/** The exact bytes: a raw copy an earlier parser kept, or the stream, read once with the limit and timeout. */
function readBody(req: FrameworkRequest, settings: Settings): Promise<BodyInput> {
  for (const captured of [req.rawBody, req.body]) {
    if (typeof captured === 'string' || captured instanceof Uint8Array) return Promise.resolve(captured);
  }
  if (req.readableEnded || req._body === true) return Promise.reject(new WebhookError('misconfigured', MOUNTING_HELP));
  // The client hung up before this middleware ran (e.g. while an async one before it waited).
  if (req.destroyed) return Promise.reject(new WebhookError('incomplete_body', 'The client closed the connection before the body was read'));

  return new Promise((resolve, reject) => {
    const finish = (error: WebhookError | undefined, body?: Buffer): void => {
      clearTimeout(timer);
      req.off('close', onClose);
      if (error !== undefined) reject(error);
      else resolve(body!);
    };
    const onClose = (): void => {
      if (!req.complete) finish(new WebhookError('incomplete_body', 'Request aborted before the body was complete'));
    };
    const timer = setTimeout(
      () => finish(new WebhookError('body_timeout', `Request body not received within ${settings.bodyTimeout} ms`)),
      settings.bodyTimeout,
    );
    req.on('close', onClose);
    getRawBody(req, { length: req.headers['content-length'] ?? null, limit: settings.limit }, (error, body) =>
      finish(error === null || error === undefined ? undefined : fromRawBodyError(error), body),
    );
  });
}

function fromRawBodyError(error: getRawBody.RawBodyError): WebhookError {
  switch (error.type) {
    case 'entity.too.large':
      return new WebhookError('payload_too_large', `Payload too large: the limit is ${error.limit} bytes`);
    case 'request.aborted':
      return new WebhookError('incomplete_body', 'Request aborted before the body was complete');
    case 'request.size.invalid':
      return new WebhookError('incomplete_body', 'Request body length did not match Content-Length');
    case 'stream.not.readable':
      return new WebhookError('misconfigured', MOUNTING_HELP);
    case 'stream.encoding.set':
      return new WebhookError('misconfigured', 'The request stream was given an encoding (setEncoding) before aicommerce-webhooks read it');
    default: // the connection failed while the body was arriving
      return new WebhookError('incomplete_body', 'The request body could not be read', { cause: error });
  }
}

function write(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return; // answered by someone else, or the client is gone
  const headers: Record<string, string | number> = { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) };
  // An unread body must not be drained into the next request on a kept-alive connection.
  if (!req.complete) headers['connection'] = 'close';
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
