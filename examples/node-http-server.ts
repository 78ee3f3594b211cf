/**
 * AICommerce webhooks on a bare node:http server, no framework. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/node-http-server.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';

export interface ServerOptions extends ReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function startNodeHttpServer({ port = 3000, host = '127.0.0.1', log = console.log, ...options }: ServerOptions = {}) {
  // With no router to mount it, `path` makes the middleware answer 404 for every other path.
  const webhooks = createWebhookReceiver({ path: '/webhooks/aicommerce', ...options });
  webhooks.onAny((event) => log(`${event.event} ${JSON.stringify(event.data)}`));
  webhooks.onError((error) => log(`rejected ${error.status} ${error.code}: ${error.message}`));

  const server = http.createServer(webhooks.middleware());
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/webhooks/aicommerce`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startNodeHttpServer({ port: Number(process.env['PORT'] ?? 3000) });
  console.log(`Listening on ${url}`);
}
