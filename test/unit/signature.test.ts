import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload, verifyWebhookSignature } from 'aicommerce-webhooks';

const secret = 'whsec_test';
const body = '{"event":"product.added","data":{"name":"Café ☕"}}';
const expectedHex = createHmac('sha256', secret).update(Buffer.from(body, 'utf8')).digest('hex');
const valid = `sha256=${expectedHex}`;

describe('signPayload', () => {
  it('is sha256= and the lowercase hex HMAC-SHA256 of the UTF-8 bytes', () => {
    expect(signPayload(body, secret)).toBe(valid);
    expect(signPayload(body, secret)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('signs a string, a Buffer and a Uint8Array of the same bytes alike', () => {
    const bytes = Buffer.from(body);
    expect(signPayload(bytes, secret)).toBe(valid);
    expect(signPayload(new Uint8Array(bytes), secret)).toBe(valid);
  });

  it('refuses an empty secret and a body that is not raw bytes', () => {
    expect(() => signPayload(body, '')).toThrow(TypeError);
    expect(() => signPayload({ parsed: true } as unknown as string, secret)).toThrow(/raw string, Buffer or Uint8Array/);
  });
});

describe('verifyWebhookSignature', () => {
  it('accepts the signature of the exact bytes, as string, Buffer or Uint8Array', () => {
    expect(verifyWebhookSignature(body, valid, secret)).toBe(true);
    expect(verifyWebhookSignature(Buffer.from(body), valid, secret)).toBe(true);
    expect(verifyWebhookSignature(new Uint8Array(Buffer.from(body)), valid, secret)).toBe(true);
  });

  it('rejects a wrong secret and a body that differs by one byte', () => {
    expect(verifyWebhookSignature(body, valid, 'other')).toBe(false);
    expect(verifyWebhookSignature(body.replace('Café', 'Cafe'), valid, secret)).toBe(false);
  });

  // Each odd header value is decided here; none of them may throw (the docs snippet's
  // timingSafeEqual throws on a short header and turns a forgery into a 500).
  const headers: [string, unknown, boolean][] = [
    ['undefined', undefined, false],
    ['null', null, false],
    ['empty string', '', false],
    ['scheme only', 'sha256=', false],
    ['short hex (the docs snippet crash)', `sha256=${expectedHex.slice(0, 10)}`, false],
    ['one hex digit short', `sha256=${expectedHex.slice(0, 63)}`, false],
    ['long hex', `sha256=${expectedHex}00`, false],
    ['non-hex characters', `sha256=${'z'.repeat(64)}`, false],
    ['a non-hex character at the end', `sha256=${expectedHex.slice(0, 63)}g`, false],
    ['no scheme prefix', expectedHex, false],
    ['sha1= scheme', `sha1=${expectedHex}`, false],
    ['upper-case scheme', `SHA256=${expectedHex}`, false],
    ['upper-case hex (same bytes)', `sha256=${expectedHex.toUpperCase()}`, true],
    ['surrounding spaces and tabs (HTTP optional whitespace)', ` \t${valid} `, true],
    ['an array of two values', [valid, valid], false],
    ['an array of one value', [valid], false],
    ['two values joined by Node with a comma', `${valid}, ${valid}`, false],
    ['a number', 42, false],
    ['an object', { toString: () => valid }, false],
  ];
  it.each(headers)('header: %s', (_, header, expected) => {
    expect(verifyWebhookSignature(body, header, secret)).toBe(expected);
  });

  it('accepts a signature by any secret of a rotation list, and no other', () => {
    expect(verifyWebhookSignature(body, valid, ['new-secret', secret])).toBe(true);
    expect(verifyWebhookSignature(body, signPayload(body, 'new-secret'), ['new-secret', secret])).toBe(true);
    expect(verifyWebhookSignature(body, signPayload(body, 'retired'), ['new-secret', secret])).toBe(false);
  });

  it('is false, not an exception, for unusable secrets and bodies', () => {
    expect(verifyWebhookSignature(body, valid, '')).toBe(false);
    expect(verifyWebhookSignature(body, valid, [])).toBe(false);
    expect(verifyWebhookSignature(body, valid, [secret, ''])).toBe(false);
    expect(verifyWebhookSignature(body, valid, undefined as unknown as string)).toBe(false);
    expect(verifyWebhookSignature({ event: 'x' } as unknown as string, valid, secret)).toBe(false);
  });

  it('verifies bytes that are not valid UTF-8 exactly (no decoding before hashing)', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const signature = `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;
    expect(verifyWebhookSignature(bytes, signature, secret)).toBe(true);
    // Decoding first would replace the bad bytes with U+FFFD and hash different bytes.
    expect(verifyWebhookSignature(bytes.toString('utf8'), signature, secret)).toBe(false);
  });
});
