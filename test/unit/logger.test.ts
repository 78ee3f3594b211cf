import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, signPayload, type DedupeStore, type ReceiverOptions, type WebhookLogger } from 'aicommerce-webhooks';
import { createDelivery } from 'aicommerce-webhooks/testing';
import { SECRET, sha256, signedBody as delivery } from '../helpers/deliveries.js';
import { ERROR, pinoToLines, WARN } from '../helpers/log-lines.js';

// A real pino logger writing JSON lines to a stream the test reads, fed through receive(): what an
// operator's log pipeline would receive. Through every adapter: logger-adapters.test.ts.

const receiverWith = (options: ReceiverOptions) => createWebhookReceiver({ secret: SECRET, ...options });
const send = (webhooks: ReturnType<typeof receiverWith>, body: string, signature = signPayload(body, SECRET)): Promise<unknown> =>
  webhooks.receive({ body, signature }).catch(() => undefined);

afterEach(() => vi.restoreAllMocks());

describe('rejections are warn records (receive())', () => {
  it('once the body is authentic, the record names the event and the delivery id; a 400 lists the issue paths', async () => {
    const log = pinoToLines();
    const webhooks = receiverWith({ logger: log.logger });
    const stale = delivery('product.added', new Date(Date.now() - 3_600_000));
    const invalid = createDelivery('product.added', { storeId: 'store_1', product: { id: 7 } }, { secret: SECRET }).body;
    await send(webhooks, stale);
    await send(webhooks, invalid);
    await send(webhooks, 'not json');
    expect(log.lines).toEqual([
      {
        level: WARN,
        code: 'stale_timestamp',
        status: 401,
        event: 'product.added',
        deliveryId: sha256(stale),
        msg: 'Timestamp outside the tolerance window: older than 300 s from now',
      },
      {
        level: WARN,
        code: 'invalid_payload',
        status: 400,
        event: 'product.added',
        deliveryId: sha256(invalid),
        issues: [
          { path: 'data.product.id', message: 'Invalid input: expected string, received number' },
          { path: 'data.product.name', message: 'Invalid input: expected string, received undefined' },
        ],
        msg: 'Payload does not match the event schema',
      },
      { level: WARN, code: 'invalid_json', status: 400, deliveryId: sha256('not json'), msg: 'Body is not valid JSON: it could not be parsed' },
    ]);
  });
});

describe('failures are error records with the error as err', () => {
  it('a failing handler → error { code, status, event, deliveryId, err } with every handler error; console.error stays quiet', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = pinoToLines();
    const webhooks = receiverWith({ logger: log.logger });
    webhooks.on('product.added', () => {
      throw new Error('database is down');
    });
    webhooks.on('product.*', () => Promise.reject(new TypeError('search index is down')));
    const body = delivery('product.added');
    await send(webhooks, body);

    expect(consoleError).not.toHaveBeenCalled();
    const [line, ...rest] = log.lines;
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: ERROR, code: 'handler_failed', status: 500, event: 'product.added', deliveryId: sha256(body), msg: 'Webhook handler failed' });
    expect(line?.err?.type).toBe('WebhookHandlerError');
    expect(line?.err?.message).toBe('Webhook handler failed: database is down'); // pino's err serializer follows the cause
    expect(line?.err?.aggregateErrors?.map((e) => e.message)).toEqual(['database is down', 'search index is down']);
    expect(line?.err?.stack).toContain('caused by: Error: database is down');
  });

  it("a dedupe store that is down → error with the store's error as the cause", async () => {
    const log = pinoToLines();
    const store: DedupeStore = { claim: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) };
    const webhooks = receiverWith({ logger: log.logger, dedupe: store });
    const body = delivery();
    await send(webhooks, body);
    expect(log.lines).toMatchObject([
      {
        level: ERROR,
        code: 'store_unavailable',
        status: 503,
        event: 'product.added',
        deliveryId: sha256(body),
        err: { message: 'Dedupe store unavailable; nothing was processed: connect ECONNREFUSED 127.0.0.1:6379' },
      },
    ]);
  });

  it('a store that fails to commit after the handlers ran: the answer stays 200, the failure is logged with the delivery', async () => {
    const log = pinoToLines();
    const store: DedupeStore = {
      claim: async () => ({ status: 'claimed', commit: () => Promise.reject(new Error('READONLY')), release: async () => {} }),
    };
    const webhooks = receiverWith({ logger: log.logger, dedupe: store });
    webhooks.on('product.added', () => {});
    const body = delivery();
    await expect(webhooks.receive({ body, signature: signPayload(body, SECRET) })).resolves.toMatchObject({ outcome: 'handled' });
    expect(log.lines).toMatchObject([
      { level: ERROR, code: 'store_unavailable', event: 'product.added', deliveryId: sha256(body), err: { message: 'Dedupe store failed to commit a delivery: READONLY' } },
    ]);
  });
});

describe('what never reaches the log, and what happens without a logger', () => {
  it('no record holds the body, the signature or the secret', async () => {
    const CANARY = 'CANARY-l0g-77b2';
    const log = pinoToLines();
    const webhooks = receiverWith({ logger: log.logger });
    webhooks.on('chat.message.received', (event) => {
      if (event.data.message.endsWith('fail')) throw new Error('user code failed');
    });
    const chat = (message: string, timestamp = new Date()): string =>
      createDelivery('chat.message.received', { sessionId: 's', storeId: CANARY, message }, { secret: SECRET, timestamp }).body;
    const bodies = [
      chat(`${CANARY} fail`),
      chat(CANARY, new Date(Date.now() - 3_600_000)),
      createDelivery('chat.message.received', { sessionId: CANARY, storeId: 7, message: [CANARY] }, { secret: SECRET }).body,
      `{"event":"${CANARY}`,
    ];
    const signatures: string[] = [];
    for (const body of bodies) {
      signatures.push(signPayload(body, SECRET));
      await send(webhooks, body);
      await send(webhooks, body, `sha256=${CANARY}`);
    }
    expect(new Set(log.lines.map((line) => line.code))).toEqual(
      new Set(['handler_failed', 'stale_timestamp', 'invalid_payload', 'invalid_json', 'invalid_signature']),
    );
    const text = log.text();
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(SECRET);
    for (const signature of signatures) expect(text).not.toContain(signature.slice('sha256='.length));
  });

  it('without a logger, a 5xx goes to console.error as before, and a 4xx is not logged', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const webhooks = receiverWith({});
    webhooks.on('product.added', () => {
      throw new Error('database is down');
    });
    const body = delivery();
    await send(webhooks, body, 'sha256=00');
    expect(consoleError).not.toHaveBeenCalled();
    await send(webhooks, body);
    expect(consoleError).toHaveBeenCalledOnce();
    expect(consoleError.mock.calls[0]?.[0]).toBe('[aicommerce-webhooks] 500 handler_failed: Webhook handler failed');
  });

  it('a logger that throws changes no answer: one process warning', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const broken: WebhookLogger = {
      warn: () => {
        throw new Error('log pipe closed');
      },
      error: () => {
        throw new Error('log pipe closed');
      },
    };
    const webhooks = receiverWith({ logger: broken });
    const body = delivery();
    await expect(webhooks.receive({ body, signature: 'sha256=00' })).rejects.toMatchObject({ status: 401 });
    expect(warnings).toHaveBeenCalledWith('the logger threw: log pipe closed', { type: 'AICommerceWebhooksWarning' });
  });

  it('a logger without warn() and error() is refused at creation', () => {
    for (const logger of [{ info() {} }, null, 'console', { warn() {} }]) {
      expect(() => receiverWith({ logger: logger as never })).toThrow(/logger must have warn\(obj, msg\) and error\(obj, msg\)/);
    }
    expect(() => receiverWith({ logger: console })).not.toThrow();
  });
});
