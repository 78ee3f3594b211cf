import express from 'express';
import { createNodeMiddleware, Webhooks } from '@octokit/webhooks';
import { SECRET, WEBHOOK_PATH } from '../constants.js';
import { serve } from './serve.js';

// @octokit/webhooks' own middleware in Express 5 (same sha256=<hex> scheme as ours).
serve((ran) => {
  const webhooks = new Webhooks({ secret: SECRET });
  webhooks.onAny(ran);
  return express().use(createNodeMiddleware(webhooks, { path: WEBHOOK_PATH }));
});
