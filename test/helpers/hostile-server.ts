import { createHook } from 'node:async_hooks';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createWebhookReceiver, type ReceiverOptions, type WebhookError, type WebhookReceiver } from 'aicommerce-webhooks';
import { SECRET } from './deliveries.js';
import { frameworkNames, frameworks, WEBHOOK_PATH, type FrameworkName } from './frameworks.js';

/** The node middleware in every framework, and the Fetch handler behind Node's http server. */
export type Transport = FrameworkName | 'fetch';
export const transports: readonly Transport[] = [...frameworkNames, 'fetch'];

/** A receiver served over real HTTP on 127.0.0.1, with everything a hostile test needs to look at. */
export interface HostileServer {
  readonly port: number;
  readonly url: string;
  /** Every event a handler was given, in order. */
  readonly handled: unknown[];
  /** Every rejection and failure reported to `onError`. */
  readonly errors: WebhookError[];
  /** Every request and socket the server saw (to count listeners and bytes read). */
  readonly requests: IncomingMessage[];
  readonly sockets: Socket[];
  readonly server: Server;
  close(): Promise<void>;
}

/** Serves a receiver whose handler records every event; `setup` may register more (a failing one …). */
export async function startServer(
  transport: Transport,
  options: ReceiverOptions = {},
  setup: (webhooks: WebhookReceiver) => void = () => {},
): Promise<HostileServer> {
  const webhooks = createWebhookReceiver({ secret: SECRET, ...options });
  const handled: unknown[] = [];
  const errors: WebhookError[] = [];
  webhooks.onAny((event) => void handled.push(event));
  webhooks.onError((error) => void errors.push(error));
  setup(webhooks);
  const server =
    transport === 'fetch' ? createServer(getRequestListener(webhooks.fetchHandler())) : frameworks[transport](webhooks.middleware());
  return serve(server, { handled, errors, path: pathFor(transport) });
}

/** Listens on a free loopback port and records requests and sockets. */
export async function serve(
  server: Server,
  { handled = [], errors = [], path = WEBHOOK_PATH }: { handled?: unknown[]; errors?: WebhookError[]; path?: string } = {},
): Promise<HostileServer> {
  const requests: IncomingMessage[] = [];
  const sockets: Socket[] = [];
  server.prependListener('request', (req: IncomingMessage) => void requests.push(req));
  server.on('connection', (socket: Socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a port');
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}${path}`,
    handled,
    errors,
    requests,
    sockets,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The path a transport's server answers webhooks on (the bare ones answer every path). */
export const pathFor = (transport: Transport): string => (transport === 'node:http' || transport === 'fetch' ? '/' : WEBHOOK_PATH);

/**
 * Watches the timers of `durationMs` created from now on (a duration no other timer here uses, so
 * only the receiver's own are counted): how many were created, and how many were neither cleared
 * nor fired yet.
 */
export function watchTimers(durationMs: number): { created(): number; alive(): number; stop(): void } {
  const alive = new Set<number>();
  let created = 0;
  const hook = createHook({
    init: (id, type, _trigger, resource) => {
      if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === durationMs) {
        created++;
        alive.add(id);
      }
    },
    destroy: (id) => void alive.delete(id),
  }).enable();
  return { created: () => created, alive: () => alive.size, stop: () => void hook.disable() };
}

/** Listeners the body reader attaches to a request; all must be gone once the request is over. */
export const bodyListeners = (req: IncomingMessage): Record<string, number> =>
  Object.fromEntries(['data', 'end', 'error', 'aborted', 'close'].map((event) => [event, req.listenerCount(event)]));
