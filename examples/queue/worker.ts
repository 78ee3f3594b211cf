/**
 * The working process of the queued example: runs the handlers of webhooks.ts for every job the
 * receiver stored, with BullMQ's retries. Start as many as you like, on any machine that reaches Redis:
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret npx tsx examples/queue/worker.ts
 *
 * SIGTERM (what a deploy or `docker stop` sends) lets the running handlers finish, then exits.
 * The worker verifies nothing (the receiver did), but a receiver is always created with its secret.
 */
import { createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { connectRedis, defineWebhooks, QUEUE_NAME } from './webhooks.js';

const client = await connectRedis();
// Once ready it prints where it listens: queue, prefix, Redis host:port/db (through a logger's info, when given one).
const worker = createWebhookWorker(defineWebhooks(), { connection: client, queueName: QUEUE_NAME, concurrency: 10 });

process.once('SIGTERM', async () => {
  await worker.close(); // takes no new job, waits for the running ones
  await client.close();
  console.log('Worker stopped');
  process.exit(0);
});
