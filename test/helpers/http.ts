import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Loopback servers for the tests, and the one way a test posts a prepared delivery.

export const WEBHOOK_PATH = '/webhooks/aicommerce';

export interface Listening {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The origin followed by the path given to listen(). */
  readonly url: string;
  readonly port: number;
  /** Closes the server, kept-alive connections included, so tests finish promptly. */
  close(): Promise<void>;
}

/** Listens on a free loopback port: a server, or a request listener in a new node:http server. */
export async function listen(server: http.Server | http.RequestListener, path = WEBHOOK_PATH): Promise<Listening> {
  const listening = server instanceof http.Server ? server : http.createServer(server);
  await new Promise<void>((resolve, reject) => listening.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = listening.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}${path}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        listening.close(() => resolve());
        listening.closeAllConnections();
      }),
  };
}

/** A loopback port that was free a moment ago (bound, then released): nothing listens there. */
export async function freePort(): Promise<number> {
  const { port, close } = await listen((_req, res) => res.end());
  await close();
  return port;
}

/** A port nothing listens on, for a refused connection. */
export const closedPort = freePort;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** The body parsed as JSON; undefined when empty. */
  readonly body: unknown;
}

/** Sends a prepared delivery once (POST unless `method` says otherwise: a GET carries no body). */
export async function post(
  url: string,
  delivery: { body: string; headers: Readonly<Record<string, string>> },
  method = 'POST',
): Promise<Answer> {
  const response = await fetch(url, { method, headers: delivery.headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body: delivery.body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}
