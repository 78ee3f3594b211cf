import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { runCommand, type Running } from '../helpers/example-process.js';
import { freePort } from '../helpers/http.js';

// The README's quick start, run as a user would run it: the code block as written, in its own
// process, against the built package.
const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const quickStart = /## Quick start[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
const file = fileURLToPath(new URL('../.generated/quickstart.mjs', import.meta.url));
const secret = 'quick-start-secret';

describe('the README quick start', () => {
  let app: Running;
  let url: string;

  beforeAll(async () => {
    expect(quickStart).toContain("app.use('/webhooks/aicommerce', webhooks.middleware())");
    mkdirSync(fileURLToPath(new URL('../.generated/', import.meta.url)), { recursive: true });
    writeFileSync(file, quickStart!);
    const port = await freePort();
    url = `http://127.0.0.1:${port}/webhooks/aicommerce`;
    app = runCommand(process.execPath, [file], { PORT: String(port), AICOMMERCE_WEBHOOK_SECRET: secret });
    // Something answers HTTP there (any status), or the process ended. A hook: vi.waitFor, not expect.poll.
    await vi.waitFor(
      async () => {
        if (app.child.exitCode === null) await fetch(url, { method: 'HEAD' });
      },
      { timeout: 15_000, interval: 50 },
    );
    if (app.child.exitCode !== null) throw new Error(`the quick start exited with ${app.child.exitCode}:\n${app.output.stderr}`);
  });
  afterAll(async () => app?.stop());

  it('logs a signed delivery and answers 200', async () => {
    const { body, headers } = createDelivery('chat.message.received', sampleEvents['chat.message.received'], { secret });
    const res = await fetch(url, { method: 'POST', body, headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true });
    await expect.poll(() => app.output.stdout).toContain('sess_abc123: Looking for running shoes');
  });

  it('answers a forged delivery 401 without logging it', async () => {
    const { body, headers } = createDelivery('chat.message.received', { ...sampleEvents['chat.message.received'], message: 'forged' }, {
      secret: 'wrong',
    });
    const res = await fetch(url, { method: 'POST', body, headers });
    expect(res.status).toBe(401);
    expect(app.output.stdout).not.toContain('forged');
  });
});
