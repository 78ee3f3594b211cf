import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** A request body exactly as it arrived: a string is hashed as its UTF-8 bytes. */
export type BodyInput = string | Uint8Array;

/** A signing secret, or several while one is rotated out: any of them may have signed. */
export type Secrets = string | readonly string[];

const SCHEME = 'sha256=';
const HEADER_LENGTH = SCHEME.length + 64; // the scheme, then one SHA-256 digest in hex

/** `sha256=<lowercase hex HMAC-SHA256 of the body's bytes>`, the `x-webhook-signature` value. */
export function signPayload(body: BodyInput, secret: string): string {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('signPayload: secret must be a non-empty string');
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError('signPayload: body must be the raw string, Buffer or Uint8Array that is sent');
  }
  return SCHEME + createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * The 32 digest bytes of a well-formed `x-webhook-signature` value, or `undefined` for anything
 * else: missing, empty, another scheme, short, long, not hex, or repeated (an array, or two values
 * that Node joined with a comma).
 */
export function parseSignatureHeader(header: unknown): Buffer | undefined {
  if (typeof header !== 'string') return undefined;
  // Surrounding blanks are HTTP's optional whitespace (RFC 9110 §5.5), not part of the value.
  const value = header.length === HEADER_LENGTH ? header : header.trim();
  if (value.length !== HEADER_LENGTH || !value.startsWith(SCHEME)) return undefined;
  // Hex decoding (either case) stops at the first pair that is not hex, so 32 bytes means 64 hex digits.
  const digest = Buffer.from(value.slice(SCHEME.length), 'hex');
  return digest.length === 32 ? digest : undefined;
}

/** Key objects made once per secret, so a request never re-imports a key. */
export function toKeys(secrets: Secrets): KeyObject[] {
  const list: readonly string[] = typeof secrets === 'string' ? [secrets] : secrets;
  return list.map((secret) => {
    if (typeof secret !== 'string' || secret === '') throw new TypeError('a webhook secret must be a non-empty string');
    return createSecretKey(Buffer.from(secret, 'utf8'));
  });
}

/** Does any key's HMAC of the body equal the digest? Constant-time per comparison. */
export function matchesAnyKey(body: BodyInput, digest: Buffer, keys: readonly KeyObject[]): boolean {
  for (const key of keys) {
    // Both sides are 32 bytes by construction (parseSignatureHeader), so timingSafeEqual cannot throw.
    if (timingSafeEqual(createHmac('sha256', key).update(body).digest(), digest)) return true;
  }
  return false;
}

/**
 * `true` when `signature` is a valid `sha256=<hex>` HMAC of the body's exact bytes under the secret,
 * or under any secret of a list. Never throws: every malformed input is simply `false`.
 */
export function verifyWebhookSignature(body: BodyInput, signature: unknown, secrets: Secrets): boolean {
  try {
    const digest = parseSignatureHeader(signature);
    if (digest === undefined) return false;
    if (typeof body !== 'string' && !(body instanceof Uint8Array)) return false;
    return matchesAnyKey(body, digest, toKeys(secrets));
  } catch {
    return false; // an empty or non-string secret, an empty list
  }
}
