/**
 * AICommerce webhooks in a Connect app, at /webhooks/aicommerce. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/connect-server.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import connect from 'connect';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';

export interface ServerOptions extends ReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function startConnectServer({ port = 3000, host = '127.0.0.1', log = console.log, ...options }: ServerOptions = {}) {
  const webhooks = createWebhookReceiver(options); // secret: options.secret ?? AICOMMERCE_WEBHOOK_SECRET
  webhooks.onAny((event) => log(`${event.event} ${JSON.stringify(event.data)}`));
  webhooks.onError((error) => log(`rejected ${error.status} ${error.code}: ${error.message}`));

  const app = connect();
  app.use('/webhooks/aicommerce', webhooks.middleware()); // before any body parser: it verifies the raw bytes

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/webhooks/aicommerce`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startConnectServer({ port: Number(process.env['PORT'] ?? 3000) });
  console.log(`Listening on ${url}`);
}
