/**
 * AICommerce webhooks in an Express app (4 or 5), at /webhooks/aicommerce. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/express-server.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createWebhookReceiver, WebhookHandlerError, type ReceiverOptions } from 'aicommerce-webhooks';

export interface ServerOptions extends ReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function startExpressServer({ port = 3000, host = '127.0.0.1', log = console.log, ...options }: ServerOptions = {}) {
  const webhooks = createWebhookReceiver(options); // secret: options.secret ?? AICOMMERCE_WEBHOOK_SECRET
  webhooks.onAny((event) => log(`${event.event} ${JSON.stringify(event.data)}`));
  // With an observer every rejection is one line here (without one, only 5xx are printed, with stacks).
  webhooks.onError((error) => {
    const causes = error instanceof WebhookHandlerError ? ` (${error.errors.map(String).join('; ')})` : '';
    log(`rejected ${error.status} ${error.code}: ${error.message}${causes}`);
  });

  const app = express();
  app.use('/webhooks/aicommerce', webhooks.middleware()); // before express.json(): it verifies the raw bytes
  app.use(express.json()); // the rest of your app

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/webhooks/aicommerce`,
    webhooks,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startExpressServer({ port: Number(process.env['PORT'] ?? 3000) });
  console.log(`Listening on ${url}`);
}
