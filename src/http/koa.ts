import type { IncomingMessage } from 'node:http';
import { adapterApiOf } from '../adapter-api.js';
import { misconfigured } from '../errors.js';
import { normalizePath, type Settings } from '../options.js';
import type { WebhookReceiver } from '../receiver.js';
import type { BodyCallback } from '../request.js';
import type { Answer } from './answers.js';
import { readBody } from './read-body.js';

/** The part of Koa's `ctx` the middleware uses (so the package needs no Koa types of its own). */
export interface KoaContext {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly originalUrl: string;
  /** Where `ctx.request.rawBody` is: the body as text, kept by `@koa/bodyparser`, `koa-bodyparser`, `koa-body` with `includeUnparsed`. */
  readonly request: object;
  status: number;
  body: unknown;
  /** Sets the answer's headers. */
  set(fields: { [field: string]: string }): void;
}

/** Koa middleware: `app.use(koaWebhooks(webhooks))`, or `router.all(path, koaWebhooks(webhooks))` with @koa/router. */
export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<unknown>) => Promise<void>;

const MOUNTING_HELP =
  'The request body was already read by a body parser mounted before koaWebhooks(), and it kept no raw copy ' +
  '(ctx.request.rawBody), so the signature cannot be checked. Mount app.use(koaWebhooks(webhooks)) before the body parser, ' +
  'or use @koa/bodyparser or koa-bodyparser, which keep ctx.request.rawBody, or koaBody({ includeUnparsed: true }).';

/** Koa 3 middleware for a receiver. With the receiver's `path` option, other paths go to `next()`. */
export function koaWebhooks(receiver: WebhookReceiver<never>): KoaMiddleware {
  const api = adapterApiOf(receiver);
  const { settings } = api;
  return async function aicommerceWebhooks(ctx, next) {
    if (settings.path !== undefined && normalizePath(ctx.path) !== settings.path) return void (await next());
    const request = { method: ctx.method, headers: ctx.req.headers, url: ctx.originalUrl, readBody: (done: BodyCallback) => bodyOf(ctx, settings, done) };
    answer(ctx, await new Promise<Answer>((resolve) => api.answer(request, resolve)));
  };
}

/** The raw copy a Koa body parser left, or the stream read with the limit and timeout. */
function bodyOf(ctx: KoaContext, settings: Settings, done: BodyCallback): void {
  const { rawBody } = ctx.request as { rawBody?: unknown };
  if (typeof rawBody === 'string' || rawBody instanceof Uint8Array) return done(undefined, rawBody);
  if (ctx.req.readableEnded) return done(misconfigured(MOUNTING_HELP));
  readBody(ctx.req, settings, done);
}

function answer(ctx: KoaContext, { status, headers, body }: Answer): void {
  ctx.status = status;
  // Headers before the body: Koa would otherwise guess text/plain for a string.
  ctx.set(headers);
  // An unread body must not be drained into the next request on a kept-alive connection.
  if (!ctx.req.complete) ctx.set({ connection: 'close' });
  ctx.body = body;
}
