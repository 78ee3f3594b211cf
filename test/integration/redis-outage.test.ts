import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { RedisDedupeStore } from 'aicommerce-webhooks/redis';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { listen, post, type Listening } from '../helpers/http.js';
import { connectClient, describeRedis, startRedisServer, uniquePrefix, type RedisServer, type TestRedisClient } from '../helpers/redis.js';

// A private redis-server that the test stops and starts again on the same port, under a receiver
// whose client is configured as the README says (disableOfflineQueue, default reconnection).

const SECRET = 'whsec_outage';
const delivery = (messageId: string) =>
  createDelivery('chat.message.received', { ...sampleEvents['chat.message.received'], messageId }, { secret: SECRET });

describeRedis('Redis stopped mid-run', () => {
  let server: RedisServer;
  let client: TestRedisClient;
  let receiver: Listening;
  const runs: string[] = [];
  const errors: string[] = [];
  let holdHandler: Promise<void> | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
    client = await connectClient(server.url);
    const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: new RedisDedupeStore({ client, prefix: uniquePrefix() }) });
    webhooks.on('chat.message.received', async (event) => {
      runs.push(event.data.messageId ?? '');
      await holdHandler;
    });
    webhooks.onError((error) => void errors.push(`${error.status} ${error.code}: ${error.message}`));
    receiver = await listen(webhooks.middleware());
  });
  afterAll(async () => {
    await receiver?.close();
    await client?.close();
    await server?.stop();
  });

  it('answers 503 store_unavailable with Retry-After and runs no handler while Redis is down; once it is back, the retry is processed', async () => {
    expect(await post(receiver.url, delivery('msg_before'))).toMatchObject({ status: 200, body: { received: true } });

    await server.stop();
    const during = delivery('msg_during');
    const refused = await post(receiver.url, during);
    expect(refused).toMatchObject({ status: 503, body: { code: 'store_unavailable' } });
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(JSON.stringify(refused.body)).not.toContain('msg_during');
    expect(runs).toEqual(['msg_before']);

    await server.start();
    await expect.poll(() => client.isReady, { timeout: 15_000, message: 'the redis client reconnects' }).toBe(true);
    expect(await post(receiver.url, during)).toMatchObject({ status: 200, body: { received: true } });
    expect(await post(receiver.url, during)).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
    expect(runs).toEqual(['msg_before', 'msg_during']);
  });

  it('a handler that succeeded while Redis went away still answers 200 (a retry would run it twice); the failed commit is reported', async () => {
    await expect.poll(() => client.isReady, { timeout: 15_000, message: 'the redis client is connected' }).toBe(true);
    let finish!: () => void;
    holdHandler = new Promise((resolve) => (finish = resolve));
    errors.length = 0;

    const answer = post(receiver.url, delivery('msg_commit_lost'));
    await expect.poll(() => runs, { timeout: 15_000, message: 'the handler starts' }).toContain('msg_commit_lost');
    await server.stop();
    finish();

    expect(await answer).toMatchObject({ status: 200, body: { received: true } });
    expect(errors).toEqual([expect.stringMatching(/^503 store_unavailable: Dedupe store failed to commit/)]);
    holdHandler = undefined;
    await server.start();
  });
});
