/**
 * AICommerce webhooks in Hono through the Fetch API handler (the same one serves Next.js route
 * handlers, Bun and Deno), on Node with @hono/node-server. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/hono-server.ts
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';

export interface ServerOptions extends ReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function startHonoServer({ port = 3000, host = '127.0.0.1', log = console.log, ...options }: ServerOptions = {}) {
  const webhooks = createWebhookReceiver(options); // secret: options.secret ?? AICOMMERCE_WEBHOOK_SECRET
  webhooks.onAny((event) => log(`${event.event} ${JSON.stringify(event.data)}`));
  webhooks.onError((error) => log(`rejected ${error.status} ${error.code}: ${error.message}`));

  const handler = webhooks.fetchHandler();
  const app = new Hono();
  // all(), not post(): a GET then gets the handler's 405 with `Allow: POST` rather than a 404.
  app.all('/webhooks/aicommerce', (c) => handler(c.req.raw));

  const server = serve({ fetch: app.fetch, port, hostname: host }) as Server; // an http.Server by default
  await new Promise<void>((resolve, reject) => server.once('error', reject).once('listening', resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/webhooks/aicommerce`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startHonoServer({ port: Number(process.env['PORT'] ?? 3000) });
  console.log(`Listening on ${url}`);
}
