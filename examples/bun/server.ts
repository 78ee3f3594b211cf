/**
 * AICommerce webhooks on Bun, with `Bun.serve` and the Fetch API handler. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 bun examples/bun/server.ts
 */
import { createWebhookReceiver } from 'aicommerce-webhooks';

const webhooks = createWebhookReceiver({ path: '/webhooks/aicommerce' }); // secret: AICOMMERCE_WEBHOOK_SECRET; other paths: 404
webhooks.onAny((event) => console.log(`${event.event} ${JSON.stringify(event.data)}`));
webhooks.onError((error) => console.log(`rejected ${error.status} ${error.code}: ${error.message}`));

const server = Bun.serve({ port: Number(process.env['PORT'] ?? 3000), hostname: '127.0.0.1', fetch: webhooks.fetchHandler() });
console.log(`Listening on ${new URL('/webhooks/aicommerce', server.url).href}`);
