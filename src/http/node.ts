import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { adapterApiOf } from '../adapter-api.js';
import { notFound } from '../errors.js';
import { normalizePath } from '../options.js';
import { answerForError, type Answer } from './answers.js';
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

export function createNodeMiddleware(receiver: object): NodeMiddleware {
  const api = adapterApiOf(receiver);
  const { settings } = api;
  return function aicommerceWebhooks(req: FrameworkRequest, res, next) {
    if (settings.path !== undefined && normalizePath(req.url ?? '/') !== settings.path) {
      if (next !== undefined) return next();
      return write(req, res, answerForError(notFound()));
    }
    const request = { method: req.method, headers: req.headers, url: req.originalUrl ?? req.url, readBody: () => readBody(req, settings) };
    void api.answer(request).then((answer) => write(req, res, answer));
  };
}

/** The headers of the fixed success answers, built once (the answers are the same objects every time). */
const preparedHeaders = new WeakMap<Answer, OutgoingHttpHeaders>();

function write(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return; // answered by someone else, or the client is gone
  let headers = preparedHeaders.get(answer);
  if (headers === undefined) {
    headers = { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) };
    if (answer.status < 300) preparedHeaders.set(answer, headers);
  }
  // An unread body must not be drained into the next request on a kept-alive connection.
  if (!req.complete) headers = { ...headers, connection: 'close' };
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
