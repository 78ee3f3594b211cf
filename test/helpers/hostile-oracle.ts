import { expect } from 'vitest';
import { z } from 'zod';
import { eventSchemas, type EventName } from 'aicommerce-webhooks';

// An independent reading of DESIGN.md's contract, written straight from the exported zod
// schemas: what a correctly signed JSON value must be answered with. The pipeline (whatever
// validator it compiles) has to agree with it on every generated delivery.

export type Expected = 'handled' | 'ignored' | 'invalid_payload' | 'stale_timestamp';

const isKnown = (name: unknown): name is EventName => typeof name === 'string' && Object.hasOwn(eventSchemas, name);

const timestamp = z.iso.datetime({ offset: true });
const envelope = (event: z.ZodType, data: z.ZodType) =>
  z.looseObject({ event, timestamp, signature: z.unknown().optional(), data });

const knownEnvelopes = new Map(
  (Object.keys(eventSchemas) as EventName[]).map((name) => [name, envelope(z.literal(name), eventSchemas[name])]),
);
const unknownEnvelope = envelope(z.string().min(1), z.looseObject({}));

const MAX_DEPTH = 64;
function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child));
  return deepest + 1;
}

/** The outcome a JSON value, correctly signed, must get (unknown events ignored, `tolerance` seconds). */
export function expectedOutcome(json: unknown, now: Date, toleranceSeconds = 300): Expected {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || depth(json) > MAX_DEPTH) return 'invalid_payload';
  const name = (json as { event?: unknown }).event;
  const schema = isKnown(name) ? knownEnvelopes.get(name)! : unknownEnvelope;
  const parsed = schema.safeParse(json);
  if (!parsed.success) return 'invalid_payload';
  const skew = now.getTime() - Date.parse((parsed.data as { timestamp: string }).timestamp);
  if (!(Math.abs(skew) <= toleranceSeconds * 1000)) return 'stale_timestamp';
  return isKnown(name) ? 'handled' : 'ignored';
}

/** Does `event`, as a handler received it, pass its event's exported schema? */
export function passesItsSchema(event: unknown): boolean {
  if (event === null || typeof event !== 'object') return false;
  const { event: name, data, timestamp: time } = event as { event?: unknown; data?: unknown; timestamp?: unknown };
  return isKnown(name) && eventSchemas[name].safeParse(data).success && timestamp.safeParse(time).success;
}

/** What a delivery was answered, as the HTTP status and the code (or outcome) it maps to. */
export type Answer = { status: number; code: string };

const STATUS: Record<Expected, Answer['status']> = { handled: 200, ignored: 200, invalid_payload: 400, stale_timestamp: 401 };

/** Asserts the answer the oracle expects; a body seen before may also answer `duplicate`. */
export function expectAgreement(answer: Answer, expected: Expected, seenBefore: boolean): void {
  expect(answer.status).toBe(STATUS[expected]);
  if (expected === 'handled') expect(answer.code).toBe(seenBefore ? 'duplicate' : 'handled');
  else expect(answer.code).toBe(expected);
}
