import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientFacts } from './guard.js';
import { json, route, STREAM_HEADERS, type InspectorState } from './routes.js';

// The inspector as node middleware: Express 4/5, Connect, node:http, and Fastify or Koa through
// their raw request and response. It never reads a request body (the page sends none).

export type InspectorMiddleware = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

export function nodeInspector(state: InspectorState, streams: Set<() => void>): InspectorMiddleware {
  return function aicommerceInspector(req, res) {
    // Express and Connect strip the mount path from req.url and keep the whole one as originalUrl.
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const query = url.indexOf('?');
    const client: ClientFacts = {
      address: req.socket.remoteAddress,
      host: req.headers.host,
      header: (name) => single(req.headers[name]),
    };
    route(state, { method: req.method ?? 'GET', path: query === -1 ? url : url.slice(0, query), client }).then(
      (answer) => {
        if (res.headersSent || res.destroyed) return;
        if ('stream' in answer) {
          res.writeHead(200, STREAM_HEADERS);
          const stop = answer.stream({
            // compression middleware buffers unless told to flush
            write: (chunk) => void (res.write(chunk), (res as { flush?: () => void }).flush?.()),
            end: () => res.end(),
          });
          streams.add(stop);
          res.once('close', () => {
            streams.delete(stop);
            stop();
          });
          return;
        }
        res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
        res.end(req.method === 'HEAD' ? undefined : answer.body);
      },
      (error: unknown) => {
        if (res.headersSent || res.destroyed) return;
        const answer = json(500, { error: `The inspector failed: ${error instanceof Error ? error.message : String(error)}` });
        if ('body' in answer) res.writeHead(500, answer.headers).end(answer.body);
      },
    );
  };
}
