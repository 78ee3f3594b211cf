import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, MemoryDedupeStore, type DedupeStore, type WebhookEvent } from 'aicommerce-webhooks';
import { RedisDedupeStore } from 'aicommerce-webhooks/redis';
import { createDelivery, createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';
import { mapConcurrently } from '../helpers/concurrency.js';
import { listen, post, type Listening } from '../helpers/http.js';
import { seededRandom } from '../helpers/random.js';
import { describeRedis, uniquePrefix, useRedisClient } from '../helpers/redis.js';

// Nothing lost, nothing doubled (issue 3, section 4): every scenario runs through real HTTP against
// the in-memory store and again against a real Redis.

const SECRET = 'whsec_exactly_once';
const TOLERANCE_MS = 300_000;
const message = (messageId: string) => ({ ...sampleEvents['chat.message.received'], messageId });

type Handler = (event: WebhookEvent<'chat.message.received'>) => unknown;

interface Receiver extends Listening {
  /** The `code` of every error the receiver reported, in order. */
  readonly errors: string[];
}

async function startReceiver(store: DedupeStore, handler: Handler, now?: () => Date): Promise<Receiver> {
  const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: store, ...(now && { now }) });
  webhooks.on('chat.message.received', handler);
  const errors: string[] = [];
  webhooks.onError((error) => void errors.push(error.code));
  return { ...(await listen(webhooks.middleware())), errors };
}

function exactlyOnceSuite(makeStore: () => DedupeStore): void {
  const open: Listening[] = [];
  afterAll(() => Promise.all(open.map((server) => server.close())));
  const start = async (handler: Handler, now?: () => Date): Promise<Receiver> => {
    const receiver = await startReceiver(makeStore(), handler, now);
    open.push(receiver);
    return receiver;
  };

  it('a handler that fails twice then succeeds is processed once, on the third attempt', async () => {
    let attempts = 0;
    const processedOn: number[] = [];
    const { url } = await start(() => {
      attempts++;
      if (attempts <= 2) throw new Error('transient');
      processedOn.push(attempts);
    });
    const aicommerce = createTestSender({ baseDelayMs: 5 });
    await aicommerce.webhooks.create({ url, events: ['chat.message.received'], secret: SECRET });

    const [report] = await aicommerce.send('chat.message.received', message('msg_twice'));

    expect(report?.delivered).toBe(true);
    expect(report?.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(report?.attempts[2]?.response).toEqual({ received: true });
    expect(processedOn).toEqual([3]);
  });

  it('1,000 deliveries with 30 % transient handler failures are each processed exactly once, or reported undelivered and never processed', async () => {
    const COUNT = 1000;
    const ATTEMPTS = 4; // 1 + the emulator's default 3 retries
    // Whether attempt n of delivery i fails: drawn per delivery, so the plan doesn't depend on the
    // order in which concurrent requests reach the handler.
    const failurePlan = Array.from({ length: COUNT }, (_, i) => {
      const random = seededRandom(0x5eed + i);
      return Array.from({ length: ATTEMPTS }, () => random() < 0.3);
    });
    const handlerCalls = new Array<number>(COUNT).fill(0);
    const processed = new Array<number>(COUNT).fill(0);
    const receiver = await start((event) => {
      const i = Number(event.data.messageId?.slice('msg_'.length));
      const attempt = handlerCalls[i]!++;
      if (failurePlan[i]![attempt]) throw new Error(`transient failure of delivery ${i}`);
      processed[i]!++;
    });
    const aicommerce = createTestSender({ baseDelayMs: 2, random: seededRandom(1) });
    await aicommerce.webhooks.create({ url: receiver.url, events: ['chat.message.received'], secret: SECRET });

    const reports = await mapConcurrently(COUNT, 16, async (i) => {
      const [report, ...others] = await aicommerce.send('chat.message.received', message(`msg_${i}`));
      expect(others).toEqual([]);
      return report!;
    });

    const problems: string[] = [];
    let expectedUndelivered = 0;
    reports.forEach((report, i) => {
      const firstSuccess = failurePlan[i]!.indexOf(false); // −1: all four attempts fail
      if (firstSuccess === -1) expectedUndelivered++;
      const statuses = report.attempts.map((a) => a.status);
      const expected = firstSuccess === -1 ? [500, 500, 500, 500] : [...new Array<number>(firstSuccess).fill(500), 200];
      if (JSON.stringify(statuses) !== JSON.stringify(expected)) problems.push(`#${i}: statuses ${statuses} ≠ ${expected}`);
      if (report.delivered !== (firstSuccess !== -1)) problems.push(`#${i}: delivered ${report.delivered}`);
      if (processed[i] !== (report.delivered ? 1 : 0)) problems.push(`#${i}: processed ${processed[i]} times, delivered ${report.delivered}`);
      if (handlerCalls[i] !== report.attempts.length) problems.push(`#${i}: ${handlerCalls[i]} handler calls for ${report.attempts.length} attempts`);
    });
    expect(problems).toEqual([]);

    const delivered = reports.filter((r) => r.delivered).length;
    const undelivered = reports.filter((r) => !r.delivered).length;
    const failedAttempts = reports.reduce((sum, r) => sum + r.attempts.filter((a) => a.status === 500).length, 0);
    expect(expectedUndelivered).toBeGreaterThan(0); // the seed does exercise "all four attempts failed"
    expect(undelivered).toBe(expectedUndelivered);
    expect(delivered + undelivered).toBe(COUNT);
    expect(processed.filter((n) => n === 1).length).toBe(delivered);
    expect(processed.filter((n) => n > 1)).toEqual([]);
    expect(receiver.errors).toEqual(new Array<string>(failedAttempts).fill('handler_failed'));
  });

  it('20 copies of one delivery sent at once run the handler once; the others are answered 409 in_flight or 200 duplicate', async () => {
    const COPIES = 20;
    let runs = 0;
    let answered = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const { url } = await start(async () => {
      runs++;
      // Hold the claim until every other copy has been answered, so they really meet it in flight.
      await Promise.race([gate, sleep(10_000, undefined, { ref: false })]);
    });
    const delivery = createDelivery('chat.message.received', message('msg_copies'), { secret: SECRET });
    const aicommerce = createTestSender({ retries: 0 });

    const reports = await Promise.all(
      Array.from({ length: COPIES }, () =>
        aicommerce.deliver(url, delivery).then((report) => {
          if (++answered === COPIES - 1) openGate();
          return report;
        }),
      ),
    );

    const answers = reports.map((r) => ({ status: r.attempts[0]?.status, body: r.attempts[0]?.response }));
    expect(runs).toBe(1);
    expect(answers.filter((a) => a.status === 200 && JSON.stringify(a.body) === '{"received":true}')).toHaveLength(1);
    const others = answers.filter((a) => JSON.stringify(a.body) !== '{"received":true}');
    expect(others).toHaveLength(COPIES - 1);
    for (const answer of others) {
      expect([409, 200]).toContain(answer.status);
      expect(answer.body).toMatchObject(answer.status === 409 ? { code: 'in_flight' } : { received: true, duplicate: true });
    }
    expect(others.filter((a) => a.status === 409).length).toBeGreaterThan(0);

    expect(await post(url, delivery)).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
    expect(runs).toBe(1);
  });

  it('a captured request replayed after processing is a 200 duplicate; replayed after the window it is 401 stale_timestamp', async () => {
    const sentAt = Date.parse('2026-11-26T12:00:00.000Z');
    let clock = sentAt;
    let runs = 0;
    const { url } = await start(
      () => void runs++,
      () => new Date(clock),
    );
    const captured = createDelivery('chat.message.received', message('msg_replayed'), { secret: SECRET, timestamp: new Date(sentAt) });

    expect(await post(url, captured)).toMatchObject({ status: 200, body: { received: true } });
    clock = sentAt + 60_000;
    expect(await post(url, captured)).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
    clock = sentAt + TOLERANCE_MS + 1;
    expect(await post(url, captured)).toMatchObject({ status: 401, body: { code: 'stale_timestamp' } });
    expect(runs).toBe(1);
  });
}

describe('exactly once with MemoryDedupeStore', () => {
  exactlyOnceSuite(() => new MemoryDedupeStore());

  it('a replay at the last accepted millisecond of the window is still a duplicate, and one a millisecond later is 401, after the store forgot it', async () => {
    const stamped = Date.parse('2026-11-26T12:00:00.000Z');
    let clock = stamped - TOLERANCE_MS; // first seen as early as its timestamp allows
    let runs = 0;
    const store = new MemoryDedupeStore({ now: () => clock });
    const receiver = await startReceiver(store, () => void runs++, () => new Date(clock));
    const captured = createDelivery('chat.message.received', message('msg_edge'), { secret: SECRET, timestamp: new Date(stamped) });
    try {
      expect((await post(receiver.url, captured)).status).toBe(200);
      clock = stamped + TOLERANCE_MS; // as late as it is accepted: 2 × tolerance after it was processed
      expect(await post(receiver.url, captured)).toMatchObject({ status: 200, body: { duplicate: true } });
      clock = stamped + TOLERANCE_MS + 1;
      expect(store.claim('probe').status).toBe('claimed'); // a write sweeps expired entries…
      expect(await post(receiver.url, captured)).toMatchObject({ status: 401, body: { code: 'stale_timestamp' } }); // …the window still holds
      expect(runs).toBe(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('dedupe: false', () => {
  it('turns deduplication off: every copy of a delivery runs the handler', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
    let runs = 0;
    webhooks.on('chat.message.received', () => void runs++);
    const server = await listen(webhooks.middleware());
    const copy = createDelivery('chat.message.received', message('msg_no_dedupe'), { secret: SECRET });
    try {
      for (let i = 0; i < 3; i++) expect(await post(server.url, copy)).toMatchObject({ status: 200, body: { received: true } });
      expect(runs).toBe(3);
    } finally {
      await server.close();
    }
  });
});

describeRedis('exactly once with RedisDedupeStore', () => {
  const redis = useRedisClient();
  exactlyOnceSuite(() => new RedisDedupeStore({ client: redis.client, prefix: uniquePrefix() }));
});
