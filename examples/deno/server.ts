/**
 * AICommerce webhooks on Deno, with `Deno.serve` and the Fetch API handler. Run it:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 deno run --allow-net --allow-env=AICOMMERCE_WEBHOOK_SECRET,PORT,NO_DEPRECATION,TRACE_DEPRECATION examples/deno/server.ts
 */
import { createWebhookReceiver } from 'aicommerce-webhooks';

const webhooks = createWebhookReceiver({ path: '/webhooks/aicommerce' }); // secret: AICOMMERCE_WEBHOOK_SECRET; other paths: 404
webhooks.onAny((event) => console.log(`${event.event} ${JSON.stringify(event.data)}`));
webhooks.onError((error) => console.log(`rejected ${error.status} ${error.code}: ${error.message}`));

Deno.serve(
  {
    port: Number(Deno.env.get('PORT') ?? 3000),
    hostname: '127.0.0.1',
    onListen: ({ hostname, port }) => console.log(`Listening on http://${hostname}:${port}/webhooks/aicommerce`),
  },
  webhooks.fetchHandler(),
);
