/**
 * AICommerce webhooks on Cloudflare Workers: the Fetch API handler is the Worker's `fetch`. The
 * receiver is built once, when the Worker starts; with `nodejs_compat` and a compatibility date
 * from 2025-04-01, the secret is read from `process.env` like everywhere else (see wrangler.toml).
 */
import { createWebhookReceiver } from 'aicommerce-webhooks';

const webhooks = createWebhookReceiver({ path: '/webhooks/aicommerce' }); // secret: AICOMMERCE_WEBHOOK_SECRET; other paths: 404
webhooks.onAny((event) => console.log(`${event.event} ${JSON.stringify(event.data)}`));
webhooks.onError((error) => console.log(`rejected ${error.status} ${error.code}: ${error.message}`));

export default { fetch: webhooks.fetchHandler() };
