import { createWebhookReceiver } from 'aicommerce-webhooks';
import { EVENT, SECRET } from '../constants.js';
import { serve } from './serve.js';

// Our middleware as the whole node:http server. Dedupe is off: every request repeats one body.
serve((ran) => {
  const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
  webhooks.on(EVENT, ran);
  return webhooks.middleware();
});
