import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, WebhookError, type ReceiverOptions } from 'aicommerce-webhooks';
import { SECRET } from '../helpers/deliveries.js';
import { anyJson, mutatedEnvelope, validEnvelope } from '../helpers/hostile-arbitraries.js';
import { expectAgreement, expectedOutcome, passesItsSchema, type Answer, type Expected } from '../helpers/hostile-oracle.js';

// Property: a correctly signed body is answered 200 or 4xx by what it holds, never 5xx, and a
// handler only ever sees data that passes its event's exported schema. Every signed JSON value
// is checked against an oracle written straight from `eventSchemas` (test/helpers/hostile-oracle.ts),
// so any validator the pipeline uses must agree with the schemas on every generated delivery.
// The same over HTTP, in every framework and the Fetch handler: property-payload-http.test.ts.

const NOW = new Date('2026-11-26T12:00:00.000Z');
const options: ReceiverOptions = { secret: SECRET, now: () => NOW };

/** A receiver that counts handler runs and checks every event a handler is given. */
function checkedReceiver() {
  const webhooks = createWebhookReceiver(options);
  const seen = { runs: 0, badEvents: [] as unknown[] };
  webhooks.onAny((event) => {
    seen.runs++;
    if (!passesItsSchema(event)) seen.badEvents.push(event);
  });
  const receive = async (body: Uint8Array | string): Promise<Answer> => {
    try {
      const { outcome } = await webhooks.receive({ body, signature: signPayload(body, SECRET) });
      return { status: 200, code: outcome };
    } catch (error) {
      if (!(error instanceof WebhookError)) throw error; // a crash, not an answer
      return { status: error.status, code: error.code };
    }
  };
  return { receive, seen };
}

describe('receive(): correctly signed hostile bodies', () => {
  it('arbitrary JSON values → 200 or 400 as the schemas say, never 5xx', async () => {
    const { receive, seen } = checkedReceiver();
    const bodies = new Set<string>();
    await fc.assert(
      fc.asyncProperty(anyJson, async (json) => {
        const body = JSON.stringify(json);
        const answer = await receive(body);
        expect([200, 400]).toContain(answer.status);
        expectAgreement(answer, expectedOutcome(json, NOW), bodies.has(body));
        bodies.add(body);
      }),
      { numRuns: 2000 },
    );
    expect(seen.badEvents).toEqual([]);
  });

  it('arbitrary bytes, invalid UTF-8 included → 400, never 5xx, no handler run', async () => {
    const { receive, seen } = checkedReceiver();
    const invalidUtf8 = fc.constantFrom([0x80], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]);
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.uint8Array({ maxLength: 50 }), invalidUtf8, fc.uint8Array({ maxLength: 50 })).map(([a, bad, b]) => Uint8Array.from([...a, ...bad, ...b])),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (body) => {
        const answer = await receive(body);
        expect(answer.status).toBe(400);
        expect(['invalid_json', 'invalid_payload']).toContain(answer.code);
      }),
      { numRuns: 2000 },
    );
    expect(seen.runs).toBe(0);
  });

  it('a valid delivery with one invalid UTF-8 sequence inside a string → 400 invalid_json (no byte is replaced)', async () => {
    const { receive, seen } = checkedReceiver();
    const invalid = fc.constantFrom('80', 'ff', 'c0af', 'eda080', 'f4908080', 'e282');
    await fc.assert(
      fc.asyncProperty(validEnvelope(NOW.toISOString()), invalid, fc.nat(), async (json, hex, at) => {
        const text = JSON.stringify(json);
        // Inside a JSON string: right after an opening quote, chosen among all of them.
        const quotes = [...text.matchAll(/"/g)].map((m) => m.index);
        const cut = quotes[at % quotes.length]! + 1;
        const body = Buffer.concat([Buffer.from(text.slice(0, cut)), Buffer.from(hex, 'hex'), Buffer.from(text.slice(cut))]);
        expect(await receive(body)).toEqual({ status: 400, code: 'invalid_json' });
      }),
      { numRuns: 500 },
    );
    expect(seen.runs).toBe(0);
  });

  it('event-like objects built from the schemas and mutated → the answer the schemas give, handlers see only valid data', async () => {
    const { receive, seen } = checkedReceiver();
    const bodies = new Set<string>();
    const tally: Record<Expected, number> = { handled: 0, ignored: 0, invalid_payload: 0, stale_timestamp: 0 };
    let firstDeliveries = 0; // handled, and not a copy of an earlier body
    await fc.assert(
      fc.asyncProperty(mutatedEnvelope(NOW), async ({ json }) => {
        const body = JSON.stringify(json);
        const expected = expectedOutcome(json, NOW);
        expectAgreement(await receive(body), expected, bodies.has(body));
        if (expected === 'handled' && !bodies.has(body)) firstDeliveries++;
        bodies.add(body);
        tally[expected]++;
      }),
      { numRuns: 4000 },
    );
    expect(seen.badEvents).toEqual([]);
    expect(seen.runs).toBe(firstDeliveries);
    // The generator reaches every outcome, so validation (not JSON parsing) is what is exercised.
    for (const outcome of Object.keys(tally) as Expected[]) expect(tally[outcome]).toBeGreaterThan(40);
  });
});
