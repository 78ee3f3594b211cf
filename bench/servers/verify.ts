import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SECRET } from '../constants.js';

// The work of the limit handlers once the body is in one Buffer: its HMAC compared in constant
// time, JSON.parse, nothing else. Shared, so the two limits differ only in how they read the body.
const key = createSecretKey(Buffer.from(SECRET));

/** True when the signature header matches the body. */
export function verify(req: IncomingMessage, body: Buffer): boolean {
  const header = req.headers['x-webhook-signature'];
  const given = typeof header === 'string' && header.startsWith('sha256=') ? Buffer.from(header.slice(7), 'hex') : Buffer.alloc(0);
  const expected = createHmac('sha256', key).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** True when the signature header matches the body (which is then parsed). */
export function verifyAndParse(req: IncomingMessage, body: Buffer): boolean {
  if (!verify(req, body)) return false;
  JSON.parse(body.toString('utf8'));
  return true;
}
