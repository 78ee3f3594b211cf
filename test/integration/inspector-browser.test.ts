import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumAvailable, chromiumPath, describeChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, type EventName, type Inspector } from 'aicommerce-webhooks';
import { createDelivery, createTestSender, sampleEvents } from 'aicommerce-webhooks/testing';
import { listen } from '../helpers/http.js';

// The inspector page in a real headless Chromium (Debian's), against an Express app that mounts
// the receiver and the inspector the way the docs say, on 127.0.0.1.

// The browser globals the functions given to page.evaluate use (the project compiles without the DOM library).
declare const document: { querySelector(selectors: string): { dataset: Record<string, string | undefined> } | null; readonly scripts: { readonly length: number } };
declare const navigator: { clipboard: { readText(): Promise<string> } };

const secret = 'whsec_inspector_browser_0b7d4c';
const root = fileURLToPath(new URL('../../', import.meta.url));
const outputDir = `${root}test-output`;
const eventNames = Object.keys(sampleEvents) as EventName[];

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

let browser: Browser;
let context: BrowserContext;
let page: Page;
let origin: string;
let close: () => Promise<void>;
let inspector: Inspector;
const dialogs: string[] = [];
const pageErrors: string[] = [];
/** Every handler run: event name, data, context id and timestamp. */
const runs: { event: string; data: unknown; id: string; timestamp: string; action: unknown }[] = [];

const webhookUrl = (): string => `${origin}/webhooks/aicommerce`;
const sender = createTestSender({ retries: 0 });
const data = sampleEvents['chat.message.received'];
/** The seq of deliveries later tests come back to. */
const seqs: Record<string, number> = {};

beforeAll(async () => {
  if (!chromiumAvailable) return; // said loudly by helpers/chromium.ts
  const webhooks = createWebhookReceiver({ secret });
  webhooks.onAny((event, ctx) => void runs.push({ event: event.event, data: event.data, id: ctx.id, timestamp: event.timestamp, action: ctx.headers['x-inspector-action'] }));
  webhooks.on('chat.message.received', async function failWhenAsked(event) {
    if (event.data.message === 'fail please') throw new Error('the CRM is down');
  });
  webhooks.onError(() => {}); // the 500s below are expected
  inspector = webhooks.inspector();
  const app = express();
  app.use('/webhooks/inspector', inspector);
  app.use('/webhooks/aicommerce', webhooks.middleware());
  ({ origin, close } = await listen(http.createServer(app)));
  await sender.webhooks.create({ url: webhookUrl(), events: [...eventNames], secret });

  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && pageErrors.push(message.text()))); // a CSP violation is one
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${origin}/webhooks/inspector`);
  await page.locator('#live.live').waitFor({ timeout: 5000 });
  // One delivery first, untimed: the first one also pays for compiling the code it runs, in the
  // server and in the page, which on a busy machine (the whole suite at once) can take a second.
  await sender.send('product.added', sampleEvents['product.added']);
  await page.locator('#list tbody tr').first().waitFor({ timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  inspector?.close();
  await close?.();
});

/** The newest row's seq on the page (0 when none). */
const topSeq = (): Promise<number> => page.evaluate(() => Number(document.querySelector('#list tbody tr')?.dataset['seq'] ?? 0));

/**
 * Runs `send`, then waits at most `ms` for a newer row; resolves with that row's cells and how
 * long the row took to show after the answer (the inspector's part: the send's own time is the
 * receiver's, and on a shared machine the first one includes its warm-up).
 */
async function rowAfter(send: () => Promise<unknown>) {
  const before = await topSeq();
  await send();
  const started = performance.now();
  // Waited for longer than the second the rows are held to (below), so that a slow one fails there, with its time.
  await page.waitForFunction((seq) => Number(document.querySelector('#list tbody tr')?.dataset['seq'] ?? 0) > seq, before, { timeout: 10_000 });
  const elapsed = performance.now() - started;
  const row = page.locator('#list tbody tr').first();
  return {
    elapsed,
    seq: Number(await row.getAttribute('data-seq')),
    status: Number(await row.getAttribute('data-status')),
    event: (await row.locator('.event').textContent()) ?? '',
    code: (await row.locator('.code').textContent()) ?? '',
    reason: (await row.locator('.reason').textContent()) ?? '',
  };
}

async function open(seq: number | undefined): Promise<void> {
  if (seq === undefined) throw new Error('that delivery was never listed (see the first test)');
  await page.locator(`#list tbody tr[data-seq="${seq}"]`).click();
  await page.locator('#detail h2').filter({ hasText: `#${seq} ` }).waitFor();
}

describeChromium('the inspector page', () => {
  it('shows a valid, a forged, a stale and an invalid delivery within a second each, with status and reason', async () => {
    const valid = await rowAfter(() => sender.send('chat.message.received', data));
    expect(valid).toMatchObject({ status: 200, code: 'handled', reason: 'verified, valid and fresh; 2 handlers ran' });
    expect(valid.event).toBe('chat.message.received');
    seqs['valid'] = valid.seq;

    const forged = await rowAfter(() => sender.deliver(webhookUrl(), createDelivery('chat.message.received', data, { secret: 'not-the-secret' })));
    expect(forged).toMatchObject({ status: 401, code: 'invalid_signature', reason: 'signed with another secret, or the body was changed after signing' });

    const stale = await rowAfter(() => sender.send('chat.message.received', data, { timestamp: new Date(Date.now() - 10 * 60_000) }));
    expect(stale).toMatchObject({ status: 401, code: 'stale_timestamp', reason: 'timestamp 10 min old (tolerance 5 min)' });

    const invalid = await rowAfter(() => sender.send('product.added', { storeId: 'store_xyz', product: { name: 'No id' } } as never));
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_payload' });
    expect(invalid.reason).toMatch(/^field data\.product\.id: /);
    seqs['invalid'] = invalid.seq;

    expect([valid, forged, stale, invalid].map((row) => row.elapsed).filter((ms) => ms >= 1000)).toEqual([]);
  });

  it('shows why in the detail, each handler with its error, and a delivery refused before its body', async () => {
    const failed = await rowAfter(() => sender.send('chat.message.received', { ...data, message: 'fail please' }));
    expect(failed).toMatchObject({ status: 500, code: 'handler_failed', reason: 'handler failWhenAsked (chat.message.received#1) threw: the CRM is down' });
    await open(failed.seq);
    const handlerRows = page.locator('#handlers tr');
    await expect.poll(() => handlerRows.count()).toBe(2);
    expect(await page.locator('#handlers tr[data-ok="false"]').textContent()).toContain('the CRM is down');
    expect(await page.locator('#handlers tr[data-ok="true"]').textContent()).toContain('*#1');

    const refused = await rowAfter(() => fetch(webhookUrl(), { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } }));
    expect(refused).toMatchObject({ status: 405, reason: 'method PUT: webhooks are delivered with POST' });
    await open(refused.seq);
    expect(await page.locator('#detail').textContent()).toContain('Never read: the delivery was refused before its body.');
  });

  it('replays a delivery as a fresh one, and its handler runs again', async () => {
    const before = runs.filter((run) => run.event === 'chat.message.received').length;
    const original = runs.find((run) => run.event === 'chat.message.received')!;
    await open(seqs['valid']);
    expect(await page.locator('#replay-rules').textContent()).toMatch(/SHA-256 of its body \(dedupe\).*more than 5 min from now \(freshness\)/);
    const replayed = await rowAfter(() => page.locator('#replay').click());
    expect(replayed).toMatchObject({ status: 200, code: 'handled' });
    expect(replayed.event).toContain(`replay of #${seqs['valid']}`);
    const after = runs.filter((run) => run.event === 'chat.message.received');
    expect(after.length).toBe(before + 1);
    const replay = after.at(-1)!;
    expect(replay.data).toEqual(original.data);
    expect(replay.id).not.toBe(original.id); // a fresh delivery: its own id, so dedupe lets it through
    expect(replay.timestamp).not.toBe(original.timestamp);
    expect(replay.action).toMatch(/^replay of #\d+; ref=\d+$/);
  });

  it('sends a signed sample of every event', async () => {
    for (const name of eventNames) {
      const count = runs.filter((run) => run.event === name).length;
      await page.locator('#sample-event').selectOption(name);
      const row = await rowAfter(() => page.locator('#send-sample').click());
      expect(row, name).toMatchObject({ status: 200, code: 'handled' });
      expect(row.event).toBe(`${name}sample`); // the event, then its tag
      expect(runs.filter((run) => run.event === name).length, name).toBe(count + 1);
      expect(runs.at(-1)!.data).toEqual(sampleEvents[name]);
    }
  });

  it('sends it wrong four ways, each answered as it should be', async () => {
    const expected = { forged: [401, 'invalid_signature'], tampered: [401, 'invalid_signature'], stale: [401, 'stale_timestamp'], invalid: [400, 'invalid_payload'] } as const;
    for (const [kind, [status, code]] of Object.entries(expected)) {
      await page.locator('#wrong-kind').selectOption(kind);
      await page.locator('#wrong-event').selectOption('product.updated');
      const row = await rowAfter(() => page.locator('#send-wrong').click());
      expect(row, kind).toMatchObject({ status, code });
      expect(row.event).toContain('product.updated');
      expect(row.event).toContain(kind);
    }
    expect(await page.locator('#action-result').textContent()).toMatch(/^invalid product\.updated → 400 invalid_payload \(#\d+\)$/);
  });

  it('saves a delivery as a fixture that createDelivery tests accept, and its test snippet passes', async () => {
    await open(seqs['valid']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#fixture').click()]);
    const fileName = download.suggestedFilename();
    expect(fileName).toMatch(/^chat\.message\.received-[0-9a-f]{8}\.json$/);
    const fixture = JSON.parse(await readFile((await download.path())!, 'utf8')) as { event: string; data: unknown; timestamp: string };
    expect(fixture.event).toBe('chat.message.received');
    expect(fixture.data).toEqual(data);

    // A test of the user's: createDelivery with the fixture, through a receiver of its own.
    const receiver = createWebhookReceiver({ secret: 'whsec_tests' });
    const got: unknown[] = [];
    receiver.on('chat.message.received', (event) => void got.push(event.data));
    const { body, headers } = createDelivery(fixture.event, fixture.data, { secret: 'whsec_tests' });
    await expect(receiver.receive({ body, signature: headers['x-webhook-signature'] })).resolves.toMatchObject({ outcome: 'handled' });
    expect(got).toEqual([data]);

    // The copied snippet, run as written next to the fixture (its vitest import swapped for a
    // stand-in that collects the test, since this runs inside a test already).
    await page.locator('#copy-snippet').click();
    await expect.poll(() => page.locator('#copy-snippet').textContent()).toBe('Copied');
    const snippet = await page.evaluate(() => navigator.clipboard.readText());
    expect(snippet).toContain(`./${fileName}`);
    const dir = `${root}test/.generated/inspector-snippet`;
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/${fileName}`, await readFile((await download.path())!, 'utf8'));
    await writeFile(`${dir}/shim.ts`, "export { expect } from 'vitest';\nexport const tests: (() => Promise<void>)[] = [];\nexport const test = (_name: string, fn: () => Promise<void>) => void tests.push(fn);\n");
    await writeFile(
      `${dir}/webhooks.ts`,
      "import { createWebhookReceiver } from 'aicommerce-webhooks';\nexport const handled: unknown[] = [];\nexport const webhooks = createWebhookReceiver();\nwebhooks.on('chat.message.received', (event) => void handled.push(event.data));\n",
    );
    expect(snippet).toContain("import { expect, test } from 'vitest';");
    await writeFile(`${dir}/snippet.ts`, snippet.replace("from 'vitest'", "from './shim.js'")); // not *.test.ts: the suite would run it
    const previous = process.env['AICOMMERCE_WEBHOOK_SECRET'];
    process.env['AICOMMERCE_WEBHOOK_SECRET'] = 'whsec_snippet';
    try {
      const { handled } = (await import(`${dir}/webhooks.ts`)) as { handled: unknown[] };
      await import(`${dir}/snippet.ts`);
      const { tests } = (await import(`${dir}/shim.ts`)) as { tests: (() => Promise<void>)[] };
      expect(tests).toHaveLength(1);
      await tests[0]!();
      expect(handled).toEqual([data]);
    } finally {
      if (previous === undefined) delete process.env['AICOMMERCE_WEBHOOK_SECRET'];
      else process.env['AICOMMERCE_WEBHOOK_SECRET'] = previous;
    }
  });

  it('takes a screenshot for the docs (before the hostile deliveries below)', async () => {
    await open(seqs['invalid']);
    await page.locator('#list-pane').evaluate((pane) => void (pane.scrollTop = 0));
    await page.mouse.move(0, 0); // no row under the pointer
    await mkdir(outputDir, { recursive: true });
    await page.screenshot({ path: `${outputDir}/inspector.png` });
  });

  it('renders a body with <script> as text, and opens no dialog', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">';
    const row = await rowAfter(() => sender.send('chat.message.received', { ...data, message: hostile }));
    expect(row.status).toBe(200);
    await open(row.seq);
    expect(await page.locator('#body').textContent()).toContain(`"message": ${JSON.stringify(hostile)}`);
    // An unknown event whose very name is markup: the list shows it as text.
    const named = await rowAfter(() => sender.deliver(webhookUrl(), createDelivery(hostile, {}, { secret })));
    expect(named).toMatchObject({ status: 200, code: 'ignored' });
    expect(named.event).toBe(hostile);
    await open(named.seq);
    // Not JSON at all: shown raw.
    const raw = await rowAfter(() =>
      fetch(webhookUrl(), { method: 'POST', body: hostile, headers: { 'content-type': 'application/json', 'x-webhook-signature': signPayload(hostile, secret) } }),
    );
    expect(raw).toMatchObject({ status: 400, code: 'invalid_json' });
    await open(raw.seq);
    expect(await page.locator('#body').textContent()).toBe(hostile);
    await page.waitForTimeout(200);
    expect(dialogs).toEqual([]);
    expect(await page.locator('img, #detail script, #list script').count()).toBe(0);
    expect(await page.evaluate(() => document.scripts.length)).toBe(1);
  });

  it('never sends the secret to the page, and answers with a strict Content-Security-Policy', async () => {
    const response = await page.request.get(`${origin}/webhooks/inspector/`);
    const csp = response.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    const texts = [await response.text(), await (await page.request.get(`${origin}/webhooks/inspector/api/deliveries`)).text()];
    const last = await topSeq();
    for (let seq = 1; seq <= last; seq++) texts.push(await (await page.request.get(`${origin}/webhooks/inspector/api/deliveries/${seq}`)).text());
    expect(texts).toHaveLength(last + 2);
    for (const text of texts) expect(text).not.toContain(secret);
  });

  it('says so in its header when it runs under NODE_ENV=production (allowInProduction)', async () => {
    const previous = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    let server;
    try {
      const webhooks = createWebhookReceiver({ secret });
      expect(() => webhooks.inspector()).toThrow(/NODE_ENV=production/);
      server = await listen(http.createServer(express().use('/inspector', webhooks.inspector({ allowInProduction: true }))));
    } finally {
      if (previous === undefined) delete process.env['NODE_ENV'];
      else process.env['NODE_ENV'] = previous;
    }
    const other = await context.newPage();
    try {
      await other.goto(`${server.origin}/inspector/`);
      await other.locator('#production').waitFor({ state: 'visible', timeout: 5000 });
      expect(await other.locator('#production').textContent()).toContain('allowInProduction: true');
      expect(await page.locator('#production').isVisible()).toBe(false);
    } finally {
      await other.close();
      await server.close();
    }
  });

  it('raised no script error and no Content-Security-Policy violation', () => {
    expect(pageErrors).toEqual([]);
  });

});
