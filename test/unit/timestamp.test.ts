import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// Internal: the freshness check's reading of the envelope timestamp, which must be Date.parse's.
import { timestampMs } from '../../src/validation/timestamp.js';

describe('timestampMs', () => {
  it("reads every toISOString() timestamp exactly as Date.parse does (years 0–99 and beyond 9999 included)", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('-000100-01-01T00:00:00Z'), max: new Date('+012000-01-01T00:00:00Z'), noInvalidDate: true }), (date) => {
        const text = date.toISOString();
        expect(timestampMs(text)).toBe(Date.parse(text));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    '2026-11-27T12:00:00Z',
    '2026-11-27T12:00:00.5Z',
    '2026-11-27T12:00:00.123456Z',
    '2026-11-27T12:00:00+01:00',
    '2026-11-27T12:00:00.000-05:30',
    '0050-06-01T00:00:00.000Z',
  ])('leaves other shapes to Date.parse: %s', (text) => {
    expect(timestampMs(text)).toBe(Date.parse(text));
  });
});
