import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, WebhookError } from 'aicommerce-webhooks';
import { SECRET } from '../helpers/deliveries.js';
import { startServer, transports, type HostileServer, type Transport } from '../helpers/hostile-server.js';

// Hostile payloads, correctly signed (the sender's key leaked, or the sender is buggy): keys that
// target JavaScript prototypes, and nesting meant to overflow the stack of whatever recurses.

const timestamp = (): string => new Date().toISOString();

/** JSON text with `__proto__` and `constructor.prototype` as real keys (an object literal would not keep them). */
const protoBody = (): string =>
  `{"__proto__":{"isAdmin":true},"event":"chat.message.received","timestamp":"${timestamp()}",` +
  `"constructor":{"prototype":{"isAdmin":true}},"data":{"sessionId":"sess_1","storeId":"store_1","message":"hi",` +
  `"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},` +
  `"products":[{"id":"p1","name":"Shoe","__proto__":{"polluted":"yes"}}]}}`;

const deepArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const deepObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
/** A valid delivery whose `data.context` (a free-form record) holds `depth` nested objects. */
const deepInData = (depth: number): string =>
  `{"event":"chat.session.created","timestamp":"${timestamp()}","data":{"sessionId":"s","storeId":"t","context":${deepObjects(depth)}}}`;

const prototypeNames = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();

describe.each(transports)('%s', (transport: Transport) => {
  let server: HostileServer;
  beforeAll(async () => {
    server = await startServer(transport);
  });
  afterAll(() => server.close());

  const post = (body: string, signature = signPayload(body, SECRET)) =>
    fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-signature': signature }, body });

  it('__proto__ and constructor.prototype keys: Object.prototype stays clean, the handler still gets the data', async () => {
    const clean = prototypeNames();
    const response = await post(protoBody());
    expect(response.status).toBe(200);

    expect(prototypeNames()).toEqual(clean);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    const event = server.handled.at(-1) as { data: Record<string, unknown> & { products: Record<string, unknown>[] } };
    expect(event.data).toMatchObject({ sessionId: 'sess_1', storeId: 'store_1', message: 'hi', products: [{ id: 'p1', name: 'Shoe' }] });
    for (const object of [event, event.data, event.data.products[0]!] as Record<string, unknown>[]) {
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
      expect(object['polluted']).toBeUndefined();
      expect(object['isAdmin']).toBeUndefined();
    }
    // Unknown keys are kept as plain data (loose schemas): `constructor` is just a field here.
    expect(Object.getOwnPropertyDescriptor(event.data, 'constructor')?.value).toEqual({ prototype: { polluted: 'yes' } });
  });

  it('100,000-deep nesting, signed: 400 invalid_payload, no stack overflow, the next request answered', async () => {
    const before = server.handled.length;
    for (const body of [deepArrays(100_000), deepObjects(100_000), deepInData(100_000)]) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'Payload is nested deeper than 64 levels', code: 'invalid_payload', issues: [] });
    }
    expect(server.handled.length).toBe(before);
    expect((await post(deepInData(3))).status).toBe(200);
  });

  it('100,000-deep nesting, not signed: 401 and not 400, since nothing is parsed before the signature holds', async () => {
    const response = await post(deepArrays(100_000), 'sha256=' + 'ab'.repeat(32));
    expect(response.status).toBe(401);
  });
});

describe('receive(): the depth limit', () => {
  const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
  const receive = (body: string) => webhooks.receive({ body, signature: signPayload(body, SECRET) });

  it('accepts 64 levels of JSON and rejects 65 with 400 invalid_payload', async () => {
    // The envelope and `data` are two levels: context nested n deep makes n + 2.
    await expect(receive(deepInData(62))).resolves.toMatchObject({ outcome: 'handled' });
    const error = await receive(deepInData(63)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_payload' });
  });

  it('1 MB of nesting (the default limit) is a 400, one byte more a 413', async () => {
    const body = deepArrays(512 * 1024);
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    await expect(receive(body)).rejects.toMatchObject({ status: 400, code: 'invalid_payload' });
    await expect(receive('['.repeat(1024 * 1024))).rejects.toMatchObject({ status: 400, code: 'invalid_json' });
    await expect(receive(`${body} `)).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
  });
});
