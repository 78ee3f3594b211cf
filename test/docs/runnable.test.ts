import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { runCommand, type Running } from '../helpers/example-process.js';
import { freePort } from '../helpers/http.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis.js';
import { blocksOf, root, samplesDir, writeTypeScriptBlocks } from './samples.js';

// The site's samples that make a running program, run as its readers would run them: the quick
// start with node, the two processes of queued mode with tsx, each as its own process on the built
// package. (The testing page's sample is itself a test file: testing-page.test.ts.)

const secret = 'docs-sample-secret';
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const delivery = (data = sampleEvents['chat.message.received']) => createDelivery('chat.message.received', data, { secret });

/** The first `lang` block after a heading of the page. */
function blockUnder(page: string, heading: string, lang: string): string {
  const text = readFileSync(path.join(root, page), 'utf8');
  const code = new RegExp(`\\n#+ ${heading}\\n[\\s\\S]*?\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1];
  if (code === undefined) throw new Error(`no ${lang} block under "${heading}" in ${page}`);
  return code;
}

/** Until something answers HTTP at `url` (any status); a process that exits first fails it. vi.waitFor: hooks call this. */
async function answering(url: string, running: Running, timeout = 15_000): Promise<void> {
  let ended = false;
  void running.exited.then(() => (ended = true));
  await vi.waitFor(
    async () => {
      if (ended) return; // checked below, once, rather than waited on
      await fetch(url, { method: 'HEAD' });
    },
    { timeout, interval: 50 },
  );
  if (ended) throw new Error(`the process exited before answering at ${url}:\n${running.output.stderr}`);
}

describe('the quick start (getting started)', () => {
  let app: Running;
  let url: string;

  beforeAll(async () => {
    const file = path.join(samplesDir, 'quick-start', 'server.mjs');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, blockUnder('docs/getting-started.md', 'Quick start', 'js'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}/webhooks/aicommerce`;
    app = runCommand(process.execPath, [file], { PORT: String(port), AICOMMERCE_WEBHOOK_SECRET: secret });
    await answering(url, app);
  });
  afterAll(async () => app?.stop());

  it('is the README quick start, word for word', () => {
    expect(blockUnder('README.md', 'Quick start', 'js')).toBe(blockUnder('docs/getting-started.md', 'Quick start', 'js'));
  });

  it('logs a signed delivery and answers 200; a forged one is 401 and not logged', async () => {
    const { body, headers } = delivery();
    const res = await fetch(url, { method: 'POST', body, headers });
    expect([res.status, await res.json()]).toEqual([200, { received: true }]);
    await expect.poll(() => app.output.stdout).toContain('sess_abc123: Looking for running shoes');

    const forged = createDelivery('chat.message.received', { ...sampleEvents['chat.message.received'], message: 'forged' }, { secret: 'wrong' });
    const rejected = await fetch(url, { method: 'POST', body: forged.body, headers: forged.headers });
    expect(rejected.status).toBe(401);
    expect(app.output.stdout).not.toContain('forged');
  });
});

describeRedis('queued, in two processes (inline or queued)', () => {
  let redis: RedisServer;
  let receiver: Running;
  let worker: Running;
  let url: string;

  beforeAll(async () => {
    writeTypeScriptBlocks();
    const dir = path.join(samplesDir, 'queued');
    for (const file of ['webhooks.ts', 'receiver.ts', 'worker.ts']) expect(readFileSync(path.join(dir, file), 'utf8')).not.toBe('');
    redis = await startRedisServer(); // a server of its own: the sample uses the default queue name
    const env = { AICOMMERCE_WEBHOOK_SECRET: secret, REDIS_URL: redis.url };
    const port = await freePort();
    url = `http://127.0.0.1:${port}/webhooks/aicommerce`;
    receiver = runCommand(tsx, [path.join(dir, 'receiver.ts')], { ...env, PORT: String(port) });
    worker = runCommand(tsx, [path.join(dir, 'worker.ts')], env);
    await answering(url, receiver, 30_000);
  });
  afterAll(async () => {
    await receiver?.stop();
    await worker?.stop();
    await redis?.stop();
  });

  it('answers 202 queued; the worker process runs the typed handler, the receiver process none', async () => {
    const { body, headers } = delivery();
    const res = await fetch(url, { method: 'POST', body, headers });
    expect([res.status, await res.json()]).toEqual([202, { received: true, queued: true }]);
    await expect.poll(() => worker.output.stdout, { timeout: 20_000 }).toMatch(/message [0-9a-f]{64} attempt 1: Looking for running shoes/);
    expect(receiver.output.stdout).not.toContain('message ');
  });

  it('SIGTERM: both processes stop by themselves, exit 0, nothing on stderr but the 405 of the start-up probe', async () => {
    receiver.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await Promise.all([receiver.exited, worker.exited])).toEqual([0, 0]);
    // answering()'s HEAD request is answered 405, which the sample's onError prints.
    const stderr = (receiver.output.stderr + worker.output.stderr).split('\n').filter((line: string) => line !== '');
    expect(stderr.filter((line: string) => !line.startsWith('webhook 405 method_not_allowed'))).toEqual([]);
  });
});

it('each page with a runnable sample says how to run it', () => {
  expect(blocksOf('getting-started.md').some((b) => b.lang === 'js')).toBe(true);
  expect(readFileSync(path.join(root, 'docs/getting-started.md'), 'utf8')).toContain('node server.mjs');
  expect(readFileSync(path.join(root, 'docs/queued.md'), 'utf8')).toContain('npx tsx receiver.ts');
  expect(readFileSync(path.join(root, 'docs/testing.md'), 'utf8')).toContain('npx vitest run');
});
