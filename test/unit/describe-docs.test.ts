import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { schemaDocument } from '../../src/cli/schema.js';

// docs/openapi.json and docs/events.schema.json are generated (`npm run docs`) and checked in:
// they must be what the code generates today, and the same contract a default receiver describes.

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('docs/', () => {
  it.each([
    ['docs/openapi.json', 'openapi'],
    ['docs/events.schema.json', 'json-schema'],
  ] as const)('%s is current (when this fails, run `npm run docs` and commit the result)', (file, format) => {
    const current = read(file) === schemaDocument(format);
    expect(current, `${file} is stale: run \`npm run docs\``).toBe(true);
  });

  it('`npm run docs` builds, then writes both files with the CLI', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts['docs']).toBe(
      'npm run build && node dist/cli.js schema --out docs/openapi.json && node dist/cli.js schema --format json-schema --out docs/events.schema.json',
    );
  });

  it("openapi.json is the document of a receiver with the default options; events.schema.json holds each event's toJSONSchema()", () => {
    const webhooks = createWebhookReceiver({ secret: 'docs-secret' });
    expect(JSON.parse(read('docs/openapi.json'))).toEqual(webhooks.toOpenAPI());
    const events = JSON.parse(read('docs/events.schema.json')) as { oneOf: { $ref: string }[]; $defs: Record<string, unknown> };
    const perEvent = Object.values(webhooks.toJSONSchema()).map((schema) => {
      const { $schema: _, ...rest } = schema as Record<string, unknown>;
      return rest;
    });
    expect(Object.values(events.$defs)).toEqual(perEvent);
    expect(events.oneOf).toEqual(Object.keys(events.$defs).map((name) => ({ $ref: `#/$defs/${name}` })));
  });
});
