import type { ClientFacts } from './guard.js';
import { json, route, STREAM_HEADERS, type InspectorState } from './routes.js';

// The inspector as a Fetch handler: Next.js, Hono, Bun, Deno. A Request has no socket, so the
// client's address comes from `clientAddress`, or from the server's own second argument where the
// runtime gives one (Deno.serve's info, Bun.serve's server); when none says, the request is
// refused, unless allowRemote.

/**
 * Who sent the request: what Deno.serve (its `info`) or Bun.serve (its `server`) pass as a fetch
 * handler's second argument, or the address itself (e.g. from Hono's `getConnInfo(c).remote.address`).
 */
export type InspectorFetchInfo =
  | { readonly clientAddress: string | undefined }
  | { readonly remoteAddr: { readonly hostname: string } }
  | {
      /** Bun.serve's `server`, asked for the request's address. */
      requestIP(request: Request): { readonly address: string } | null;
    };

/** The inspector as a Fetch handler (`inspector.fetch`): the page and its API for a `Request`, told who asks by `info` or the `clientAddress` option. */
export type InspectorFetchHandler = (request: Request, info?: InspectorFetchInfo) => Promise<Response>;

/** Tells the Fetch handler who the client is, e.g. with Hono on Node: `(request) => c.env.incoming.socket.remoteAddress`. */
export type ClientAddress = (request: Request) => string | undefined;

function addressFrom(request: Request, info: InspectorFetchInfo | undefined, clientAddress: ClientAddress | undefined): string | undefined {
  if (clientAddress !== undefined) return clientAddress(request);
  if (info === undefined || info === null || typeof info !== 'object') return undefined;
  if ('clientAddress' in info) return typeof info.clientAddress === 'string' ? info.clientAddress : undefined;
  if ('remoteAddr' in info && typeof info.remoteAddr?.hostname === 'string') return info.remoteAddr.hostname;
  if ('requestIP' in info && typeof info.requestIP === 'function') return info.requestIP(request)?.address;
  return undefined;
}

export function fetchInspector(state: InspectorState, streams: Set<() => void>, clientAddress: ClientAddress | undefined): InspectorFetchHandler {
  return async function aicommerceInspector(request, info) {
    const url = new URL(request.url);
    const client: ClientFacts = {
      address: addressFrom(request, info, clientAddress),
      host: request.headers.get('host') ?? url.host,
      header: (name) => request.headers.get(name) ?? undefined,
    };
    let answer;
    try {
      answer = await route(state, { method: request.method, path: url.pathname, client });
    } catch (error) {
      answer = json(500, { error: `The inspector failed: ${error instanceof Error ? error.message : String(error)}` });
    }
    if (!('stream' in answer)) return new Response(request.method === 'HEAD' ? null : answer.body, { status: answer.status, headers: answer.headers });
    const encoder = new TextEncoder();
    let stop: (() => void) | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let open = true;
        stop = answer.stream({
          write: (chunk) => open && controller.enqueue(encoder.encode(chunk)),
          end: () => {
            if (!open) return;
            open = false;
            try {
              controller.close();
            } catch {
              // already cancelled by the client
            }
          },
        });
        streams.add(stop);
        request.signal.addEventListener('abort', () => cancel(), { once: true });
      },
      cancel: () => cancel(),
    });
    const cancel = (): void => {
      if (stop === undefined) return;
      streams.delete(stop);
      stop();
    };
    return new Response(body, { status: 200, headers: STREAM_HEADERS });
  };
}
