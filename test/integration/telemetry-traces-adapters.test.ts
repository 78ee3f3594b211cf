import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signPayload } from 'aicommerce-webhooks';
import { SECRET, sha256, signedBody as delivery } from '../helpers/deliveries.js';
import { isChildOf, registerTracing, type Tracing } from '../helpers/otel.js';
import { readRepoFile } from '../helpers/paths.js';
import { open, targets } from '../helpers/targets.js';

// The OpenTelemetry Node SDK registered as an app registers it, spans exported to memory: what
// the receiver records for each delivery and each handler run, through every adapter over real
// HTTP and through receive(). What the spans say in detail: test/unit/telemetry-traces.test.ts.

const DELIVERY = 'aicommerce.webhook.delivery';
const HANDLER = 'aicommerce.webhook.handler';
const VERSION = (JSON.parse(readRepoFile('package.json')) as { version: string }).version;

let tracing: Tracing;
beforeAll(() => void (tracing = registerTracing()));
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());

describe('a span per delivery and per handler run, from every adapter and from receive()', () => {
  for (const target of targets) {
    it(`${target}: a handled delivery is a delivery span with its handler's span under it`, async () => {
      const opened = await open(target, { dedupe: false });
      try {
        const body = delivery('product.added');
        expect(await opened.send(body)).toBe(200);
        const span = tracing.only(DELIVERY);
        expect(span.kind).toBe(SpanKind.INTERNAL);
        expect(span.attributes).toEqual({
          'aicommerce.webhook.event': 'product.added',
          'aicommerce.webhook.delivery_id': sha256(body),
          'aicommerce.webhook.outcome': 'handled',
          'http.response.status_code': 200,
        });
        expect(span.status.code).toBe(SpanStatusCode.UNSET);
        expect(span.instrumentationScope).toMatchObject({ name: 'aicommerce-webhooks', version: VERSION });
        const handler = tracing.only(HANDLER);
        expect(isChildOf(handler, span)).toBe(true);
        expect(handler.attributes).toMatchObject({ 'aicommerce.webhook.event': 'product.added', 'aicommerce.webhook.delivery_id': sha256(body) });
      } finally {
        await opened.close();
      }
    });

    it(`${target}: a forged delivery is a rejected span: error.type, the status, no exception, no handler span`, async () => {
      const opened = await open(target);
      try {
        const body = delivery();
        expect(await opened.send(body, signPayload(body, `${SECRET}-other`))).toBe(401);
        const span = tracing.only(DELIVERY);
        // A 4xx is the sender's problem: the span status stays unset, error.type says why.
        expect(span.attributes).toEqual({
          'aicommerce.webhook.outcome': 'rejected',
          'http.response.status_code': 401,
          'error.type': 'invalid_signature',
        });
        expect(span.status.code).toBe(SpanStatusCode.UNSET);
        expect(span.events).toEqual([]);
        expect(tracing.named(HANDLER)).toEqual([]);
      } finally {
        await opened.close();
      }
    });
  }

  for (const target of ['express 5', 'fetch'] as const) {
    it(`${target}: rejections made before the pipeline (405, 415) get a rejected span too`, async () => {
      const opened = await open(target);
      try {
        expect((await fetch(opened.url!, { method: 'GET' })).status).toBe(405);
        const body = delivery();
        const response = await fetch(opened.url!, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'x-webhook-signature': signPayload(body, SECRET) },
          body,
        });
        expect(response.status).toBe(415);
        expect(tracing.named(DELIVERY).map((span) => span.attributes)).toEqual([
          { 'aicommerce.webhook.outcome': 'rejected', 'http.response.status_code': 405, 'error.type': 'method_not_allowed' },
          { 'aicommerce.webhook.outcome': 'rejected', 'http.response.status_code': 415, 'error.type': 'unsupported_media_type' },
        ]);
      } finally {
        await opened.close();
      }
    });
  }
});
