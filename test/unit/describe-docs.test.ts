import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { schemaDocument } from '../../src/cli/schema.js';
import { cli } from '../helpers/cli.js';
import { readRepoFile } from '../helpers/paths.js';

// docs/openapi.json and docs/events.schema.json are generated (`npm run docs`) and checked in:
// they must be what the code generates today, and the same contract a default receiver describes.

const read = readRepoFile;

describe('docs/', () => {
  it.each([
    ['docs/openapi.json', 'openapi'],
    ['docs/events.schema.json', 'json-schema'],
  ] as const)('%s is current (when this fails, run `npm run docs` and commit the result)', (file, format) => {
    const current = read(file) === schemaDocument(format);
    expect(current, `${file} is stale: run \`npm run docs\``).toBe(true);
  });

  it('`npm run docs` builds first, then its CLI steps write exactly these two files, as they are checked in', async () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const steps = (scripts['docs'] ?? '').split('&&').map((step) => step.trim());
    const runsCli = (step: string): boolean => step.startsWith('node dist/cli.js ');
    expect(steps.indexOf('npm run build')).toBeGreaterThanOrEqual(0);
    expect(steps.findIndex(runsCli)).toBeGreaterThan(steps.indexOf('npm run build')); // the bin it runs is built first
    // Each CLI step, run as it is written but writing to a scratch directory instead of docs/.
    const scratch = mkdtempSync(join(tmpdir(), 'aicommerce-docs-'));
    try {
      const written: Record<string, string> = {};
      for (const step of steps.filter(runsCli)) {
        const argv = step.slice('node dist/cli.js '.length).split(/\s+/);
        const out = argv.indexOf('--out') + 1;
        expect(out, step).toBeGreaterThan(0);
        const target = argv[out]!;
        argv[out] = join(scratch, target.replaceAll('/', '_'));
        expect(await cli(argv), step).toEqual({ code: 0, stdout: '', stderr: '' });
        written[target] = readFileSync(argv[out]!, 'utf8');
      }
      expect(Object.keys(written).sort()).toEqual(['docs/events.schema.json', 'docs/openapi.json']);
      for (const [file, text] of Object.entries(written)) expect(text === read(file), `${file} as npm run docs writes it`).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
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
