import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, type Inspector, type InspectorOptions, type ReceiverOptions, type SchemaMap } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';

// The page's JSON API through the Fetch handler, for what the browser test does not reach: every
// outcome's words, bodies too large to keep whole, actions that cannot be done, and wrong requests.

const secret = 'whsec_inspector_api';
const data = sampleEvents['chat.message.received'];

function setup(options: ReceiverOptions<SchemaMap> = {}, inspectorOptions: InspectorOptions = {}) {
  const webhooks = createWebhookReceiver({ secret, ...options });
  webhooks.onError(() => {});
  const inspector: Inspector = webhooks.inspector({ allowRemote: true, ...inspectorOptions });
  const call = (path: string, init: RequestInit = {}) => inspector.fetch(new Request(`http://localhost/i/${path}`, init));
  const act = (path: string) => call(`api/${path}`, { method: 'POST', headers: { 'x-inspector-page': '1' } });
  const detail = async (seq: number) => (await call(`api/deliveries/${seq}`)).json() as Promise<Record<string, unknown>>;
  const send = (body: string | Uint8Array) => webhooks.receive({ body, signature: signPayload(body, secret) }).catch(() => undefined);
  return { webhooks, inspector, call, act, detail, send };
}

describe('the inspector API', () => {
  it('explains every outcome that is no refusal', async () => {
    const { detail, send } = setup();
    const { body } = createDelivery('chat.message.received', data, { secret });
    await send(body);
    await send(body);
    await send(createDelivery('order.created', {}, { secret }).body);
    expect((await detail(1))['reason']).toBe('verified, valid and fresh; no handler matched');
    expect((await detail(2))['explanation']).toMatchObject({ check: 'dedupe', summary: 'already processed: a delivery with this exact body succeeded before, so no handler ran again' });
    expect(await detail(3)).toMatchObject({ outcome: 'ignored', event: 'order.created', reason: 'no schema for event "order.created": answered 200 and ignored' });

    const queued = setup({ queue: { enqueue: async () => 'queued' } });
    await queued.send(body);
    expect(await queued.detail(1)).toMatchObject({ outcome: 'queued', status: 202, reason: 'stored for the workers: they run the handlers' });
    expect(await (await queued.act('replay/1')).json()).toMatchObject({ status: 202, outcome: 'queued', seq: 2 });
  });

  it('keeps only the start of a body over maxBodyBytes, which then cannot be replayed or saved', async () => {
    const { detail, send, act, call } = setup({}, { maxBodyBytes: 64 });
    const { body } = createDelivery('chat.message.received', data, { secret });
    await send(Buffer.from(body));
    const big = await detail(1);
    expect(big).toMatchObject({ event: 'chat.message.received', status: 200, body: { kind: 'text', truncated: true, bytes: Buffer.byteLength(body) } });
    expect((big['body'] as { text: string }).text).toBe(body.slice(0, 64));
    expect(big['replay']).toEqual({ available: false, reason: expect.stringContaining('larger than maxBodyBytes') });
    expect(big['fixture']).toMatchObject({ available: false, snippet: null });
    expect((await act('replay/1')).status).toBe(409);
    expect((await call('api/deliveries/1/fixture')).status).toBe(409);
  });

  it('shows a body that is not UTF-8 in hex, and a receive() delivery without headers', async () => {
    const { detail, send } = setup();
    await send(Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    expect(await detail(1)).toMatchObject({ code: 'invalid_json', method: null, url: null, body: { kind: 'binary', text: '000000  ff fe 00 41' } });
    expect((await detail(1))['headers']).toEqual([['x-webhook-signature', signPayload(Buffer.from([0xff, 0xfe, 0x00, 0x41]), secret)]]);
  });

  it('answers actions that cannot be done with why', async () => {
    const { act } = setup({ tolerance: false });
    const stale = await act('wrong/stale/chat.message.received');
    expect(stale.status).toBe(409);
    expect(await stale.json()).toEqual({ error: expect.stringContaining('The tolerance is off') });
    expect((await act('sample/order.created')).status).toBe(404);
    expect((await act('wrong/sideways/chat.message.received')).status).toBe(404);
    expect((await act('wrong/forged')).status).toBe(404);
    expect((await act('sample')).status).toBe(404);
    expect((await act('sample/%E0%A4%A')).status).toBe(400);
    expect((await act('replay/7')).status).toBe(404);

    const resolver = setup({ secret: () => undefined });
    const unsigned = await resolver.act('sample/chat.message.received');
    expect(unsigned.status).toBe(409);
    expect(await unsigned.json()).toEqual({ error: expect.stringContaining("The receiver's secret could not sign it") });
  });

  it('refuses wrong methods and paths', async () => {
    const { call, send } = setup();
    await send(createDelivery('chat.message.received', data, { secret }).body);
    expect((await call('', { method: 'PUT' })).status).toBe(405);
    expect((await call('api/deliveries', { method: 'POST' })).status).toBe(405);
    expect((await call('api/sample/chat.message.received')).status).toBe(405);
    for (const path of ['api/deliveries/2', 'api/deliveries/x1', 'api/deliveries/1/other', 'api/stream/1']) expect((await call(path)).status, path).toBe(404);
    const head = await call('', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
