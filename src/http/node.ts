import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { normalizePath } from '../options.js';
import type { ReceiverCore, ReceiveResult } from '../core.js';
import type { BodyInput } from '../signature.js';
import { answerForError, answerForResult, checkRequestHead, notFound, type Answer } from './exchange.js';
import { readBody, type FrameworkRequest } from './read-body.js';

/** Express 4/5, Connect and `node:http` middleware: `app.use(path, middleware)` or `http.createServer(middleware)`. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * For `express.json({ verify: rawBodySaver })` when a JSON parser must run before the webhook
 * middleware: keeps the exact bytes as `req.rawBody`, which the middleware then verifies.
 */
export function rawBodySaver(req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  (req as FrameworkRequest).rawBody = buf;
}

export function createNodeMiddleware(core: ReceiverCore): NodeMiddleware {
  const { settings } = core;
  return function aicommerceWebhooks(req, res, next) {
    if (settings.path !== undefined && normalizePath(req.url ?? '/') !== settings.path) {
      if (next !== undefined) return next();
      return write(req, res, answerForError(notFound()));
    }
    const headError = checkRequestHead(req.method, req.headers['content-type'], req.headers['content-encoding']);
    if (headError !== undefined) return write(req, res, answerForError(core.reject(headError, early(req))));

    readBody(req as FrameworkRequest, settings, (error, body) => {
      if (error !== undefined) return write(req, res, answerForError(core.reject(error, early(req))));
      deliver(core, req as FrameworkRequest, res, body!);
    });
  };
}

/** The request line and headers of a request refused before its body, for the inspector. */
const early = (req: IncomingMessage) => ({ method: req.method, url: (req as FrameworkRequest).originalUrl ?? req.url, headers: req.headers });

/** Runs the pipeline and answers; with no promise in between when the pipeline had nothing to wait for. */
function deliver(core: ReceiverCore, req: FrameworkRequest, res: ServerResponse, body: BodyInput): void {
  let result;
  try {
    result = core.receive({ body, signature: req.headers['x-webhook-signature'], headers: req.headers, url: req.originalUrl ?? req.url });
  } catch (error) {
    return write(req, res, answerForError(error));
  }
  if (result instanceof Promise) {
    result.then(
      (settled: ReceiveResult<unknown>) => write(req, res, answerForResult(settled)),
      (error: unknown) => write(req, res, answerForError(error)),
    );
  } else {
    write(req, res, answerForResult(result));
  }
}

/** The headers of the fixed success answers, built once (the answers are the same objects every time). */
const preparedHeaders = new WeakMap<Answer, OutgoingHttpHeaders>();

function headersOf(answer: Answer): OutgoingHttpHeaders {
  return { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) };
}

function write(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return; // answered by someone else, or the client is gone
  let headers = preparedHeaders.get(answer);
  if (headers === undefined) {
    headers = headersOf(answer);
    if (answer.status < 300) preparedHeaders.set(answer, headers);
  }
  // An unread body must not be drained into the next request on a kept-alive connection.
  if (!req.complete) headers = { ...headers, connection: 'close' };
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
