import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createWebhookReceiver,
  eventSchemas,
  signPayload,
  STATUS_BY_CODE,
  type OpenAPIDocument,
  type OpenAPIOperation,
  type ReceiverOptions,
} from 'aicommerce-webhooks';
import { sampleEvents } from 'aicommerce-webhooks/testing';
import { createAjv, openApiValidator, pointerTo } from '../helpers/json-schema.js';
import { readRepoFile } from '../helpers/paths.js';

// webhooks.toOpenAPI(): one webhook per event with the signature header, the body and the answers
// of the status table. Linted by Redocly in describe-openapi-lint.test.ts, and checked against what
// a running receiver answers in describe-openapi-http.test.ts.

const secret = 'openapi-secret';
const NOW = new Date('2026-11-26T12:00:00.000Z');
const webhooks = createWebhookReceiver({ secret });
const document = webhooks.toOpenAPI();

const operation = (doc: OpenAPIDocument, event: string): OpenAPIOperation => doc.webhooks[event]!.post;
/** Status → the codes its documented answer allows. */
function codesByStatus(op: OpenAPIOperation): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [status, response] of Object.entries(op.responses)) {
    const schema = response.content['application/json']!.schema as { allOf?: [unknown, { properties: { code: { enum: string[] } } }] };
    if (schema.allOf !== undefined) out[status] = schema.allOf[1].properties.code.enum;
  }
  return out;
}

describe('toOpenAPI()', () => {
  it('is an OpenAPI 3.1 document with one webhook per event, and nothing in paths without a path', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };
    expect(document).toMatchObject({
      openapi: '3.1.0',
      info: { title: 'AICommerce webhooks', version: pkg.version },
      externalDocs: { url: 'https://www.aibuyassistant.com/docs/webhooks' },
    });
    expect(Object.keys(document.webhooks)).toEqual(Object.keys(eventSchemas));
    expect(document).not.toHaveProperty('paths');
    expect(webhooks.toOpenAPI({ title: 'Shop hooks', version: '2.1.0' }).info).toMatchObject({ title: 'Shop hooks', version: '2.1.0' });
  });

  it('requires the x-webhook-signature header, with the pattern signPayload writes', () => {
    for (const event of Object.keys(eventSchemas)) expect(operation(document, event).parameters).toEqual([{ $ref: '#/components/parameters/WebhookSignature' }]);
    const parameter = document.components.parameters['WebhookSignature']!;
    expect(parameter).toMatchObject({ name: 'x-webhook-signature', in: 'header', required: true, schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' } });
    const header = createAjv().compile(parameter.schema);
    expect(header(signPayload('{"any":"body"}', secret))).toBe(true);
    expect(header('sha1=abc')).toBe(false);
  });

  it("the body of each webhook is the event's toJSONSchema() (a component; the dialect is the document's)", () => {
    const schemas = webhooks.toJSONSchema();
    for (const [event, schema] of Object.entries(schemas)) {
      const body = operation(document, event).requestBody;
      expect(body.required).toBe(true);
      const ref = (body.content['application/json']!.schema as { $ref: string }).$ref;
      const name = ref.replace('#/components/schemas/', '');
      const { $schema: _, ...rest } = schema as Record<string, unknown>;
      expect(document.components.schemas[name]).toEqual(rest);
    }
  });

  it('answers with every status of the table that a known event can get, each code under its status', () => {
    const expected: Record<string, string[]> = {};
    for (const [code, status] of Object.entries(STATUS_BY_CODE)) {
      if (code === 'not_found' || code === 'unknown_event' || code === 'queue_unavailable' || code === 'no_handler') continue; // another path; another event; queued mode; a worker's
      (expected[String(status)] ??= []).push(code);
    }
    for (const event of Object.keys(eventSchemas)) {
      const op = operation(document, event);
      expect(codesByStatus(op)).toEqual(expected);
      expect(Object.keys(op.responses).sort()).toEqual(['200', ...Object.keys(expected)].sort());
      expect(op.responses['405']!.headers).toMatchObject({ Allow: { required: true } });
      expect(op.responses['503']!.headers).toMatchObject({ 'Retry-After': { required: true } });
    }
    const error = document.components.schemas['WebhookError'] as { required: string[]; properties: { code: { enum: string[] }; issues: object } };
    expect(error.required).toEqual(['error', 'code']);
    expect(error.properties.code.enum).toEqual(Object.keys(STATUS_BY_CODE));
  });

  it('leaves out the answers a receiver cannot give: no dedupe, no order, no tolerance', () => {
    const op = operation(createWebhookReceiver({ secret, dedupe: false, order: false, tolerance: false }).toOpenAPI(), 'product.added');
    expect(Object.keys(op.responses)).not.toContain('409');
    expect(Object.keys(op.responses)).not.toContain('503');
    expect(codesByStatus(op)['401']).toEqual(['invalid_signature']);
    expect(Object.keys(op.responses['200']!.content['application/json']!.examples!)).toEqual(['handled']);
  });

  it('in queued mode: 202 queued, 200 duplicate, 503 queue_unavailable; no 409 and no handler_failed (workers run the handlers)', () => {
    const queue: ReceiverOptions['queue'] = { enqueue: () => Promise.resolve('queued') };
    const op = operation(createWebhookReceiver({ secret, queue }).toOpenAPI(), 'chat.message.received');
    expect(Object.keys(op.responses)).toEqual(['200', '202', '400', '401', '405', '408', '413', '415', '500', '503']);
    expect(op.responses['202']!.content['application/json']!.examples).toEqual({ queued: { value: { received: true, queued: true } } });
    expect(op.responses['200']!.content['application/json']!.examples).toEqual({ duplicate: { value: { received: true, duplicate: true } } });
    expect(codesByStatus(op)['503']).toEqual(['queue_unavailable']);
    expect(codesByStatus(op)['500']).toEqual(['misconfigured']);
    expect(op.responses['500']!.content['application/json']).not.toHaveProperty('examples'); // the handler_failed example does not apply
  });

  it("carries AICommerce's documented example for chat.message.received, and a sample for each other event", () => {
    const examples = operation(document, 'chat.message.received').requestBody.content['application/json']!.examples!;
    expect(examples['documented']!.value).toEqual({
      event: 'chat.message.received',
      timestamp: expect.any(String),
      // DESIGN.md › "The wire format", as AICommerce's documentation gives it.
      data: {
        sessionId: 'sess_abc123',
        storeId: 'store_xyz',
        message: 'Looking for running shoes',
        products: [{ id: 'prod_xyz', name: 'Nike Air Max', relevanceScore: 0.95 }],
      },
    });
    for (const event of Object.keys(eventSchemas)) {
      const [example] = Object.values(operation(document, event).requestBody.content['application/json']!.examples!);
      expect(example!.value).toMatchObject({ event, data: sampleEvents[event as keyof typeof sampleEvents] });
    }
  });

  it('every example passes its schema (Ajv) and the receiver', async () => {
    const schemaAt = openApiValidator(document);
    const receiver = createWebhookReceiver({ secret, tolerance: false, dedupe: false });
    let checked = 0;
    for (const [event, { post }] of Object.entries(document.webhooks)) {
      const at = (...rest: string[]) => pointerTo('webhooks', event, 'post', ...rest);
      for (const [name, { value }] of Object.entries(post.requestBody.content['application/json']!.examples!)) {
        expect(schemaAt(at('requestBody', 'content', 'application/json', 'schema'))(value)).toBe(true);
        const body = JSON.stringify(value);
        await expect(receiver.receive({ body, signature: signPayload(body, secret) })).resolves.toMatchObject({ outcome: 'handled' });
        checked++;
        void name;
      }
      for (const [status, response] of Object.entries(post.responses)) {
        for (const { value } of Object.values(response.content['application/json']!.examples ?? {})) {
          expect(schemaAt(at('responses', status, 'content', 'application/json', 'schema'))(value)).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('drops a sample that no longer fits a replaced schema', () => {
    const replaced = createWebhookReceiver({ secret, schemas: { 'product.added': z.object({ sku: z.string() }) } }).toOpenAPI();
    expect(operation(replaced, 'product.added').requestBody.content['application/json']).not.toHaveProperty('examples');
    expect(operation(replaced, 'product.updated').requestBody.content['application/json']).toHaveProperty('examples');
  });
});

describe('toOpenAPI() with a path: the endpoint itself, a delivery of any event', () => {
  const body = (doc: OpenAPIDocument, path: string) => doc.paths![path]!.post;

  it("takes the receiver's path, or the one given; a path must start with /", () => {
    const mounted = createWebhookReceiver({ secret, path: '/webhooks/aicommerce/' });
    expect(Object.keys(mounted.toOpenAPI().paths!)).toEqual(['/webhooks/aicommerce']);
    expect(Object.keys(mounted.toOpenAPI({ path: '/hooks' }).paths!)).toEqual(['/hooks']);
    expect(() => webhooks.toOpenAPI({ path: 'hooks' })).toThrow(new TypeError("toOpenAPI(): path must start with '/' (got hooks)"));
  });

  it("under 'ignore', an unknown event's well-formed envelope is a valid body, answered 200 ignored", () => {
    const doc = webhooks.toOpenAPI({ path: '/hooks' });
    const op = body(doc, '/hooks');
    expect(op.responses['200']!.content['application/json']!.examples).toHaveProperty('ignored');
    expect(codesByStatus(op)['400']).not.toContain('unknown_event');
    const validate = openApiValidator(doc)(pointerTo('paths', '/hooks', 'post', 'requestBody', 'content', 'application/json', 'schema'));
    const envelope = { timestamp: NOW.toISOString(), data: {} };
    expect(validate({ ...envelope, event: 'order.shipped' })).toBe(true);
    expect(validate({ ...envelope, event: 'chat.message.received' })).toBe(false); // a known event must fit its own schema
    expect(validate({ ...envelope, event: '' })).toBe(false);
  });

  it("under 'reject', only known events are valid bodies and 400 lists unknown_event", () => {
    const doc = createWebhookReceiver({ secret, unknownEvents: 'reject' }).toOpenAPI({ path: '/hooks' });
    const op = body(doc, '/hooks');
    expect(codesByStatus(op)['400']).toContain('unknown_event');
    expect(op.responses['200']!.content['application/json']!.examples).not.toHaveProperty('ignored');
    expect(doc.components.schemas).not.toHaveProperty('OtherEvent');
    const validate = openApiValidator(doc)(pointerTo('paths', '/hooks', 'post', 'requestBody', 'content', 'application/json', 'schema'));
    expect(validate({ event: 'order.shipped', timestamp: NOW.toISOString(), data: {} })).toBe(false);
  });

  it('custom schemas with shared and recursive parts keep working references inside the document', () => {
    const category: z.ZodType<{ name: string; children: unknown[] }> = z.lazy(() => z.object({ name: z.string(), children: z.array(category) }));
    const doc = createWebhookReceiver({
      secret,
      schemas: { 'catalog.synced': z.object({ root: category, storeId: z.string().meta({ id: 'StoreId', description: 'The store' }) }) },
    }).toOpenAPI({ path: '/hooks' });
    const text = JSON.stringify(doc);
    expect(text).toContain('"$ref":"#/components/schemas/CatalogSynced/$defs/');
    const validate = openApiValidator(doc)(pointerTo('webhooks', 'catalog.synced', 'post', 'requestBody', 'content', 'application/json', 'schema'));
    const delivery = (child: unknown) => ({
      event: 'catalog.synced',
      timestamp: NOW.toISOString(),
      data: { storeId: 's', root: { name: 'all', children: [{ name: 'shoes', children: [child] }] } },
    });
    expect(validate(delivery({ name: 'trail', children: [] }))).toBe(true);
    expect(validate(delivery({ name: 42, children: [] }))).toBe(false); // checked three levels down, through the recursion
  });
});
