/**
 * The receiving process of the queued example: Express answers 202 once Redis holds the job, and
 * shows the queue (its failed jobs: the dead letters) on a web page, bull-board, at /admin/queues.
 * Run it beside worker.ts (Redis on REDIS_URL, default redis://127.0.0.1:6379):
 *
 *   AICOMMERCE_WEBHOOK_SECRET=your-secret PORT=3000 npx tsx examples/queue/receiver.ts
 *
 * The dashboard's two packages must be the same version, or their types disagree under `tsc --strict`:
 *
 *   npm install bullmq redis express @bull-board/api@9.10.1 @bull-board/express@9.10.1
 *
 * The dashboard can retry and remove jobs: keep it behind your own authentication in production.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express from 'express';
import { BullMQDeliveryQueue } from 'aicommerce-webhooks/bullmq';
import { connectRedis, defineWebhooks, QUEUE_NAME } from './webhooks.js';

const client = await connectRedis();
const queue = new Queue(QUEUE_NAME, { connection: client });
const webhooks = defineWebhooks({ queue: new BullMQDeliveryQueue({ queue }) });

const board = new ExpressAdapter();
board.setBasePath('/admin/queues');
createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: board });

const app = express();
app.use('/webhooks/aicommerce', webhooks.middleware()); // verified, valid, fresh → a job → 202
app.use('/admin/queues', board.getRouter());

const host = process.env['HOST'] ?? '127.0.0.1';
const server = http.createServer(app);
await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(process.env['PORT'] ?? 3000), host, resolve));
const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
console.log(`Listening on ${origin}/webhooks/aicommerce`);
console.log(`Queue dashboard on ${origin}/admin/queues`);

process.once('SIGTERM', () => {
  // Stop taking requests, let those under way get their answer, then let go of Redis.
  server.close(async () => {
    await queue.close();
    await client.close();
    process.exit(0);
  });
  server.closeIdleConnections();
});
