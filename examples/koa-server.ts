/**
 * AICommerce webhooks in a Koa 3 app, at /webhooks/aicommerce, mounted before the body parser
 * the rest of the app uses. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/koa-server.ts
 */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';
import { koaWebhooks } from 'aicommerce-webhooks/koa';

export interface ServerOptions extends ReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function startKoaServer({ port = 3000, host = '127.0.0.1', log = console.log, ...options }: ServerOptions = {}) {
  // With `path`, the middleware answers that path only and hands every other request to next().
  const webhooks = createWebhookReceiver({ path: '/webhooks/aicommerce', ...options }); // secret: AICOMMERCE_WEBHOOK_SECRET
  webhooks.onAny((event) => log(`${event.event} ${JSON.stringify(event.data)}`));
  webhooks.onError((error) => log(`rejected ${error.status} ${error.code}: ${error.message}`));

  const app = new Koa();
  app.use(koaWebhooks(webhooks)); // before the body parser: it verifies the raw bytes
  app.use(bodyParser()); // the rest of your app
  app.use((ctx) => {
    if (ctx.method === 'POST' && ctx.path === '/orders') ctx.body = { order: ctx.request.body };
  });

  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => server.once('error', reject).once('listening', resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/webhooks/aicommerce`,
    webhooks,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startKoaServer({ port: Number(process.env['PORT'] ?? 3000) });
  console.log(`Listening on ${url}`);
}
