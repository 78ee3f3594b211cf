import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, signPayload, WebhookError, type ReceiverOptions } from 'aicommerce-webhooks';
import { sampleEvents } from 'aicommerce-webhooks/testing';
import { schemaDocument } from '../../src/cli/schema.js';
import { anyJson, eventNames, mutatedEnvelope, validEnvelope } from '../helpers/hostile-arbitraries.js';
import { createAjv, openApiValidator, pointerTo } from '../helpers/json-schema.js';

// The generated JSON Schema, run by a standard validator (Ajv, 2020-12, formats asserted), must
// accept exactly the deliveries the receiver (zod) accepts: every sample, every value built from
// the schemas and mutated, arbitrary JSON, and the edge cases of the two string formats.

const SECRET = 'agreement-secret';
const NOW = new Date('2026-11-26T12:00:00.000Z');
// Freshness and dedupe are not part of the schema: off, so only validation decides.
const base: ReceiverOptions = { secret: SECRET, tolerance: false, dedupe: false };
const strict = createWebhookReceiver({ ...base, unknownEvents: 'reject' });
const lenient = createWebhookReceiver({ ...base, unknownEvents: 'ignore', path: '/webhooks/aicommerce' });

/** Does the receiver accept this JSON value, correctly signed? Only a 400 counts as "no". */
async function receiverAccepts(receiver: typeof strict, json: unknown): Promise<boolean> {
  const body = JSON.stringify(json) ?? 'null';
  try {
    await receiver.receive({ body, signature: signPayload(body, SECRET) });
    return true;
  } catch (error) {
    if (error instanceof WebhookError && error.status === 400) return false;
    throw error;
  }
}

const ajv = createAjv();
const perEvent = Object.fromEntries(Object.entries(strict.toJSONSchema()).map(([name, schema]) => [name, ajv.compile(schema)]));
const anyKnownEvent = ajv.compile(JSON.parse(schemaDocument('json-schema')) as object);
const lenientDocument = lenient.toOpenAPI();
const endpointBody = openApiValidator(lenientDocument)(
  pointerTo('paths', '/webhooks/aicommerce', 'post', 'requestBody', 'content', 'application/json', 'schema'),
);

const isKnown = (name: unknown): name is string => typeof name === 'string' && Object.hasOwn(perEvent, name);

/** Every verdict on `json`, each with what it should equal. */
async function verdicts(json: unknown) {
  const zod = await receiverAccepts(strict, json);
  const name = (json as { event?: unknown } | null)?.event;
  return {
    zod,
    // The event's own schema, for a value that names a known event.
    perEvent: isKnown(name) && typeof json === 'object' && !Array.isArray(json) ? perEvent[name]!(json) : zod,
    // docs/events.schema.json: a delivery of any known event (unknown ones are 400 under 'reject').
    anyKnownEvent: anyKnownEvent(json),
    // The endpoint's body in toOpenAPI({ path }), against the receiver that ignores unknown events.
    endpoint: { zod: await receiverAccepts(lenient, json), ajv: endpointBody(json) },
  };
}

async function expectAgreement(json: unknown): Promise<boolean> {
  const v = await verdicts(json);
  expect({ json, perEvent: v.perEvent, anyKnownEvent: v.anyKnownEvent }).toEqual({ json, perEvent: v.zod, anyKnownEvent: v.zod });
  expect({ json, endpoint: v.endpoint.ajv }).toEqual({ json, endpoint: v.endpoint.zod });
  return v.zod;
}

describe('the generated JSON Schema agrees with zod (Ajv 2020-12 against the receiver)', () => {
  it('accepts every sample event, as the receiver does', async () => {
    for (const name of eventNames) {
      const delivery = { event: name, timestamp: NOW.toISOString(), data: sampleEvents[name] };
      expect(await expectAgreement(delivery)).toBe(true);
    }
  });

  it('agrees on values built from the schemas and mutated (4,000 runs), both verdicts well represented', async () => {
    const tally = { accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof(validEnvelope(NOW.toISOString()), mutatedEnvelope(NOW).map((m) => m.json)), async (json) => {
        tally[(await expectAgreement(json)) ? 'accepted' : 'rejected']++;
      }),
      { numRuns: 4000 },
    );
    expect(tally.accepted).toBeGreaterThan(800);
    expect(tally.rejected).toBeGreaterThan(800);
  });

  it('agrees on arbitrary JSON values (1,000 runs)', async () => {
    await fc.assert(fc.asyncProperty(anyJson, async (json) => void (await expectAgreement(json))), { numRuns: 1000 });
  });

  // Where a format check (ajv-formats) and zod's own pattern could part ways.
  const delivery = (timestamp: unknown, date: unknown = '2026-11-25') => ({
    event: 'analytics.daily',
    timestamp,
    data: { storeId: 'store_xyz', date, sessions: 1, messages: 2 },
  });
  it.each([
    ['2026-11-26T12:00:00Z', true],
    ['2026-11-26T12:00:00.123456789Z', true],
    ['2026-11-26T12:00:00+02:00', true],
    ['2026-11-26T12:00:00-23:59', true],
    ['2026-11-26T12:00Z', false], // no seconds
    ['2026-11-26T12:00:00', false], // no offset
    ['2026-11-26T12:00:00+0200', false], // an offset without its colon
    ['2026-11-26T12:00:00+24:00', false],
    ['2026-11-26t12:00:00z', false], // lower-case separators
    ['2026-11-26 12:00:00Z', false],
    ['2016-12-31T23:59:60Z', false], // a leap second: RFC 3339 allows it, zod does not
    ['2024-02-29T00:00:00Z', true],
    ['2023-02-29T00:00:00Z', false],
    ['2026-04-31T00:00:00Z', false],
    ['+002026-11-26T12:00:00Z', false],
  ])('timestamp %s: both say %s', async (timestamp, accepted) => {
    expect(await expectAgreement(delivery(timestamp))).toBe(accepted);
  });

  it.each([
    ['2026-11-25', true],
    ['2000-02-29', true],
    ['1900-02-29', false],
    ['0000-02-29', true],
    ['2026-13-01', false],
    ['2026-1-01', false],
    ['2026-11-25T00:00:00Z', false],
    ['20261125', false],
  ])('date %s: both say %s', async (date, accepted) => {
    expect(await expectAgreement(delivery('2026-11-26T12:00:00Z', date))).toBe(accepted);
  });

  it.each([
    ['a count at 2^53 − 1', true, { sessions: Number.MAX_SAFE_INTEGER }],
    ['a count past 2^53', false, { sessions: 2 ** 53 }],
    ['a count of 1e308', false, { sessions: 1e308 }],
    ['a fractional count', false, { sessions: 1.5 }],
    ['a count written 1.0 (JSON has no integer type)', true, { sessions: 1.0 }],
    ['a negative revenue', false, { revenue: -0.01 }],
    ['a huge revenue', true, { revenue: 1e308 }],
    ['an emoji as the store id (one code point, two UTF-16 units)', true, { storeId: '😀' }],
    ['an empty store id', false, { storeId: '' }],
  ])('%s: both say %s', async (_, accepted, change) => {
    const json = delivery('2026-11-26T12:00:00Z');
    expect(await expectAgreement({ ...json, data: { ...json.data, ...change } })).toBe(accepted);
  });
});
