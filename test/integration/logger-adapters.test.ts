import { describe, expect, it } from 'vitest';
import { signPayload } from 'aicommerce-webhooks';
import { sha256, signedBody as delivery } from '../helpers/deliveries.js';
import { pinoToLines, WARN } from '../helpers/log-lines.js';
import { open, targets } from '../helpers/targets.js';

// A real pino logger writing JSON lines, with the receiver in every adapter over real HTTP (and
// receive()): each way in logs the same records. What receive() logs: test/unit/logger.test.ts.

describe('rejections are warn records, through every adapter and receive()', () => {
  for (const target of targets) {
    it(`${target}: forged → warn { code, status }; stale → with the event and delivery id; handled → nothing`, async () => {
      const log = pinoToLines();
      const opened = await open(target, { logger: log.logger });
      try {
        const body = delivery();
        const stale = delivery('product.updated', new Date(Date.now() - 3_600_000));
        expect(await opened.send(body, signPayload(body, 'another-secret'))).toBe(401);
        expect(await opened.send(stale)).toBe(401);
        expect(await opened.send(body)).toBe(200);
        expect(await opened.send(body)).toBe(200); // a duplicate
        expect(log.lines).toEqual([
          { level: WARN, code: 'invalid_signature', status: 401, msg: 'Invalid signature' },
          {
            level: WARN,
            code: 'stale_timestamp',
            status: 401,
            event: 'product.updated',
            deliveryId: sha256(stale),
            msg: 'Timestamp outside the tolerance window: older than 300 s from now',
          },
        ]);
      } finally {
        await opened.close();
      }
    });
  }

  it('rejections an adapter makes before reading the body (405, 415) are logged too', async () => {
    const log = pinoToLines();
    const opened = await open('express 5', { logger: log.logger });
    try {
      expect((await fetch(opened.url!, { method: 'GET' })).status).toBe(405);
      expect((await fetch(opened.url!, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415);
      expect(log.lines.map(({ level, code, status }) => ({ level, code, status }))).toEqual([
        { level: WARN, code: 'method_not_allowed', status: 405 },
        { level: WARN, code: 'unsupported_media_type', status: 415 },
      ]);
    } finally {
      await opened.close();
    }
  });
});
