import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createWebhookReceiver,
  eventSchemas,
  signPayload,
  STATUS_BY_CODE,
  type OpenAPIDocument,
  type OpenAPIOperation,
  type ReceiverOptions,
  type WebhookErrorCode,
} from 'aicommerce-webhooks';
import { sampleEvents } from 'aicommerce-webhooks/testing';
import { listen } from './helpers/listen.js';
import { createAjv, openApiValidator, pointerTo } from './helpers/json-schema.js';

// webhooks.toOpenAPI(): one webhook per event with the signature header, the body and the answers
// of the status table. Linted by Redocly, and checked against what a running receiver answers.

const root = fileURLToPath(new URL('../', import.meta.url));
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
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
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

  it('leaves out the answers a receiver cannot give: no dedupe, no tolerance', () => {
    const op = operation(createWebhookReceiver({ secret, dedupe: false, tolerance: false }).toOpenAPI(), 'product.added');
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

describe('Redocly lints the document (recommended rules, warnings as errors; redocly.yaml says which two are off and why)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aicommerce-openapi-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function lint(file: string): { status: number | null; totals: { errors: number; warnings: number }; problems: { ruleId: string }[] } {
    const result = spawnSync(process.execPath, ['node_modules/@redocly/cli/bin/cli.js', 'lint', '--config', 'redocly.yaml', '--format', 'json', file], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      timeout: 60_000,
    });
    const report = JSON.parse(result.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string }[] };
    return { status: result.status, ...report };
  }
  const write = (name: string, doc: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(doc, null, 2));
    return file;
  };

  it('docs/openapi.json: no error, no warning', () => {
    expect(lint('docs/openapi.json')).toMatchObject({ status: 0, totals: { errors: 0, warnings: 0 } });
  });

  it("a receiver's own document, with a path and custom events, under both unknownEvents settings and in queued mode", () => {
    const schemas = {
      'chat.message.received': eventSchemas['chat.message.received'].extend({ locale: z.string() }),
      'order.refunded': z.object({ orderId: z.string(), amount: z.number().default(0) }),
    };
    for (const unknownEvents of ['ignore', 'reject'] as const) {
      const doc = createWebhookReceiver({ secret, schemas, unknownEvents, path: '/webhooks/aicommerce' }).toOpenAPI({ title: 'Shop', version: '3.0.0' });
      expect(lint(write(`${unknownEvents}.json`, doc))).toMatchObject({ status: 0, totals: { errors: 0, warnings: 0 } });
    }
    const queue: ReceiverOptions['queue'] = { enqueue: () => Promise.resolve('queued') };
    const queued = createWebhookReceiver({ secret, schemas, queue, path: '/webhooks/aicommerce' }).toOpenAPI();
    expect(lint(write('queued.json', queued))).toMatchObject({ status: 0, totals: { errors: 0, warnings: 0 } });
  });

  it('fails a document that breaks a rule (so the lint above is really run)', () => {
    const broken = structuredClone(document) as unknown as { webhooks: Record<string, { post: Record<string, unknown> }> };
    delete broken.webhooks['product.added']!.post['summary'];
    const example = (broken.webhooks['chat.message.received']!.post as unknown as OpenAPIOperation).requestBody.content['application/json']!
      .examples!['documented']!.value as { data: { sessionId: unknown } };
    example.data.sessionId = 42; // an example its own schema rejects
    const result = lint(write('broken.json', broken));
    expect(result.status).not.toBe(0);
    expect(result.problems.map((p) => p.ruleId).sort()).toEqual(['no-invalid-media-type-examples', 'operation-summary']);
  });
});

describe('the documented answers are the answers a running receiver gives (real HTTP, Ajv on every body)', () => {
  const options: ReceiverOptions = { secret, limit: '2kb', bodyTimeout: 150, now: () => NOW };
  const receiver = createWebhookReceiver(options);
  const brokenStore = createWebhookReceiver({
    ...options,
    dedupe: { claim: () => Promise.reject(new Error('ECONNREFUSED')) },
  });
  let started!: () => void;
  const handlerStarted = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  receiver.on('chat.session.created', () => {
    started();
    return new Promise<void>((resolve) => (release = resolve));
  });
  receiver.on('product.added', () => {
    throw new Error('database down');
  });
  receiver.onError(() => {}); // the expected 4xx/5xx stay quiet
  brokenStore.onError(() => {});

  const servers: { origin: string; close: () => Promise<void> }[] = [];
  beforeAll(async () => {
    servers.push(await listen(http.createServer(receiver.middleware())), await listen(http.createServer(brokenStore.middleware())));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  const doc = receiver.toOpenAPI();
  const schemaAt = openApiValidator(doc);
  const seen = new Map<number, Set<string>>();

  /** Checks an answer against the documented response of its status, for a delivery of `event`. */
  async function expectDocumented(response: Response, event = 'chat.message.received'): Promise<void> {
    const status = String(response.status);
    const documented = doc.webhooks[event]!.post.responses[status];
    expect(documented, `status ${status} is documented`).toBeDefined();
    const json = (await response.json()) as { code?: string };
    const validate = schemaAt(pointerTo('webhooks', event, 'post', 'responses', status, 'content', 'application/json', 'schema'));
    expect(validate(json), JSON.stringify({ json, errors: validate.errors })).toBe(true);
    for (const [name, header] of Object.entries(documented!.headers ?? {})) {
      if (header.required) expect(response.headers.get(name), name).not.toBeNull();
    }
    if (!seen.has(response.status)) seen.set(response.status, new Set());
    seen.get(response.status)!.add(json.code ?? 'received');
  }

  const delivery = (event: string, data: unknown, timestamp = NOW.toISOString()): string => JSON.stringify({ event, timestamp, data });
  const post = (body: string, { origin = servers[0]!.origin, signature = signPayload(body, secret), type = 'application/json' } = {}) =>
    fetch(origin, { method: 'POST', headers: { 'content-type': type, 'x-webhook-signature': signature }, body });

  it('200 handled and duplicate; 400 invalid_json and invalid_payload; 401 invalid_signature and stale_timestamp', async () => {
    const body = delivery('chat.message.received', sampleEvents['chat.message.received']);
    await expectDocumented(await post(body));
    await expectDocumented(await post(body));
    await expectDocumented(await post('{not json'));
    await expectDocumented(await post(delivery('chat.message.received', { storeId: '' })));
    await expectDocumented(await post(body, { signature: signPayload(body, 'wrong') }));
    await expectDocumented(await post(delivery('chat.message.received', sampleEvents['chat.message.received'], '2026-11-26T10:00:00.000Z')));
  });

  it('405 with Allow, 413, 415', async () => {
    await expectDocumented(await fetch(servers[0]!.origin));
    await expectDocumented(await post(delivery('chat.message.received', { ...sampleEvents['chat.message.received'], message: 'x'.repeat(4096) })));
    await expectDocumented(await post(delivery('chat.message.received', sampleEvents['chat.message.received']), { type: 'text/plain' }));
  });

  it('408 for a body that never finishes', async () => {
    const { port } = new URL(servers[0]!.origin);
    const response = await new Promise<Response>((resolve, reject) => {
      const request = http.request({ port, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 100 } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers: res.headers as Record<string, string> })));
      });
      request.on('error', reject);
      request.write('{"event":');
    });
    await expectDocumented(response);
  });

  it('409 in_flight while the same delivery runs, 500 handler_failed, 503 store_unavailable with Retry-After', async () => {
    const body = delivery('chat.session.created', sampleEvents['chat.session.created']);
    const first = post(body);
    await handlerStarted; // the first request holds the claim
    await expectDocumented(await post(body), 'chat.session.created');
    release();
    await expectDocumented(await first, 'chat.session.created');
    await expectDocumented(await post(delivery('product.added', sampleEvents['product.added'])), 'product.added');
    await expectDocumented(await post(delivery('product.viewed', sampleEvents['product.viewed']), { origin: servers[1]!.origin }), 'product.viewed');
  });

  it('queued mode: 202 queued, 200 duplicate, 503 queue_unavailable with Retry-After', async () => {
    const stored = new Set<string>();
    const queued = createWebhookReceiver({
      ...options,
      queue: { enqueue: (delivery) => Promise.resolve(stored.has(delivery.id) ? 'duplicate' : (stored.add(delivery.id), 'queued')) },
    });
    const unreachable = createWebhookReceiver({ ...options, queue: { enqueue: () => Promise.reject(new Error('ECONNREFUSED')) } });
    unreachable.onError(() => {});
    const queuedDoc = queued.toOpenAPI();
    const queuedSchemaAt = openApiValidator(queuedDoc);
    const answered: string[] = [];
    for (const [receiverOfCase, body] of [
      [queued, delivery('product.added', sampleEvents['product.added'])],
      [queued, delivery('product.added', sampleEvents['product.added'])],
      [unreachable, delivery('product.added', sampleEvents['product.added'])],
    ] as const) {
      const server = await listen(http.createServer(receiverOfCase.middleware()));
      try {
        const response = await post(body, { origin: server.origin });
        const status = String(response.status);
        const json = (await response.json()) as { code?: string; queued?: boolean; duplicate?: boolean };
        const documented = queuedDoc.webhooks['product.added']!.post.responses[status];
        expect(documented, `status ${status} is documented`).toBeDefined();
        const validate = queuedSchemaAt(pointerTo('webhooks', 'product.added', 'post', 'responses', status, 'content', 'application/json', 'schema'));
        expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
        if (status === '503') expect(response.headers.get('retry-after')).not.toBeNull();
        answered.push(`${status} ${json.code ?? (json.queued ? 'queued' : json.duplicate ? 'duplicate' : 'received')}`);
      } finally {
        await server.close();
      }
    }
    expect(answered).toEqual(['202 queued', '200 duplicate', '503 queue_unavailable']);
  });

  it('between them, the answers above cover every documented status', () => {
    const documented = Object.keys(doc.webhooks['chat.message.received']!.post.responses).map(Number);
    expect([...seen.keys()].sort()).toEqual(documented.sort());
    expect(Object.fromEntries([...seen].map(([status, codes]) => [status, [...codes].sort()]))).toEqual({
      200: ['received'],
      400: ['invalid_json', 'invalid_payload'],
      401: ['invalid_signature', 'stale_timestamp'],
      405: ['method_not_allowed'],
      408: ['body_timeout'],
      409: ['in_flight'],
      413: ['payload_too_large'],
      415: ['unsupported_media_type'],
      500: ['handler_failed'],
      503: ['store_unavailable'],
    } satisfies Record<number, (WebhookErrorCode | 'received')[]>);
  });
});
