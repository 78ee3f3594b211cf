import { Worker } from 'bullmq';
import { serveWorker } from './drain.js';

// The bare BullMQ Worker our worker is measured against: a processor that does nothing.
serveWorker((connection, queueName, concurrency) => new Worker(queueName, async () => {}, { connection, concurrency, autorun: false }));
