import express from 'express';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { EVENT, SECRET, WEBHOOK_PATH } from '../constants.js';
import { serve } from './serve.js';

// Our middleware mounted in Express 5 the way the README says. Dedupe is off: every request repeats one body.
serve((ran) => {
  const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
  webhooks.on(EVENT, ran);
  return express().use(WEBHOOK_PATH, webhooks.middleware());
});
