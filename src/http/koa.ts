import type { IncomingMessage } from 'node:http';
import { coreOf } from '../core.js';
import { WebhookError } from '../errors.js';
import { normalizePath, type Settings } from '../options.js';
import type { WebhookReceiver } from '../receiver.js';
import type { BodyInput } from '../signature.js';
import { answerForError, answerForResult, checkRequestHead, type Answer } from './exchange.js';
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
  const core = coreOf(receiver);
  const { settings } = core;
  return async function aicommerceWebhooks(ctx, next) {
    if (settings.path !== undefined && normalizePath(ctx.path) !== settings.path) return void (await next());
    const headError = checkRequestHead(ctx.method, ctx.req.headers['content-type'], ctx.req.headers['content-encoding']);
    if (headError !== undefined) return answer(ctx, answerForError(core.reject(headError, early(ctx))));

    let body: BodyInput;
    try {
      body = await bodyOf(ctx, settings);
    } catch (error) {
      return answer(ctx, answerForError(core.reject(error as WebhookError, early(ctx))));
    }
    try {
      const result = await core.receive({ body, signature: ctx.req.headers['x-webhook-signature'], headers: ctx.req.headers, url: ctx.originalUrl });
      answer(ctx, answerForResult(result));
    } catch (error) {
      answer(ctx, answerForError(error)); // reported by the core
    }
  };
}

/** The request line and headers of a request refused before its body, for the inspector. */
const early = (ctx: KoaContext) => ({ method: ctx.method, url: ctx.originalUrl, headers: ctx.req.headers });

/** The raw copy a Koa body parser left, or the stream read with the limit and timeout. */
function bodyOf(ctx: KoaContext, settings: Settings): Promise<BodyInput> {
  const { rawBody } = ctx.request as { rawBody?: unknown };
  if (typeof rawBody === 'string' || rawBody instanceof Uint8Array) return Promise.resolve(rawBody);
  if (ctx.req.readableEnded) return Promise.reject(new WebhookError('misconfigured', MOUNTING_HELP));
  return new Promise((resolve, reject) => readBody(ctx.req, settings, (error, body) => (error === undefined ? resolve(body!) : reject(error))));
}

function answer(ctx: KoaContext, { status, headers, body }: Answer): void {
  ctx.status = status;
  // Headers before the body: Koa would otherwise guess text/plain for a string.
  ctx.set(headers);
  // An unread body must not be drained into the next request on a kept-alive connection.
  if (!ctx.req.complete) ctx.set({ connection: 'close' });
  ctx.body = body;
}
