import { describe, expect, it } from 'vitest';
import { createDelivery, createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';
import { runDemo } from '../../examples/demo.js';
import { listeningUrl, loggedData, runExample } from '../helpers/example-process.js';

// Every example is run as a user runs it: `tsx examples/<file>` in its own process, against the
// built package, with PORT=0 so it picks a free port and prints its URL.

const secret = 'example-secret';
const STACK_LINE = /^\s+at /m;

describe.each(['express-server.ts', 'connect-server.ts', 'node-http-server.ts', 'hono-server.ts', 'fastify-server.ts', 'koa-server.ts', 'nestjs-server.ts'])('examples/%s', (file) => {
  it('gets a signed delivery to its handler, answers 200, and rejects a forged one with a one-line log', async () => {
    const example = runExample(file, { PORT: '0', AICOMMERCE_WEBHOOK_SECRET: secret });
    try {
      const url = await listeningUrl(example);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/aicommerce$/);
      const aicommerce = createTestSender({ retries: 0 });
      await aicommerce.webhooks.create({ url, events: ['product.added'], secret });

      const [report] = await aicommerce.send('product.added', sampleEvents['product.added']);
      expect(report?.attempts.map((a) => [a.status, a.response])).toEqual([[200, { received: true }]]);
      await expect.poll(() => loggedData(example.output.stdout, 'product.added')).toEqual(sampleEvents['product.added']);

      const forged = createDelivery('product.added', sampleEvents['product.added'], { secret: 'guessed' });
      const rejected = await aicommerce.deliver(url, forged);
      expect(rejected.attempts.map((a) => a.status)).toEqual([401]);
      await expect.poll(() => example.output.stdout).toContain('rejected 401 invalid_signature: Invalid signature');
      expect(example.output.stdout.match(/^product\.added /gm)).toHaveLength(1); // the forged one reached no handler
    } finally {
      await example.stop();
    }
    expect(example.output.stderr).toBe('');
  });
});

describe('the demo (npm run demo)', () => {
  it('runs every kind of delivery, prints the table and exits 0', async () => {
    const demo = runExample('demo.ts');
    const code = await demo.exited;
    const { stdout, stderr } = demo.output;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = stdout.split('\n').filter((line) => /^[✓✗] /.test(line));
    expect(rows).toHaveLength(13);
    expect(rows.every((row) => row.startsWith('✓'))).toBe(true);
    for (const event of Object.keys(sampleEvents)) expect(stdout).toMatch(new RegExp(`✓  valid +${event.replace('.', '\\.')} +200 +200 received`));
    expect(stdout).toMatch(/✓  forged \(wrong secret\) +chat\.message\.received +401 ×4 +401 invalid_signature +nothing/);
    expect(stdout).toMatch(/✓  tampered \(1 byte\) +product\.added +401 ×4 +401 invalid_signature +nothing/);
    expect(stdout).toMatch(/✓  stale \(10 min old\) +chat\.message\.received +401 ×4 +401 stale_timestamp +nothing/);
    expect(stdout).toMatch(/✓  handler fails once +product\.updated +500 → 200 +200 received +2 runs: Nike Air Max at 89 USD/);
    expect(stdout).toMatch(/✓  duplicate of the above +product\.updated +200 +200 duplicate +nothing \(already processed\)/);
    expect(stdout).toContain('"Looking for running shoes" with 1 product');
    expect(stdout).toMatch(/13\/13 outcomes as expected/);
    expect(stdout).toMatch(/✓  older snapshot, late +product\.updated +200 +200 superseded +nothing \(a newer one was applied\)/);
    expect(stdout).not.toMatch(STACK_LINE);
  });

  it('exits 1 and marks the row when an outcome is not the expected one (timestamps unchecked: the stale replay gets in)', async () => {
    let printed = '';
    const code = await runDemo({ tolerance: false, write: (text) => void (printed += text) });
    expect(code).toBe(1);
    expect(printed).toMatch(/✗  stale \(10 min old\) +chat\.message\.received +200 +200 received +"Looking for running shoes"/);
    expect(printed.match(/^✓ /gm)).toHaveLength(12);
    expect(printed).toMatch(/12\/13 outcomes as expected .*: see the rows marked ✗/);
  });
});
