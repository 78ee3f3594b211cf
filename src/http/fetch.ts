import { WebhookError } from '../errors.js';
import { normalizePath, type IncomingHeaders, type Settings } from '../options.js';
import type { ReceiverCore } from '../core.js';
import { answerForError, answerForResult, checkRequestHead, notFound, type Answer } from './exchange.js';

/** A Fetch API route handler: Next.js `export const POST = …`, Hono `app.post(path, (c) => handler(c.req.raw))`, Bun, Deno, a Cloudflare Worker's `fetch`. */
export type FetchHandler = (request: Request) => Promise<Response>;

export function createFetchHandler(core: ReceiverCore): FetchHandler {
  const { settings } = core;
  return async function aicommerceWebhooks(request) {
    if (settings.path !== undefined && normalizePath(new URL(request.url).pathname) !== settings.path) {
      return toResponse(answerForError(notFound()));
    }
    const headError = checkRequestHead(request.method, request.headers.get('content-type'), request.headers.get('content-encoding'));
    if (headError !== undefined) return toResponse(answerForError(core.reject(headError, early(request))));

    let body: Uint8Array;
    try {
      body = await readBody(request, settings);
    } catch (error) {
      return toResponse(answerForError(core.reject(error instanceof WebhookError ? error : bodyUnreadable(error), early(request))));
    }
    const headers: IncomingHeaders = Object.fromEntries(request.headers);
    const { pathname, search } = new URL(request.url);
    try {
      // `url` is the path and query, as the node adapter gives it, so one secret resolver fits both.
      const result = await core.receive({ body, signature: headers['x-webhook-signature'], headers, url: pathname + search });
      return toResponse(answerForResult(result));
    } catch (error) {
      return toResponse(answerForError(error));
    }
  };
}

/** The request line and headers of a request refused before its body, for the inspector. */
const early = (request: Request) => ({ method: request.method, url: new URL(request.url).pathname, headers: Object.fromEntries(request.headers) });

const bodyUnreadable = (cause: unknown): WebhookError =>
  new WebhookError('incomplete_body', 'The request body could not be read', { cause });

const tooLarge = (limit: number): WebhookError => new WebhookError('payload_too_large', `Payload too large: the limit is ${limit} bytes`);

/** Reads the stream chunk by chunk, so a body over the limit is never held whole, and gives up after `bodyTimeout`. */
async function readBody(request: Request, settings: Settings): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > settings.limit) throw tooLarge(settings.limit);
  if (request.bodyUsed) throw new WebhookError('misconfigured', 'The request body was already read before aicommerce-webhooks could verify it');
  if (request.body === null) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timedOut = false;
  // One timer for the whole body: cancelling the reader ends a pending read(), and the loop with it.
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(ignore);
  }, settings.bodyTimeout);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) throw new WebhookError('body_timeout', `Request body not received within ${settings.bodyTimeout} ms`);
      if (done) break;
      size += value.byteLength;
      if (size > settings.limit) {
        reader.cancel().catch(ignore); // stop the upload; its own failure changes nothing
        throw tooLarge(settings.limit);
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function ignore(): void {}

function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
