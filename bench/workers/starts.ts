import { createClient } from 'redis';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createWebhookWorker } from 'aicommerce-webhooks/bullmq';
import { EVENT, SECRET } from '../constants.js';

// A worker of the end-to-end latency rows (bench/queue-latency.ts): our worker as the README sets
// it up, whose one handler notes when it starts (epoch ms, sub-ms) by delivery id, and hands those
// over when the parent asks. Two of these run at once, each in its own process.

export type StartsMessage = { type: 'ready' } | { type: 'starts'; starts: [string, number][] };
export type StartsRequest = { type: 'collect' } | { type: 'stop' };

const [url, queueName, concurrency] = process.argv.slice(2);
if (url === undefined || queueName === undefined) throw new Error('the starts worker takes <redis url> <queue name> <concurrency>');
const send = (message: StartsMessage): void => void process.send!(message);

const starts: [string, number][] = [];
const quiet = { warn: () => {}, error: () => {}, info: () => {} };
const webhooks = createWebhookReceiver({ secret: SECRET, logger: quiet });
webhooks.on(EVENT, (_event, context) => void starts.push([context.id, performance.timeOrigin + performance.now()]));
const connection = createClient({ url });
connection.on('error', (error: unknown) => console.error('bench worker: Redis error', error));
await connection.connect();
const worker = createWebhookWorker(webhooks, { connection, queueName, concurrency: Number(concurrency ?? 10) });
await worker.waitUntilReady();

process.on('message', async (request: StartsRequest) => {
  if (request.type === 'collect') return send({ type: 'starts', starts: starts.splice(0) });
  await worker.close();
  await connection.close();
  process.exit(0);
});
send({ type: 'ready' });
