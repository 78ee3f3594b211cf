import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload } from 'aicommerce-webhooks';
import { SECRET, signedBody as delivery } from '../helpers/deliveries.js';
import { registerMetrics, registerTracing, sumPoints } from '../helpers/otel.js';
import { copyWithoutOpenTelemetry } from '../helpers/without-otel.js';

// OpenTelemetry is optional twice over: the API package may be missing, and with it installed
// no SDK may be registered (or one may be registered only after the receiver was made).

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/without-otel.cjs', import.meta.url));

describe('without @opentelemetry/api', () => {
  it('the built package, required from CommonJS where the API cannot be found, handles and rejects as usual, and logs', async () => {
    const copy = copyWithoutOpenTelemetry();
    try {
      const { stdout, stderr } = await run(process.execPath, [fixture, copy.entry]);
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({
        outcome: 'handled',
        forged: 'invalid_signature',
        seen: ['p1'],
        records: [{ level: 'warn', code: 'invalid_signature', status: 401, msg: 'Invalid signature' }],
      });
    } finally {
      copy.dispose();
    }
  });
});

describe('with the API installed', () => {
  it('and no SDK: deliveries are handled, no span is active in a handler', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET });
    const active: unknown[] = [];
    webhooks.on('product.added', () => void active.push(trace.getActiveSpan()));
    const body = delivery();
    await expect(webhooks.receive({ body, signature: signPayload(body, SECRET) })).resolves.toMatchObject({ outcome: 'handled' });
    expect(active).toEqual([undefined]);
  });

  it('an SDK registered after the receiver was made is picked up at the next delivery, and let go when it is removed', async () => {
    const webhooks = createWebhookReceiver({ secret: SECRET, dedupe: false });
    const inSpan: boolean[] = [];
    webhooks.on('product.added', () => void inSpan.push(trace.getActiveSpan() !== undefined));
    const body = delivery();
    const deliver = () => webhooks.receive({ body, signature: signPayload(body, SECRET) });
    await deliver(); // no SDK yet

    const tracing = registerTracing();
    const meters = registerMetrics();
    try {
      await deliver();
      expect(tracing.spans().map((span) => span.name)).toEqual(['aicommerce.webhook.handler', 'aicommerce.webhook.delivery']);
      expect(sumPoints((await meters.collect()).get('aicommerce.webhook.deliveries')).map((point) => point.value)).toEqual([1]);
    } finally {
      await tracing.shutdown();
      await meters.shutdown();
    }
    await deliver(); // the SDK is gone again
    expect(inSpan).toEqual([false, true, false]);
  });
});
