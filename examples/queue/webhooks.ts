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
 * 503 in time while Redis is away. While Redis cannot be reached (at start or later) it says so,
 * once per outage, and keeps trying: never a silent hang, never a line per reconnection attempt.
 */
export async function connectRedis(url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379') {
  const { host, pathname } = new URL(url); // host:port and db only: a URL may hold a password
  const where = `${host}${pathname.length > 1 ? pathname : ''}`;
  const client = createClient({ url });
  let down = false;
  client.on('error', (error: Error & { code?: string }) => {
    if (down) return; // one line an outage, not one per reconnection attempt
    down = true;
    console.warn(`Redis at ${where} unreachable (${error.code ?? error.message}): retrying`);
  });
  client.on('ready', () => {
    if (down) console.warn(`Redis at ${where} reachable again`);
    down = false;
  });
  await client.connect(); // resolves once Redis answers; until then the line above says why it waits
  return client;
}
