import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { SECRET } from '../constants.js';
import { OK_BODY, OK_HEADERS, serve } from './serve.js';

// The limit: the body in one Buffer, its HMAC compared in constant time, JSON.parse, nothing else.
const key = createSecretKey(Buffer.from(SECRET));

serve((ran) => (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const header = req.headers['x-webhook-signature'];
    const given = typeof header === 'string' && header.startsWith('sha256=') ? Buffer.from(header.slice(7), 'hex') : Buffer.alloc(0);
    const expected = createHmac('sha256', key).update(body).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end();
      return;
    }
    JSON.parse(body.toString('utf8'));
    ran();
    res.writeHead(200, OK_HEADERS).end(OK_BODY);
  });
});
