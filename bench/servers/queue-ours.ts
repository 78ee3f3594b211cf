import { createWebhookReceiver } from 'aicommerce-webhooks';
import { BullMQDeliveryQueue } from 'aicommerce-webhooks/bullmq';
import { SECRET } from '../constants.js';
import { openQueue } from './queue-connection.js';
import { serve } from './serve.js';

// Queued mode as the README sets it up: our middleware on node:http, each delivery one BullMQ job.
// No handler runs here (the workers run them): the parent counts the jobs in Redis instead. Of the
// extras (queue-connection.ts) only `no-command-timeout` applies.
const queue = await openQueue();
serve(() => createWebhookReceiver({ secret: SECRET, queue: new BullMQDeliveryQueue({ queue }) }).middleware());
