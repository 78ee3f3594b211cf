import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWebhookReceiver, eventSchemas, type OpenAPIOperation, type ReceiverOptions } from 'aicommerce-webhooks';
import { root } from '../helpers/paths.js';

// webhooks.toOpenAPI() linted by Redocly (its CLI, as a child process), the checked-in document
// and a receiver's own ones.

const secret = 'openapi-secret';
const document = createWebhookReceiver({ secret }).toOpenAPI();

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
