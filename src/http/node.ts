import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { adapterApiOf } from '../adapter-api.js';
import { notFound } from '../errors.js';
import { normalizePath, type Settings } from '../options.js';
import type { BodyCallback, HttpRequest } from '../request.js';
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
    api.answer(new NodeRequest(req, settings), (answer) => write(req, res, answer));
  };
}

/** A node request as the receiver reads it (a class: its method costs no closure per request). */
class NodeRequest implements HttpRequest {
  readonly method: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly url: string | undefined;
  readonly #req: FrameworkRequest;
  readonly #settings: Settings;

  constructor(req: FrameworkRequest, settings: Settings) {
    this.method = req.method;
    this.headers = req.headers;
    this.url = req.originalUrl ?? req.url;
    this.#req = req;
    this.#settings = settings;
  }

  readBody(done: BodyCallback): void {
    readBody(this.#req, this.#settings, done);
  }
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
