/**
 * AICommerce webhooks in a Fastify 5 app, at /webhooks/aicommerce, beside a JSON route that keeps
 * Fastify's own JSON parsing. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/fastify-server.ts
 */
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';
import { fastifyWebhooks } from 'aicommerce-webhooks/fastify';

export interface ServerOptions extends ReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export async function startFastifyServer({ port = 3000, host = '127.0.0.1', log = console.log, ...options }: ServerOptions = {}) {
  const webhooks = createWebhookReceiver(options); // secret: options.secret ?? AICOMMERCE_WEBHOOK_SECRET
  webhooks.onAny((event) => log(`${event.event} ${JSON.stringify(event.data)}`));
  webhooks.onError((error) => log(`rejected ${error.status} ${error.code}: ${error.message}`));

  const app = Fastify();
  // The plugin reads the raw body in its own encapsulated context; the rest of the app still parses JSON.
  await app.register(fastifyWebhooks, { receiver: webhooks, path: '/webhooks/aicommerce' });
  app.post('/orders', async (request) => ({ order: request.body }));

  const origin = await app.listen({ port, host });
  return { url: `${origin}/webhooks/aicommerce`, origin, webhooks, close: () => app.close() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startFastifyServer({ port: Number(process.env['PORT'] ?? 3000) });
  console.log(`Listening on ${url}`);
}
