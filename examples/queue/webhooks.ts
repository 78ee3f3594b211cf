/**
 * The one receiver definition of the queued example, imported by both processes: the receiver
 * (receiver.ts) stores each verified delivery as a BullMQ job, the worker (worker.ts) runs these
 * handlers for it. The typed `on()` registrations live here, once.
 */
import { createClient } from 'redis';
import { createWebhookReceiver, type ReceiverOptions } from 'aicommerce-webhooks';
import { DEFAULT_QUEUE_NAME } from 'aicommerce-webhooks/bullmq';

export const QUEUE_NAME = process.env['QUEUE_NAME'] ?? DEFAULT_QUEUE_NAME;

/** The receiver with its handlers. `queue` is given in the receiving process only. */
export function defineWebhooks(options: ReceiverOptions = {}) {
  const webhooks = createWebhookReceiver(options); // secret: AICOMMERCE_WEBHOOK_SECRET
  webhooks.on('chat.message.received', async (event, context) => {
    // context.id is the delivery id (= the job id): the key that makes a side effect idempotent.
    console.log(`chat.message.received ${context.id} attempt ${context.attempt}: "${event.data.message}" in ${event.data.sessionId}`);
  });
  webhooks.on(['product.added', 'product.updated'], async (event, context) => {
    console.log(`${event.event} ${context.id} attempt ${context.attempt}: ${event.data.product.name}`);
  });
  // The receiver hears rejections (401, 400 …) here, the worker a job that failed its last attempt.
  webhooks.onError((error) => console.log(`error ${error.status} ${error.code}: ${error.message}`));
  return webhooks;
}

/**
 * A node-redis client, the one Redis client of the package. Keep its offline queue (the default):
 * BullMQ's worker waits through an outage with it, and the receiver's enqueue timeout still answers
 * 503 in time while Redis is away.
 */
export async function connectRedis() {
  const client = createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' });
  client.on('error', () => {}); // it reconnects by itself; meanwhile enqueues time out and are answered 503
  await client.connect();
  return client;
}
