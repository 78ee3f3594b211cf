import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import { extras as extrasGiven, openQueue, QUEUED_BODY, QUEUED_HEADERS } from './queue-connection.js';
import { serve } from './serve.js';
import { verify } from './verify.js';

// The bare queued handler the receiver is measured against: the body read by hand, its HMAC
// checked, JSON.parse, one `queue.add(event, { body }, { jobId })` (the job id is the body's
// SHA-256, as the receiver's), 202 once Redis has it. `argv[4]` adds, one by one, what the receiver
// does beyond that: `headers` (the request's headers and url stored in the job), `options` (the
// job options the receiver writes, retries and retention: JSON in `argv[5]`, recorded from a
// receiver by the parent) and `timeout` (the race against the 3 s enqueue timeout).
const queue = await openQueue();
const extras = extrasGiven();
const storeHeaders = extras.has('headers');
const options = extras.has('options') ? (JSON.parse(process.argv[5] ?? 'null') as JobsOptions) : {};
const raceTimeout = extras.has('timeout');
const ENQUEUE_TIMEOUT = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not acknowledge the job within ${ms} ms`)), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

serve(() => (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (!verify(req, bytes)) {
      res.writeHead(401).end();
      return;
    }
    const body = bytes.toString('utf8');
    const { event } = JSON.parse(body) as { event: string };
    const data = storeHeaders ? { body, headers: req.headers, url: req.url } : { body };
    const jobId = createHash('sha256').update(bytes).digest('hex');
    // The receiver's options name the delivery in its deduplication key too: this job's own id, as the receiver writes it.
    const added = queue.add(event, data, options.deduplication === undefined ? { ...options, jobId } : { ...options, jobId, deduplication: { ...options.deduplication, id: jobId } });
    (raceTimeout ? withTimeout(added, ENQUEUE_TIMEOUT) : added).then(
      () => void res.writeHead(202, QUEUED_HEADERS).end(QUEUED_BODY),
      () => void res.writeHead(503).end(),
    );
  });
});
