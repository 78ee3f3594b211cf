import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumPath, describeChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { root } from './samples.js';

// The documentation site as a reader gets it: built with `npm run docs:build`, served as static
// files on 127.0.0.1, and read in a real (headless) Chromium: every page loads without a console
// error or a request leaving the machine, every internal link and anchor leads somewhere, and the
// search finds what an operator looks up. Screenshots go to test/.generated/docs/.


const dist = path.join(root, 'docs', '.vitepress', 'dist');
const shots = path.join(root, 'test', '.generated', 'docs');
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The file a URL path is served from, as a static host serves the build: `/` → index.html. */
function fileFor(urlPath: string): string | undefined {
  const decoded = decodeURIComponent(urlPath);
  const candidates = decoded.endsWith('/') ? [`${decoded}index.html`] : [decoded, `${decoded}.html`];
  for (const candidate of candidates) {
    const file = path.join(dist, path.normalize(candidate));
    if (file.startsWith(dist) && existsSync(file) && statSync(file).isFile()) return file;
  }
  return undefined;
}

function serve(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const file = fileFor(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': types['.html']! }).end(readFileSync(path.join(dist, '404.html')));
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const htmlPages = (): string[] => {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.html') && entry.name !== '404.html') found.push(`/${path.relative(dist, full).split(path.sep).join('/')}`);
    }
  };
  walk(dist);
  return found.sort();
};

const ids = new Map<string, Set<string>>();
/** The element ids of a built page, read from its HTML. */
function idsOf(file: string): Set<string> {
  let found = ids.get(file);
  if (found === undefined) {
    found = new Set([...readFileSync(file, 'utf8').matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')));
    ids.set(file, found);
  }
  return found;
}

describeChromium('the documentation site, in Chromium', () => {
  let server: http.Server;
  let origin: string;
  let browser: Browser;
  let page: Page;
  /** Console errors, page errors and failed or off-machine requests, each with the page it came from. */
  const problems: string[] = [];
  let current = '';

  beforeAll(async () => {
    const started = Date.now();
    await promisify(execFile)('npm', ['run', 'docs:build'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    console.log(`docs:build took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    server = await serve();
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${current}: console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`${current}: page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      // The next navigation aborts the page's prefetches of its links; a missing file is a 404 (below).
      if (request.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`${current}: request failed: ${request.url()} (${request.failure()?.errorText})`);
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.origin !== origin) problems.push(`${current}: a request leaves the machine: ${request.url()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${current}: ${response.status()} for ${response.url()}`);
    });
    mkdirSync(shots, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    // With no server (the build failed) there is nothing to close: never wait for a callback that cannot come.
    const running = server as http.Server | undefined;
    if (running) await new Promise((resolve) => running.close(resolve));
  });

  /** Opens a page and waits for the app to be running in it (hydrated). */
  async function open(urlPath: string): Promise<void> {
    current = urlPath;
    await page.goto(`${origin}${urlPath}`, { waitUntil: 'load' });
    await page.waitForFunction("document.querySelector('#app')?.__vue_app__ !== undefined");
  }

  it('loads every page with no console error, and every internal link and anchor leads somewhere', { timeout: 300_000 }, async () => {
    const pages = htmlPages();
    expect(pages).toEqual(expect.arrayContaining(['/index.html', '/getting-started.html', '/queued.html', '/api/index.html', '/api/aicommerce-webhooks/bullmq.html']));
    const broken: string[] = [];
    let links = 0;
    for (const urlPath of pages) {
      await open(urlPath);
      const hrefs = await page.locator('a[href]').evaluateAll((anchors) => anchors.map((a) => (a as unknown as { href: string }).href));
      for (const href of new Set(hrefs)) {
        const url = new URL(href);
        if (url.origin !== origin) continue;
        links++;
        const file = fileFor(url.pathname);
        if (file === undefined) broken.push(`${urlPath} → ${url.pathname} (no such page)`);
        else if (url.hash !== '' && file.endsWith('.html') && !idsOf(file).has(decodeURIComponent(url.hash.slice(1)))) {
          broken.push(`${urlPath} → ${url.pathname}${url.hash} (no such anchor)`);
        }
      }
    }
    console.log(`${pages.length} pages, ${links} internal links checked`);
    expect(broken).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('serves the contract files the pages link to: a click on openapi.json and events.schema.json opens them', async () => {
    for (const file of ['openapi.json', 'events.schema.json']) {
      await open('/describe.html');
      await Promise.all([page.waitForURL(`${origin}/${file}`), page.click(`.vp-doc a[href$="/${file}"], .vp-doc a[href="./${file}"]`)]);
      const shown = await page.evaluate('document.body.innerText');
      expect(JSON.parse(String(shown))).toEqual(JSON.parse(readFileSync(path.join(root, 'docs', file), 'utf8')));
    }
    expect(problems).toEqual([]);
  });

  it('finds queue_unavailable with the search box, and the result leads to a page that explains it', async () => {
    await open('/index.html');
    await page.click('.VPNavBarSearch button');
    await page.fill('#localsearch-input', 'queue_unavailable');
    const results = page.locator('#localsearch-list .result');
    await expect.poll(() => results.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const targets = await results.evaluateAll((anchors) => anchors.map((a) => new URL((a as unknown as { href: string }).href).pathname));
    expect(targets).toEqual(expect.arrayContaining(['/status-codes.html', '/queued.html']));
    const target = targets[0];
    // A result is a client-side route change: no 'load' event follows, so wait for the route and its text.
    await Promise.all([page.waitForURL((url) => url.pathname === target), results.first().click()]);
    await expect.poll(() => page.textContent('.vp-doc'), { timeout: 10_000 }).toContain('queue_unavailable');
    expect(problems).toEqual([]);
  });

  it('looks as it should: screenshots of the home page and the queued page', async () => {
    await open('/index.html');
    await page.screenshot({ path: path.join(shots, 'home.png') });
    await open('/queued.html');
    await page.screenshot({ path: path.join(shots, 'queued.png') });
    expect(await page.title()).toBe('Inline or queued | aicommerce-webhooks');
    expect(statSync(path.join(shots, 'home.png')).size).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
  });
});
