import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { createDelivery, createTestSender, sampleEvents, type DeliveryReport } from 'aicommerce-webhooks/testing';
import { closedPort, listen, type Listening } from '../helpers/http.js';

// The sender emulator (the AICommerce side) against real local servers.

const open: Listening[] = [];
afterAll(() => Promise.all(open.map((server) => server.close())));

/** A server answering each request with the next status of `statuses` (the last one repeats); counts requests. */
async function statusServer(...statuses: number[]) {
  const seen = { requests: 0 };
  const server = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = statuses[Math.min(seen.requests++, statuses.length - 1)]!;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
    });
  });
  open.push(server);
  return { url: server.url, seen };
}

/** A real receiver for one secret, counting the deliveries it accepted. */
async function receiverFor(secret: string) {
  const webhooks = createWebhookReceiver({ secret, tolerance: false });
  const received: { event: string; timestamp: string }[] = [];
  webhooks.onAny((event) => void received.push({ event: event.event, timestamp: event.timestamp }));
  const seen = { requests: 0 };
  const middleware = webhooks.middleware();
  const server = await listen((req, res) => {
    seen.requests++;
    middleware(req, res);
  });
  open.push(server);
  return { url: server.url, received, seen };
}

const delivery = createDelivery('product.added', sampleEvents['product.added'], { secret: 's' });

/** The wait before each retry: from the end of one attempt to the start of the next. */
const waits = (report: DeliveryReport): number[] =>
  report.attempts.slice(1).map((attempt, i) => attempt.at - (report.attempts[i]!.at + report.attempts[i]!.ms));

describe('createTestSender', () => {
  it('waits base × 2^(n−1) before retry n, scaled by 1 ± 20 % × (2 × random() − 1)', async () => {
    const { url } = await statusServer(500);
    const draws = [0, 0.5, 0.999_999]; // jitter factors 0.8, 1.0, ≈1.2
    let drawn = 0;
    const aicommerce = createTestSender({ baseDelayMs: 50, random: () => draws[drawn++]! });

    const report = await aicommerce.deliver(url, delivery);

    expect(drawn).toBe(3);
    const expected = [0, 50 * 0.8, 100 * 1.0, 200 * 1.2];
    report.attempts.forEach((attempt, i) => expect(attempt.delayMs).toBeCloseTo(expected[i]!, 3));
    waits(report).forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(expected[i + 1]! - 3); // really waited: timers never fire early (beyond rounding)
      expect(wait).toBeLessThan(expected[i + 1]! + 1000); // a generous bound: the machine is shared
    });
  });

  it('keeps every wait within ±20 % of base × 2^(n−1) with the default random source', async () => {
    const { url } = await statusServer(503);
    const aicommerce = createTestSender({ baseDelayMs: 20 });

    const reports = await Promise.all(Array.from({ length: 5 }, () => aicommerce.deliver(url, delivery)));

    const jitters = new Set<number>();
    for (const report of reports) {
      expect(report.attempts[0]?.delayMs).toBe(0);
      report.attempts.slice(1).forEach(({ delayMs }, i) => {
        const nominal = 20 * 2 ** i;
        expect(delayMs).toBeGreaterThanOrEqual(nominal * 0.8);
        expect(delayMs).toBeLessThan(nominal * 1.2);
        jitters.add(delayMs / nominal);
      });
      waits(report).forEach((wait, i) => expect(wait).toBeGreaterThanOrEqual(report.attempts[i + 1]!.delayMs - 3));
    }
    expect(jitters.size).toBeGreaterThan(1); // it does vary
  });

  it('makes 1 + retries attempts while the endpoint answers non-2xx, and reports each', async () => {
    for (const retries of [0, 1, 2, 5]) {
      const { url, seen } = await statusServer(500);
      const report = await createTestSender({ retries, baseDelayMs: 1 }).deliver(url, delivery);
      expect(report.attempts).toHaveLength(1 + retries);
      expect(seen.requests).toBe(1 + retries);
      expect(report.delivered).toBe(false);
      expect(report.attempts.every((a) => a.status === 500 && a.response === 'answer 500')).toBe(true);
    }
  });

  it('stops at the first 2xx', async () => {
    const { url, seen } = await statusServer(500, 409, 204, 500);
    const report = await createTestSender({ baseDelayMs: 1 }).deliver(url, delivery);
    expect(report.delivered).toBe(true);
    expect(report.attempts.map((a) => a.status)).toEqual([500, 409, 204]);
    expect(seen.requests).toBe(3);
  });

  it('retries on a network error (a closed port), reporting status null and the cause', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/webhooks`;
    const report = await createTestSender({ baseDelayMs: 1 }).deliver(url, delivery);
    expect(report.delivered).toBe(false);
    expect(report.attempts).toHaveLength(4);
    for (const attempt of report.attempts) expect(attempt).toMatchObject({ status: null, error: 'ECONNREFUSED' });
  });

  it('counts an endpoint that does not answer within timeoutMs as a network error', async () => {
    const server = await listen(() => {}); // never answers
    open.push(server);
    const report = await createTestSender({ retries: 1, baseDelayMs: 1, timeoutMs: 100 }).deliver(server.url, delivery);
    expect(report.attempts).toHaveLength(2);
    for (const attempt of report.attempts) {
      expect(attempt).toMatchObject({ status: null, error: 'timeout' });
      expect(attempt.ms).toBeGreaterThanOrEqual(95);
    }
  });

  it('sends an event to every subscribed endpoint, signed with its own secret, one report each; others get nothing', async () => {
    const aicommerce = createTestSender({ retries: 0 });
    const a = await receiverFor('secret-a');
    const b = await receiverFor('secret-b');
    const chat = await receiverFor('secret-chat');
    const all = await receiverFor('secret-all');
    const hookA = await aicommerce.webhooks.create({ url: a.url, events: ['product.added'], secret: 'secret-a' });
    const hookB = await aicommerce.webhooks.create({ url: b.url, events: ['product.updated', 'product.added'], secret: 'secret-b' });
    await aicommerce.webhooks.create({ url: chat.url, events: ['chat.message.received'], secret: 'secret-chat' });
    const hookAll = await aicommerce.webhooks.create({ url: all.url, events: ['*'], secret: 'secret-all' });
    const timestamp = '2026-11-26T12:00:00.000Z';

    const reports = await aicommerce.send('product.added', sampleEvents['product.added'], { timestamp });

    expect(reports.map((r) => [r.webhookId, r.url, r.delivered, r.attempts.map((x) => x.status)])).toEqual([
      [hookA.id, a.url, true, [200]],
      [hookB.id, b.url, true, [200]],
      [hookAll.id, all.url, true, [200]],
    ]);
    for (const endpoint of [a, b, all]) expect(endpoint.received).toEqual([{ event: 'product.added', timestamp }]);
    expect(chat.seen.requests).toBe(0);
  });

  it('lists and deletes endpoints; a deleted one gets nothing', async () => {
    const aicommerce = createTestSender({ retries: 0 });
    const kept = await receiverFor('kept');
    const gone = await receiverFor('gone');
    const keptHook = await aicommerce.webhooks.create({ url: kept.url, events: ['product.added'], secret: 'kept' });
    const goneHook = await aicommerce.webhooks.create({ url: gone.url, events: ['product.added'], secret: 'gone' });
    expect(await aicommerce.webhooks.list()).toEqual([keptHook, goneHook]);

    expect(await aicommerce.webhooks.delete(goneHook.id)).toBe(true);
    expect(await aicommerce.webhooks.delete(goneHook.id)).toBe(false);
    expect(await aicommerce.webhooks.list()).toEqual([keptHook]);

    expect(await aicommerce.send('product.added', sampleEvents['product.added'])).toHaveLength(1);
    expect(kept.received).toHaveLength(1);
    expect(gone.seen.requests).toBe(0);
    expect(await aicommerce.send('product.updated', sampleEvents['product.updated'])).toEqual([]);
  });

  it('rejects invalid endpoints and options', async () => {
    const aicommerce = createTestSender();
    await expect(aicommerce.webhooks.create({ url: 'ftp://x', events: ['product.added'], secret: 's' })).rejects.toThrow(/url/);
    await expect(aicommerce.webhooks.create({ url: 'http://127.0.0.1/', events: [], secret: 's' })).rejects.toThrow(/at least one event/);
    await expect(aicommerce.webhooks.create({ url: 'http://127.0.0.1/', events: ['product.added'], secret: '' })).rejects.toThrow(/secret/);
    expect(() => createTestSender({ retries: -1 })).toThrow(/retries/);
    expect(() => createTestSender({ retries: 1.5 })).toThrow(/retries/);
    expect(() => createTestSender({ baseDelayMs: -1 })).toThrow(/baseDelayMs/);
    expect(() => createTestSender({ jitter: 1.5 })).toThrow(/jitter/);
    expect(() => createTestSender({ timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
