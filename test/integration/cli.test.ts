import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventEmitter } from 'node:events';
import { createWebhookReceiver } from 'aicommerce-webhooks';
import { sampleEvents } from 'aicommerce-webhooks/testing';
import { quietWhenOutputCloses } from '../../src/cli/io.js';
import { bin, binPipedInto, binWithOutputClosed, cli } from '../helpers/cli.js';
import { closedPort, listen } from '../helpers/http.js';
import { readRepoFile } from '../helpers/paths.js';

// The CLI is tested twice over: in-process through runCli (argv, streams and env in, exit code
// out) for every branch, and as the built bin (`node dist/cli.js`) for every command once.

const secret = 'cli-test-secret';
const hmac = (body: string | Buffer, key: string): string => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

let dir: string;
/** A file holding exactly these bytes. */
const file = (name: string, bytes: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicommerce-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aicommerce-webhooks (top level)', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the usage with every command and exits 0', async (flag) => {
    const { code, stdout, stderr } = await cli([flag]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: aicommerce-webhooks <command>/);
    for (const command of ['send', 'sign', 'verify', 'queue', 'schema']) expect(stdout).toMatch(new RegExp(`^  ${command} +\\w`, 'm'));
    expect(stdout).toContain('AICOMMERCE_WEBHOOK_SECRET');
    expect(stderr).toBe('');
  });

  it('exits 2 with the usage on stderr without a command, or with an unknown one', async () => {
    const none = await cli([]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^missing <command>\n\nUsage: aicommerce-webhooks <command>/);
    const unknown = await cli(['frobnicate', '--secret', 's']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^unknown command 'frobnicate'\n\nUsage:/);
    expect((await cli(['help', 'frobnicate'])).stderr).toMatch(/^unknown command 'frobnicate'/);
  });

  it.each(['send', 'sign', 'verify', 'queue', 'schema'])('%s --help, -h and help %s print the command usage and exit 0', async (command) => {
    for (const argv of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const { code, stdout, stderr } = await cli(argv);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: aicommerce-webhooks ${command} `));
      expect(stdout).toContain('  -h, --help ');
      expect(stderr).toBe('');
    }
  });
});

describe('sign', () => {
  // A trailing newline and a non-ASCII character: both must be signed as they are.
  const body = Buffer.from('{"event":"chat.message.received","data":{"message":"Café"}}\n');

  it('prints the header value of the exact bytes of a file, of stdin (-) and of piped stdin', async () => {
    const expected = `${hmac(body, secret)}\n`;
    expect(await cli(['sign', '--secret', secret, file('body.json', body)])).toEqual({ code: 0, stdout: expected, stderr: '' });
    expect(await cli(['sign', '--secret', secret, '-'], { stdin: body })).toEqual({ code: 0, stdout: expected, stderr: '' });
    expect(await cli(['sign', '--secret', secret], { stdin: body })).toEqual({ code: 0, stdout: expected, stderr: '' });
    expect(expected).not.toBe(`${hmac(body.subarray(0, -1), secret)}\n`); // the newline counts
  });

  it('takes the secret from AICOMMERCE_WEBHOOK_SECRET, --secret first', async () => {
    expect((await cli(['sign'], { stdin: body, env: { AICOMMERCE_WEBHOOK_SECRET: secret } })).stdout).toBe(`${hmac(body, secret)}\n`);
    expect((await cli(['sign', '--secret', 'flag'], { stdin: body, env: { AICOMMERCE_WEBHOOK_SECRET: secret } })).stdout).toBe(
      `${hmac(body, 'flag')}\n`,
    );
  });

  it.each([
    ['no secret', [], {}, /no secret: pass --secret or set AICOMMERCE_WEBHOOK_SECRET/],
    ['an empty secret', [], { AICOMMERCE_WEBHOOK_SECRET: '' }, /the secret is empty/],
    ['an unknown option', ['--secret', 's', '--sekret', 't'], {}, /Unknown option '--sekret'/],
    ['a missing option value', ['--secret'], {}, /--secret <value>' argument missing/],
    ['two files', ['--secret', 's', 'a.json', 'b.json'], {}, /expected at most one file, got 2/],
    ['a file that is not there', ['--secret', 's', '/nonexistent/body.json'], {}, /cannot read \/nonexistent\/body\.json: ENOENT/],
  ])('%s is a usage error: exit 2, the message and the usage on stderr', async (_, args, env, message) => {
    const { code, stdout, stderr } = await cli(['sign', ...args], { stdin: body, env });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('\n\nUsage: aicommerce-webhooks sign ');
  });

  it('does not wait on a terminal when no file is given', async () => {
    const { code, stderr } = await cli(['sign', '--secret', 's'], { tty: true });
    expect(code).toBe(2);
    expect(stderr).toMatch(/no body: give a file, or pipe it on stdin/);
  });
});

describe('verify', () => {
  const body = '{"event":"product.added","data":{"price":129.99}}';
  const signature = hmac(body, secret);

  it('exits 0 and prints valid for the right signature, from a file or stdin', async () => {
    expect(await cli(['verify', '--secret', secret, '--signature', signature, file('verify.json', body)])).toEqual({
      code: 0,
      stdout: 'valid\n',
      stderr: '',
    });
    expect(await cli(['verify', '--signature', signature, '-'], { stdin: body, env: { AICOMMERCE_WEBHOOK_SECRET: secret } })).toMatchObject({
      code: 0,
      stdout: 'valid\n',
    });
  });

  it('accepts any of several --secret values (rotation)', async () => {
    const { code, stdout } = await cli(['verify', '--secret', 'new-secret', '--secret', secret, '--signature', signature], { stdin: body });
    expect([code, stdout]).toEqual([0, 'valid\n']);
  });

  it.each([
    ['one tampered byte', body.replace('129.99', '119.99'), signature],
    ['a trailing newline', `${body}\n`, signature],
    ['the wrong secret', body, hmac(body, 'other')],
    ['a short header', body, signature.slice(0, 20)],
    ['another scheme', body, signature.replace('sha256=', 'sha1=')],
  ])('exits 1 and prints invalid for %s', async (_, input, sig) => {
    expect(await cli(['verify', '--secret', secret, '--signature', sig], { stdin: input })).toEqual({ code: 1, stdout: 'invalid\n', stderr: '' });
  });

  it('exits 2 without --signature', async () => {
    const { code, stderr } = await cli(['verify', '--secret', secret], { stdin: body });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^aicommerce-webhooks verify: missing --signature\n\nUsage: aicommerce-webhooks verify /);
  });
});

describe('send', () => {
  const webhooks = createWebhookReceiver({
    secret,
    schemas: { 'order.refunded': z.object({ orderId: z.string(), amount: z.number() }) },
  });
  const seen: { event: string; data: unknown }[] = [];
  let failures = 0; // the next handler runs that throw
  webhooks.onAny((event) => {
    seen.push({ event: event.event, data: event.data });
    if (failures > 0) {
      failures--;
      throw new Error('database unavailable');
    }
  });
  webhooks.onError(() => {}); // expected 401/500s stay quiet
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const server = await listen(webhooks.middleware());
    url = server.url;
    close = server.close;
  });
  afterAll(() => close());
  beforeEach(() => {
    seen.length = 0;
    failures = 0;
  });

  it('delivers the sample payload of the event and prints the attempt', async () => {
    const { code, stdout, stderr } = await cli(['send', 'chat.message.received', '--url', url, '--secret', secret]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(seen).toEqual([{ event: 'chat.message.received', data: sampleEvents['chat.message.received'] }]);
    expect(stdout).toMatch(new RegExp(`^POST chat\\.message\\.received to ${url} \\(up to 4 attempts\\)\n`));
    expect(stdout).toMatch(/^ {2}attempt 1 {2}at \+\d+ ms {2}200 received {2}\(\d+ ms\)$/m);
    expect(stdout).toMatch(/delivered on attempt 1\n$/);
  });

  it('retries a 500 with backoff and exits 0 once an attempt succeeds', async () => {
    failures = 1;
    const { code, stdout } = await cli(['send', 'product.added', '--url', url, '--base-delay', '10', '--retries', '2'], {
      env: { AICOMMERCE_WEBHOOK_SECRET: secret },
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/attempt 1 .* 500 handler_failed: Webhook handler failed .*\n {2}attempt 2 .* 200 received .*\ndelivered on attempt 2\n$/);
    expect(seen).toHaveLength(2);
  });

  it('exits 1 when no attempt succeeds, after 1 + retries attempts', async () => {
    const { code, stdout } = await cli(['send', 'product.added', '--url', url, '--secret', 'wrong', '--retries', '1', '--base-delay', '1']);
    expect(code).toBe(1);
    expect(stdout.match(/401 invalid_signature/g)).toHaveLength(2);
    expect(stdout).toMatch(/not delivered after 2 attempts\n$/);
    expect(seen).toEqual([]);
  });

  it('reports a refused connection as no answer', async () => {
    const { code, stdout } = await cli(['send', 'product.added', '--url', `http://127.0.0.1:${await closedPort()}`, '--secret', secret, '--retries', '0']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/attempt 1 .* no answer \(ECONNREFUSED\)/);
    expect(stdout).toMatch(/\(up to 1 attempt\)/);
    expect(stdout).toMatch(/not delivered after 1 attempt\n$/);
  });

  it('sends --data from a file or stdin, for an event of your own too', async () => {
    const refund = { orderId: 'ord_1', amount: 12.5 };
    const fromFile = await cli(['send', 'order.refunded', '--url', url, '--secret', secret, '--data', file('refund.json', JSON.stringify(refund))]);
    expect(fromFile.code).toBe(0);
    const custom = { ...sampleEvents['product.viewed'], position: 7 };
    const fromStdin = await cli(['send', 'product.viewed', '--url', url, '--secret', secret, '--data', '-'], { stdin: JSON.stringify(custom) });
    expect(fromStdin.code).toBe(0);
    expect(seen).toEqual([
      { event: 'order.refunded', data: refund },
      { event: 'product.viewed', data: custom },
    ]);
  });

  it('shows how the receiver answered an event it does not know', async () => {
    const { code, stdout } = await cli(['send', 'never.heard.of', '--url', url, '--secret', secret, '--data', '-'], { stdin: '{}' });
    expect(code).toBe(0);
    expect(stdout).toContain('200 ignored');
    expect(seen).toEqual([]);
  });

  it.each([
    ['no event', ['--url', 'http://127.0.0.1:9/x'], /missing <event>/],
    ['two events', ['product.added', 'product.updated', '--url', 'http://127.0.0.1:9/x'], /expected one event, got 2/],
    ['an unknown event without --data', ['product.deleted', '--url', 'http://127.0.0.1:9/x'], /unknown event 'product\.deleted': give --data/],
    ['no --url', ['product.added'], /missing --url/],
    ['a --url that is not http(s)', ['product.added', '--url', 'ftp://example.com/x'], /--url must be an http\(s\) URL, got 'ftp:\/\/example\.com\/x'/],
    ['a --url that is not a URL', ['product.added', '--url', 'localhost:3000'], /--url must be an http\(s\) URL/],
    ['--retries that is not a whole number', ['product.added', '--url', 'http://127.0.0.1:9/x', '--retries', '1.5'], /--retries must be a whole number/],
    ['--base-delay that is not a whole number', ['product.added', '--url', 'http://127.0.0.1:9/x', '--base-delay', '1s'], /--base-delay must be a whole number/],
    ['--data that is not JSON', ['product.added', '--url', 'http://127.0.0.1:9/x', '--data', '-'], /--data is not valid JSON/],
  ])('%s is a usage error and nothing is sent', async (_, args, message) => {
    const { code, stdout, stderr } = await cli(['send', ...args, '--secret', secret], { stdin: '{not json' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('\n\nUsage: aicommerce-webhooks send <event>');
    expect(seen).toEqual([]);
  });

  it('needs a secret', async () => {
    const { code, stderr } = await cli(['send', 'product.added', '--url', url]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no secret/);
  });
});

describe('schema', () => {
  const docs = (name: string): string => readRepoFile(`docs/${name}`);

  it('prints the OpenAPI 3.1 document by default, the JSON Schema one with --format json-schema', async () => {
    const openapi = await cli(['schema']);
    expect(openapi).toEqual({ code: 0, stdout: docs('openapi.json'), stderr: '' });
    expect(JSON.parse(openapi.stdout)).toMatchObject({ openapi: '3.1.0', webhooks: { 'chat.message.received': { post: {} } } });
    expect(await cli(['schema', '--format', 'openapi'])).toEqual(openapi);
    const jsonSchema = await cli(['schema', '--format', 'json-schema']);
    expect(jsonSchema).toEqual({ code: 0, stdout: docs('events.schema.json'), stderr: '' });
    expect(JSON.parse(jsonSchema.stdout)).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', oneOf: expect.any(Array) });
  });

  it('--out writes the same document to a file and prints nothing', async () => {
    const out = join(dir, 'events.schema.json');
    expect(await cli(['schema', '--format', 'json-schema', '--out', out])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(docs('events.schema.json'));
  });

  it('exits 1 with the reason when the file cannot be written', async () => {
    expect(await cli(['schema', '--out', join(dir, 'missing', 'openapi.json')])).toEqual({
      code: 1,
      stdout: '',
      stderr: `aicommerce-webhooks schema: cannot write ${join(dir, 'missing', 'openapi.json')}: ENOENT\n`,
    });
  });

  it.each([
    ['an unknown format', ['--format', 'yaml'], /--format must be openapi or json-schema, got 'yaml'/],
    ['a positional argument', ['openapi'], /Unexpected argument 'openapi'/],
    ['an unknown option', ['--secret', 's'], /Unknown option '--secret'/],
  ])('%s is a usage error: exit 2, nothing on stdout', async (_, args, message) => {
    const { code, stdout, stderr } = await cli(['schema', ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('\n\nUsage: aicommerce-webhooks schema ');
  });
});

describe('the built bin (node dist/cli.js)', () => {
  it('is what package.json names, with a node shebang', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ 'aicommerce-webhooks': 'dist/cli.js' });
    expect(readRepoFile('dist/cli.js')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('--help exits 0; a usage error exits 2 with the usage on stderr', async () => {
    const help = await bin(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: aicommerce-webhooks <command>/);
    const wrong = await bin(['sign', '--nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toMatch(/Unknown option '--nope'[\s\S]*Usage: aicommerce-webhooks sign/);
  });

  it('sign and verify agree on the exact bytes, with the secret from the environment', async () => {
    const body = '{"event":"product.added"}\n';
    const env = { AICOMMERCE_WEBHOOK_SECRET: secret };
    const signed = await bin(['sign', file('bin.json', body)], { env });
    expect(signed).toEqual({ code: 0, stdout: `${hmac(body, secret)}\n`, stderr: '' });
    const signature = signed.stdout.trim();
    expect(await bin(['verify', '--signature', signature], { stdin: body, env })).toMatchObject({ code: 0, stdout: 'valid\n' });
    expect(await bin(['verify', '--signature', signature, '-'], { stdin: body.trim(), env })).toMatchObject({ code: 1, stdout: 'invalid\n' });
  });

  it('schema prints the checked-in document', async () => {
    expect(await bin(['schema'])).toEqual({ code: 0, stdout: readRepoFile('docs/openapi.json'), stderr: '' });
  });

  it('schema ends quietly, exit 0, when the reader closes the pipe early (`| head`): no EPIPE stack', async () => {
    expect(await binWithOutputClosed(['schema'])).toEqual({ code: 0, signal: null, stderr: '' });
    // 95 KB, more than a pipe holds: head leaves while the bin is still writing.
    const document = readRepoFile('docs/openapi.json');
    expect(document.length).toBeGreaterThan(65_536);
    expect(await binPipedInto('head -c 100', ['schema'])).toEqual({ code: 0, stdout: document.slice(0, 100), stderr: '' });
  });

  it('send delivers to a real server and exits 0', async () => {
    const received: unknown[] = [];
    const receiver = createWebhookReceiver({ secret });
    receiver.on('analytics.daily', (event) => void received.push(event.data));
    const server = await listen(http.createServer(receiver.middleware()));
    try {
      const { code, stdout, stderr } = await bin(['send', 'analytics.daily', '--url', `${server.origin}/hooks`, '--secret', secret]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/200 received[\s\S]*delivered on attempt 1\n$/);
      expect(received).toEqual([sampleEvents['analytics.daily']]);
    } finally {
      await server.close();
    }
  });
});

describe('output closed early (`… | head`): every command exits quietly, with its own status', () => {
  const body = '{"event":"product.added"}\n';
  const env = { AICOMMERCE_WEBHOOK_SECRET: secret };
  const quiet = (code: number) => ({ code, signal: null, stderr: '' });

  it('sign, verify (valid and invalid) and --help: no EPIPE stack, nothing on stderr, the exit status unchanged', async () => {
    expect(await binWithOutputClosed(['sign'], { stdin: body, env })).toEqual(quiet(0));
    expect(await binWithOutputClosed(['verify', '--signature', hmac(body, secret)], { stdin: body, env })).toEqual(quiet(0));
    expect(await binWithOutputClosed(['verify', '--signature', hmac(body, 'other')], { stdin: body, env })).toEqual(quiet(1));
    expect(await binWithOutputClosed(['--help'])).toEqual(quiet(0));
    expect(await binWithOutputClosed(['queue', '--help'])).toEqual(quiet(0));
  });

  it('send still makes its delivery and exits 0', async () => {
    const received: unknown[] = [];
    const receiver = createWebhookReceiver({ secret });
    receiver.on('product.added', (event) => void received.push(event.data));
    const server = await listen(http.createServer(receiver.middleware()));
    try {
      expect(await binWithOutputClosed(['send', 'product.added', '--url', server.origin], { env })).toEqual(quiet(0));
      expect(received).toEqual([sampleEvents['product.added']]);
    } finally {
      await server.close();
    }
  });

  it('a usage error still exits 2 with its message on stderr (which is open)', async () => {
    const { code, stderr } = await binWithOutputClosed(['sign', '--nope']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^aicommerce-webhooks sign: Unknown option '--nope'/);
  });

  it('drops EPIPE only: any other stream error is thrown as Node would', () => {
    const stream = new EventEmitter();
    quietWhenOutputCloses(stream);
    expect(() => stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).not.toThrow();
    expect(() => stream.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' }))).toThrow('write EIO');
  });
});
