import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { EVENT, SECRET } from '../constants.js';
import { serveWorker } from './drain.js';

// Our worker as the README sets it up: the receiver's one handler (a no-op) run by createWebhookWorker.
const webhooks = createWebhookReceiver({ secret: SECRET });
webhooks.on(EVENT, () => {});

serveWorker((connection, queueName, concurrency) => createWebhookWorker(webhooks, { connection, queueName, concurrency, autorun: false }));
