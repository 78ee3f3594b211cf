import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWebhookReceiver, eventSchemas, signPayload, WebhookError, type ReceiveInput } from 'aicommerce-webhooks';
import { createAjv } from '../helpers/json-schema.js';

// webhooks.toJSONSchema(): the schema of each whole delivery, by zod's own conversion, custom
// schemas included, written for what the sender puts on the wire (zod's input, not its output).
// Where JSON Schema cannot say what zod checks, the document is looser (never stricter) and says so.

const secret = 'json-schema-secret';
const timestamp = '2026-11-26T12:00:00.000Z';

/** Ajv's verdict and the receiver's on one delivery of `event` with `data`. */
/** What this test needs of a receiver, whatever its schemas. */
interface Describable {
  toJSONSchema(): object;
  receive(input: ReceiveInput): Promise<unknown>;
}

async function verdicts(receiver: Describable, event: string, data: unknown) {
  const json = { event, timestamp, data };
  const body = JSON.stringify(json);
  const validate = createAjv().compile((receiver.toJSONSchema() as Record<string, object>)[event]!);
  let zod = true;
  try {
    await receiver.receive({ body, signature: signPayload(body, secret) });
  } catch (error) {
    if (!(error instanceof WebhookError) || error.status !== 400) throw error;
    zod = false;
  }
  return { ajv: validate(json), zod };
}

describe('toJSONSchema()', () => {
  const webhooks = createWebhookReceiver({ secret, tolerance: false, dedupe: false });
  const schemas = webhooks.toJSONSchema();

  it('has one JSON Schema 2020-12 per built-in event, of the whole delivery', () => {
    expect(Object.keys(schemas)).toEqual(Object.keys(eventSchemas));
    const schema = schemas['chat.message.received'];
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      required: ['timestamp', 'event', 'data'],
      properties: {
        event: { const: 'chat.message.received' },
        timestamp: { type: 'string', format: 'date-time' },
        signature: {},
        data: { type: 'object', required: ['sessionId', 'storeId', 'message'] },
      },
    });
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema); // plain JSON, nothing hidden
  });

  it('keeps unknown fields everywhere: additionalProperties is open on every object', () => {
    const objects: Record<string, unknown>[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        if ((node as { type?: unknown }).type === 'object') objects.push(node as Record<string, unknown>);
        Object.values(node).forEach(walk);
      }
    };
    walk(schemas);
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) expect(object['additionalProperties']).toEqual({});
  });

  it('writes formats for the ISO strings, and zod\'s exact pattern beside each', () => {
    const daily = schemas['analytics.daily'] as { properties: { timestamp: object; data: { properties: { date: object; sessions: object } } } };
    expect(daily.properties.timestamp).toMatchObject({ format: 'date-time', pattern: expect.stringMatching(/^\^.*Z\|\(\[\+-\]/) });
    expect(daily.properties.data.properties.date).toMatchObject({ type: 'string', format: 'date', pattern: expect.any(String) });
    expect(daily.properties.data.properties.sessions).toEqual({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
  });

  it('includes custom schemas: a replaced event reads as replaced, an added one is there', () => {
    const custom = createWebhookReceiver({
      secret,
      schemas: {
        'chat.message.received': eventSchemas['chat.message.received'].extend({ locale: z.string() }),
        'order.refunded': z.object({ orderId: z.string(), amount: z.number() }),
      },
    }).toJSONSchema();
    expect(Object.keys(custom)).toEqual([...Object.keys(eventSchemas), 'order.refunded']);
    expect(custom['chat.message.received']).toMatchObject({ properties: { data: { required: ['sessionId', 'storeId', 'message', 'locale'] } } });
    expect(custom['order.refunded']).toMatchObject({
      properties: { event: { const: 'order.refunded' }, data: { required: ['orderId', 'amount'], properties: { amount: { type: 'number' } } } },
    });
  });
});

describe('toJSONSchema() describes the input (what the sender sends), not the parsed output', () => {
  const webhooks = createWebhookReceiver({
    secret,
    tolerance: false,
    dedupe: false,
    schemas: {
      'order.created': z.object({
        orderId: z.string(),
        retries: z.number().int().default(0), // optional on the wire, always there after parsing
        total: z.string().transform(Number), // a string on the wire, a number after parsing
      }),
    },
  });
  const data = (webhooks.toJSONSchema()['order.created'] as { properties: { data: Record<string, unknown> } }).properties.data;

  it('a field with a default is optional; a transformed one has its input type; a plain z.object takes unknown keys', () => {
    expect(data['required']).toEqual(['orderId', 'total']);
    expect(data['properties']).toMatchObject({ retries: { type: 'integer', default: 0 }, total: { type: 'string' } });
    expect(data).not.toHaveProperty('additionalProperties'); // z.object strips unknown keys: it accepts them
  });

  it.each([
    ['no retries, a string total', { orderId: 'o1', total: '12.50' }, true],
    ['an unknown key (z.object strips it)', { orderId: 'o1', total: '1', note: 'gift' }, true],
    ['a number total (only its output is a number)', { orderId: 'o1', total: 12.5 }, false],
    ['no total', { orderId: 'o1' }, false],
  ])('%s: Ajv and the receiver agree (%s)', async (_, value, accepted) => {
    expect(await verdicts(webhooks, 'order.created', value)).toEqual({ ajv: accepted, zod: accepted });
  });
});

describe('what JSON Schema cannot say: looser, never stricter, and said', () => {
  const webhooks = createWebhookReceiver({
    secret,
    tolerance: false,
    dedupe: false,
    schemas: {
      'coupon.issued': z.object({
        code: z.string().regex(/^[a-z]{4}-\d+$/i), // the `i` flag has no JSON Schema form
        sku: z.string().regex(/^sku_/).regex(/\d$/), // two plain patterns: both kept
        batch: z.string().regex(/^b/i).regex(/\d$/).refine((b) => b.length < 9), // the flagged one goes, the plain one stays
        percent: z.number().refine((n) => n % 5 === 0, 'a multiple of 5'), // code, not a keyword
        note: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string()), // code before the schema
      }),
    },
  });
  const properties = (webhooks.toJSONSchema()['coupon.issued'] as { properties: { data: { properties: Record<string, unknown> } } }).properties.data
    .properties;
  const valid = { code: 'save-10', sku: 'sku_12', batch: 'b1', percent: 15, note: 'x' };

  it('marks each such place with a $comment', () => {
    expect(properties['code']).toEqual({ type: 'string', $comment: expect.stringContaining('/^[a-z]{4}-\\d+$/i') });
    expect(properties['sku']).toEqual({ type: 'string', allOf: [{ pattern: '^sku_' }, { pattern: '\\d$' }] });
    expect(properties['batch']).toEqual({
      type: 'string',
      allOf: [{ pattern: '\\d$' }],
      $comment: expect.stringMatching(/^zod matches \/\^b\/i; JSON Schema patterns have no flags; zod also checks .* \(refine\)/),
    });
    expect(properties['percent']).toEqual({ type: 'number', $comment: expect.stringContaining('refine') });
    expect(properties['note']).toEqual({ $comment: expect.stringContaining('preprocess') });
  });

  it.each([
    ['a valid coupon', valid, { ajv: true, zod: true }],
    ['an upper-case code (the i flag: zod accepts, and so does the document)', { ...valid, code: 'SAVE-10' }, { ajv: true, zod: true }],
    ['a numeric note (preprocessed into a string)', { ...valid, note: 42 }, { ajv: true, zod: true }],
    ['a sku that breaks a kept pattern', { ...valid, sku: 'sku_x' }, { ajv: false, zod: false }],
    ['an upper-case batch', { ...valid, batch: 'B7' }, { ajv: true, zod: true }],
    ['a percent the refinement rejects: the one gap, the document is looser', { ...valid, percent: 12 }, { ajv: true, zod: false }],
  ])('%s', async (_, value, expected) => {
    expect(await verdicts(webhooks, 'coupon.issued', value)).toEqual(expected);
  });

  it('a type with no JSON form is an error that names the event and the field', () => {
    const dated = createWebhookReceiver({ secret, schemas: { 'refund.due': z.object({ items: z.array(z.object({ due: z.date() })) }) } });
    expect(() => dated.toJSONSchema()).toThrow(
      new TypeError(
        "Cannot describe the event 'refund.due' as JSON Schema: Date cannot be represented in JSON Schema (at data.items.*.due). " +
          'Describe what the sender puts on the wire, e.g. z.iso.datetime() instead of z.date().',
      ),
    );
    expect(() => dated.toOpenAPI()).toThrow(/Cannot describe the event 'refund.due'/);
    const counted = createWebhookReceiver({ secret, schemas: { 'stock.counted': z.object({ units: z.bigint() }) } });
    expect(() => counted.toJSONSchema()).toThrow(/^Cannot describe the event 'stock.counted' as JSON Schema: BigInt .* \(at data\.units\)/);
  });
});

describe('string lengths: zod (4.6) and JSON Schema both count code points', () => {
  // `'😀'.length` is 2 UTF-16 units but one code point. zod counts code points as JSON Schema does,
  // so minLength and maxLength mean the same thing to both, astral characters included.
  const webhooks = createWebhookReceiver({
    secret,
    tolerance: false,
    dedupe: false,
    schemas: { 'tag.added': z.object({ tag: z.string().min(2).max(3) }) },
  });

  it.each([
    ['two ASCII characters', 'ab', true],
    ['one emoji (2 UTF-16 units, 1 code point)', '😀', false],
    ['two emoji (4 units, 2 code points)', '😀😀', true],
    ['four emoji (8 units, 4 code points)', '😀😀😀😀', false],
    ['two lone surrogates (each one code point)', '\ud800\udc00'.slice(0, 1).repeat(2), true],
  ])('%s: both say %s', async (_, tag, accepted) => {
    expect(await verdicts(webhooks, 'tag.added', { tag })).toEqual({ ajv: accepted, zod: accepted });
  });
});
