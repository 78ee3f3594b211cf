import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from 'aicommerce-webhooks';
import { createDelivery, sampleEvents } from 'aicommerce-webhooks/testing';
import { loggedData } from '../helpers/example-process.js';
import { freePort } from '../helpers/http.js';
import { runWrangler, startBun, startDeno, startWorker, type RuntimeServer } from '../helpers/runtimes.js';

// `webhooks.fetchHandler()` in the runtimes themselves: each example (examples/bun, examples/deno,
// examples/cloudflare-worker) runs as its own process on the built package, serving on 127.0.0.1,
// and gets real HTTP requests from here.

const secret = 'runtime-secret';
const LIMIT = 1024 * 1024; // the default `limit`, '1mb'
const product = sampleEvents['product.added'];

describe.each([
  { runtime: 'Bun', start: startBun },
  { runtime: 'Deno', start: startDeno },
  { runtime: 'Cloudflare Workers (workerd, through wrangler dev)', start: startWorker },
])('$runtime: examples served by the runtime', ({ start }) => {
  let server: RuntimeServer;
  const stdout = (): string => server.running.output.stdout;

  beforeAll(async () => {
    server = await start(secret);
  }, 90_000);
  afterAll(async () => {
    await server?.running.stop();
  });

  it('answers a signed delivery 200 after its handler ran, and its copy 200 duplicate', async () => {
    const delivery = createDelivery('product.added', product, { secret });
    const first = await post(server.url, delivery.body, delivery.headers);
    expect([first.status, await first.json()]).toEqual([200, { received: true }]);
    await expect.poll(() => loggedData(stdout(), 'product.added')).toEqual(product);

    const copy = await post(server.url, delivery.body, delivery.headers);
    expect([copy.status, await copy.json()]).toEqual([200, { received: true, duplicate: true }]);
  });

  it('reassembles a signed delivery that streams in chunks, with no content-length: 200', async () => {
    const long = { ...product, product: { ...product.product, description: 'd'.repeat(200_000) } };
    const delivery = createDelivery('product.added', long, { secret });
    const response = await post(server.url, inChunks(delivery.body, 16 * 1024), delivery.headers);
    expect([response.status, await response.json()]).toEqual([200, { received: true }]);
    await expect.poll(() => stdout().includes('d'.repeat(200_000))).toBe(true);
  });

  it('answers a forged delivery 401 invalid_signature, and no handler runs', async () => {
    const forged = createDelivery('product.updated', sampleEvents['product.updated'], { secret: 'guessed' });
    const response = await post(server.url, forged.body, forged.headers);
    expect([response.status, await response.json()]).toEqual([401, { error: 'Invalid signature', code: 'invalid_signature' }]);
    await expect.poll(stdout).toContain('rejected 401 invalid_signature: Invalid signature');
    expect(stdout()).not.toMatch(/^product\.updated /m);
  });

  it('answers a stale delivery (10 minutes old, correctly signed) 401 stale_timestamp', async () => {
    const stale = createDelivery('product.updated', sampleEvents['product.updated'], { secret, timestamp: new Date(Date.now() - 600_000) });
    const response = await post(server.url, stale.body, stale.headers);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'stale_timestamp' });
    await expect.poll(stdout).toContain('rejected 401 stale_timestamp');
    expect(stdout()).not.toMatch(/^product\.updated /m);
  });

  it('answers a signed body that is not JSON 400 invalid_json', async () => {
    const body = '{"event":"product.added","data":';
    const response = await post(server.url, body, { 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, secret) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'invalid_json' });
  });

  it('answers a body over the limit 413, whether its length is declared or it streams in chunks', async () => {
    const body = 'x'.repeat(LIMIT + 1);
    const headers = { 'content-type': 'application/json', 'x-webhook-signature': signPayload(body, secret) };
    const declared = await post(server.url, body, headers);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: 'payload_too_large' });

    const streamed = await post(server.url, inChunks(body, 64 * 1024), headers);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('answers a GET 405 with Allow: POST, and another path 404', async () => {
    const get = await fetch(server.url);
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    await get.body?.cancel();
    const elsewhere = await post(new URL('/elsewhere', server.url).href, '{}', { 'content-type': 'application/json' });
    expect(elsewhere.status).toBe(404);
    await elsewhere.body?.cancel();
  });

  it('printed no error along the way', () => {
    expect(server.running.output.stderr).toBe('');
  });
});

describe('Cloudflare Workers: what the README says the Worker needs', () => {
  // workerd refuses the bundle's `node:crypto` import as the Worker starts (and wrangler exits);
  // a bundle with a CommonJS dependency that requires a Node built-in stops earlier, at the build
  // (and `wrangler dev` waits for a fix). Either way nothing is served, and the flag is named.
  it('does not start without the nodejs_compat flag: the Node modules it imports are missing', async () => {
    const wrangler = runWrangler(secret, await freePort(), { edit: (toml) => toml.replace(/^compatibility_flags = .*$/m, '') });
    try {
      const printed = (): string => wrangler.output.stdout + wrangler.output.stderr;
      const failed = () => /No such module "node:|Build failed/.test(printed()) || wrangler.child.exitCode !== null;
      await expect.poll(failed, { timeout: 60_000, message: 'wrangler refuses the Worker' }).toBe(true);
      expect(printed()).toMatch(/No such module "node:crypto"|Could not resolve "/);
      expect(printed()).toContain('nodejs_compat');
      expect(printed()).not.toContain('Ready on');
    } finally {
      await wrangler.stop();
    }
  }, 60_000);

  it('does not start with a compatibility date before 2025-04-01: process.env holds no secret then', async () => {
    const wrangler = runWrangler(secret, await freePort(), {
      edit: (toml) => toml.replace(/^compatibility_date = .*$/m, 'compatibility_date = "2025-03-31"'),
    });
    expect(await wrangler.exited).toBe(1);
    expect(wrangler.output.stderr).toContain('createWebhookReceiver: no webhook secret');
  }, 60_000);
});

describe('Cloudflare Workers: a receiver built inside fetch(), from env (test/fixtures/worker-env.ts)', () => {
  let server: RuntimeServer;
  beforeAll(async () => {
    // The compatibility date that leaves process.env empty (see above): env is where the secret is.
    server = await startWorker(secret, {
      main: 'test/fixtures/worker-env.ts',
      edit: (toml) => toml.replace(/^compatibility_date = .*$/m, 'compatibility_date = "2025-03-31"'),
    });
  }, 90_000);
  afterAll(async () => {
    await server?.running.stop();
  });

  // workerd forbids code generation inside a request (it allows it while the Worker starts), so
  // the generated fast check is skipped there and zod alone decides.
  it('handles a signed delivery, and answers an invalid one 400 with its issues', async () => {
    const valid = createDelivery('product.added', product, { secret });
    const handled = await post(server.url, valid.body, valid.headers);
    expect(handled.status).toBe(200); // before reading it: a failure here is workerd's HTML error page
    expect(await handled.json()).toEqual({ received: true });

    const invalid = createDelivery('product.added', { storeId: 'store_xyz' } as never, { secret });
    const rejected = await post(server.url, invalid.body, invalid.headers);
    expect(rejected.status).toBe(400);
    expect(await rejected.json()).toMatchObject({ code: 'invalid_payload', issues: [{ path: 'data.product' }] });
    expect(server.running.output.stderr).not.toContain('EvalError');
  });
});

function post(url: string, body: string | ReadableStream<Uint8Array>, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers, ...(typeof body === 'string' ? {} : { duplex: 'half' }) } as RequestInit);
}

/** The body as a stream of chunks: sent chunked, with no content-length to check up front. */
function inChunks(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, (offset += size)));
    },
  });
}
