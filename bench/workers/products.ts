import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { PRODUCT_EVENT, SECRET } from '../constants.js';
import { serveWorker } from './drain.js';

// Our worker on an ordered event (issue 15): one no-op product.updated handler run by
// createWebhookWorker, with latest wins (`ordered`: each job holds its product, then raises its
// mark, in the queue's Redis) or without it (`unordered`: the receiver's `order: false`).
const mode = process.argv[5];
if (mode !== 'ordered' && mode !== 'unordered') throw new Error('a products worker takes <redis url> <queue name> <concurrency> ordered|unordered');
const webhooks = createWebhookReceiver({ secret: SECRET, logger: { warn: () => {}, error: () => {} }, ...(mode === 'unordered' && { order: false as const }) });
webhooks.on(PRODUCT_EVENT, () => {});

serveWorker((connection, queueName, concurrency) => createWebhookWorker(webhooks, { connection, queueName, concurrency, autorun: false }));
