import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { EVENT, SECRET } from '../constants.js';
import { serveWorker } from './drain.js';

// Our worker as the README sets it up: the receiver's one handler (a no-op) run by createWebhookWorker.
// A logger without info: the worker's ready line would land between the bench's tables (a no-op handler fails nothing).
const webhooks = createWebhookReceiver({ secret: SECRET, logger: { warn: () => {}, error: () => {} } });
webhooks.on(EVENT, () => {});

serveWorker((connection, queueName, concurrency) => createWebhookWorker(webhooks, { connection, queueName, concurrency, autorun: false }));
