import { adapterApiOf } from '../adapter-api.js';
import { bodyTimeout, incompleteBody, misconfigured, notFound, payloadTooLarge, WebhookError } from '../errors.js';
import { normalizePath, type Settings } from '../options.js';
import type { HttpRequest, IncomingHeaders } from '../request.js';
import { answerForError, type Answer } from './answers.js';

/** A Fetch API route handler: Next.js `export const POST = …`, Hono `app.post(path, (c) => handler(c.req.raw))`, Bun, Deno, a Cloudflare Worker's `fetch`. */
export type FetchHandler = (request: Request) => Promise<Response>;

export function createFetchHandler(receiver: object): FetchHandler {
  const api = adapterApiOf(receiver);
  const { settings } = api;
  return function aicommerceWebhooks(request) {
    const { pathname, search } = new URL(request.url);
    if (settings.path !== undefined && normalizePath(pathname) !== settings.path) return Promise.resolve(toResponse(answerForError(notFound())));
    const headers: IncomingHeaders = Object.fromEntries(request.headers);
    // `url` is the path and query, as the node adapter gives it, so one secret resolver fits both.
    const readBody: HttpRequest['readBody'] = (done) => void readFetchBody(request, settings).then((body) => done(undefined, body), done);
    return new Promise((resolve) => api.answer({ method: request.method, headers, url: pathname + search, readBody }, (answer) => resolve(toResponse(answer))));
  };
}

/** The body's bytes; a stream that fails (the client went away) is an incomplete body. */
async function readFetchBody(request: Request, settings: Settings): Promise<Uint8Array> {
  try {
    return await readStream(request, settings);
  } catch (error) {
    throw error instanceof WebhookError ? error : incompleteBody('The request body could not be read', error);
  }
}

/** Reads the stream chunk by chunk, so a body over the limit is never held whole, and gives up after `bodyTimeout`. */
async function readStream(request: Request, settings: Settings): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > settings.limit) throw payloadTooLarge(settings.limit);
  if (request.bodyUsed) throw misconfigured('The request body was already read before aicommerce-webhooks could verify it');
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
      const chunk = await reader.read();
      if (timedOut) throw bodyTimeout(settings.bodyTimeout);
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > settings.limit) {
        reader.cancel().catch(ignore); // stop the upload; its own failure changes nothing
        throw payloadTooLarge(settings.limit);
      }
      chunks.push(chunk.value);
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
