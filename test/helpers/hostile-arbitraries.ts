import fc from 'fast-check';
import { z } from 'zod';
import { eventSchemas, signPayload, type EventName } from 'aicommerce-webhooks';
import { SECRET } from './deliveries.js';

// fast-check generators for hostile deliveries. Valid event data is derived from the exported
// zod schemas (through their JSON Schema), so a schema change changes what is generated; the
// mutations then break it in the ways a sender or an attacker could.

export const eventNames = Object.keys(eventSchemas) as EventName[];

/** The part of JSON Schema that `z.toJSONSchema` gives for our event schemas. */
interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
  anyOf?: JsonSchema[];
}

/** Keys that mean something to JavaScript objects: what prototype-pollution attempts use. */
export const hostileKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', ''] as const;

const unicode = fc.string({ unit: 'grapheme', maxLength: 12 });
/** Anything JSON can hold, unicode strings included, kept small so many runs stay fast. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' });
/** Header text: ASCII, unicode, binary, and up to 4 KB of repeats. */
const long = fc.tuple(fc.nat({ max: 4000 }), fc.string({ minLength: 1, maxLength: 3 })).map(([n, unit]) => unit.repeat(n));
export const headerText = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), long);
const extraKey = fc.oneof(fc.constantFrom(...hostileKeys), fc.string({ maxLength: 8 }), unicode);

/** A value that passes `schema` (as far as the subset goes), with unknown keys added now and then. */
export function fromJsonSchema(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.anyOf !== undefined) return fc.oneof(...schema.anyOf.map(fromJsonSchema));
  switch (schema.type) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      if (properties.length === 0) return fc.dictionary(extraKey, anyJson, { maxKeys: 3 }); // a record of unknowns
      const known = fc.record(Object.fromEntries(properties.map(([key, value]) => [key, fromJsonSchema(value)])), {
        requiredKeys: schema.required ?? [],
      });
      // Loose objects keep what they do not know: sometimes add such keys (never over a known one).
      const extras = fc.dictionary(extraKey.filter((k) => !(k in (schema.properties ?? {}))), anyJson, { maxKeys: 2 });
      return fc.tuple(known, fc.option(extras, { freq: 3 })).map(([value, more]) => withOwnKeys(value, more ?? {}));
    }
    case 'array':
      return fc.array(schema.items === undefined ? anyJson : fromJsonSchema(schema.items), { maxLength: 3 });
    case 'string':
      if (schema.format === 'date') {
        return fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map(
          (d) => d.toISOString().slice(0, 10),
        );
      }
      return fc.oneof(fc.string({ minLength: schema.minLength ?? 0, maxLength: 16 }), fc.string({ unit: 'grapheme', minLength: Math.max(schema.minLength ?? 0, 1), maxLength: 8 }));
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: Math.min(schema.maximum ?? 1_000_000, 1_000_000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return anyJson;
  }
}

/** Copies `extra` onto `value` as own data properties, `__proto__` included (as JSON.parse would). */
function withOwnKeys(value: object, extra: Record<string, unknown>): object {
  const out: Record<string, unknown> = { ...value };
  for (const [key, item] of Object.entries(extra)) Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  return out;
}

const dataArbitraries = new Map(
  eventNames.map((name) => [name, fromJsonSchema(z.toJSONSchema(eventSchemas[name], { io: 'input' }) as JsonSchema)]),
);

/** A delivery envelope whose `data` passes its event's schema. */
export interface EventLike {
  event: unknown;
  timestamp: unknown;
  data: unknown;
  [key: string]: unknown;
}

export const validEnvelope = (timestamp: string): fc.Arbitrary<EventLike> =>
  fc.constantFrom(...eventNames).chain((event) => dataArbitraries.get(event)!.map((data) => ({ event, timestamp, data })));

/** One way to break a delivery; `at` picks the node of the JSON tree it applies to. */
export type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'add'; at: number; key: string; value: unknown }
  | { kind: 'wrap'; at: number }
  | { kind: 'event'; value: unknown }
  | { kind: 'timestamp'; value: unknown };

const oddValue = fc.oneof(
  anyJson,
  fc.constantFrom<unknown>(null, '', -1, 0.5, 1.5, 1e308, -1e-308, -0, [], {}, 'x'.repeat(2000), true, '2026-02-30', '0000-00-00'),
);

/** Event names: other known ones (so `data` is the wrong shape), unknown ones, and non-strings. */
const oddEventName = fc.oneof(
  fc.constantFrom<unknown>(...eventNames),
  fc.constantFrom<unknown>('', 'chat', 'chat.*', '*', ' chat.message.received', 'CHAT.MESSAGE.RECEIVED', ...hostileKeys),
  unicode,
  anyJson,
);

/** Timestamps around the tolerance window of `now`, and things that are not timestamps. */
const oddTimestamp = (now: Date): fc.Arbitrary<unknown> => {
  // Milliseconds from now: anywhere within ±15 min, and the edges of the default ±300 s window.
  const skew = fc.oneof(fc.integer({ min: -900_000, max: 900_000 }), fc.constantFrom(0, 300_000, -300_000, 300_001, -300_001));
  const at = (ms: number): Date => new Date(now.getTime() + ms);
  return fc.oneof(
    skew.map((ms) => at(ms).toISOString()),
    skew.map((ms) => at(ms).toISOString().replace('Z', '+00:00')),
    skew.map((ms) => at(ms + 2 * 3600_000).toISOString().replace('Z', '+02:00')), // the same instant, another offset
    fc.constantFrom<unknown>(
      now.toISOString().slice(0, 10), // a date, no time
      now.toISOString().replace('Z', ''), // no offset
      now.toISOString().replace('T', ' '),
      now.getTime(),
      '2026-13-01T00:00:00Z',
      '',
      null,
    ),
    anyJson,
  );
};

export const mutation = (now: Date): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: oddValue }),
    fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: extraKey, value: oddValue }),
    fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('event' as const), value: oddEventName }),
    fc.record({ kind: fc.constant('timestamp' as const), value: oddTimestamp(now) }),
  );

/** A delivery built from the schemas, then broken by up to three mutations (or none). */
export const mutatedEnvelope = (now: Date): fc.Arbitrary<{ json: unknown; mutations: Mutation[] }> =>
  fc.tuple(validEnvelope(now.toISOString()), fc.array(mutation(now), { maxLength: 3 })).map(([envelope, mutations]) => ({
    json: mutations.reduce<unknown>(applyMutation, envelope),
    mutations,
  }));

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

/** Every place in the tree a value sits, in a stable order (depth first). */
function slots(value: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push({ parent: value, key: i });
      slots(item, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      out.push({ parent: value as Record<string, unknown>, key });
      slots((value as Record<string, unknown>)[key], out);
    }
  }
  return out;
}

/** Applies one mutation to a copy of `json` (the copy goes through JSON, as the wire does). */
export function applyMutation(json: unknown, m: Mutation): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(json) ?? 'null');
  const root = copy !== null && typeof copy === 'object' && !Array.isArray(copy) ? (copy as Record<string, unknown>) : undefined;
  if (m.kind === 'event' || m.kind === 'timestamp') {
    if (root !== undefined) root[m.kind] = m.value;
    return copy;
  }
  const all = slots(copy);
  if (all.length === 0) return m.kind === 'wrap' ? [copy] : copy;
  const { parent, key } = all[m.at % all.length]!;
  const target = (parent as Record<string | number, unknown>)[key];
  switch (m.kind) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    case 'replace':
      (parent as Record<string | number, unknown>)[key] = m.value;
      break;
    case 'wrap':
      (parent as Record<string | number, unknown>)[key] = [target];
      break;
    case 'add':
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      }
      break;
  }
  return copy;
}

// ——— single flipped bits (property-signature) ———

/** A correctly signed delivery with valid data, as bytes. */
export const signedDelivery = validEnvelope(new Date().toISOString()).map((json) => {
  const body = Buffer.from(JSON.stringify(json));
  return { body, signature: signPayload(body, SECRET) };
});

export const flipBit = (bytes: Uint8Array, bit: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

/** The header with one bit of its written form flipped, and what that flip means. */
export function flipHeaderBit(signature: string, bit: number): { header: string; sameDigest: boolean; flipped: number } {
  const bytes = flipBit(Buffer.from(signature, 'latin1'), bit);
  const before = signature[bit >> 3]!;
  const after = bytes.toString('latin1')[bit >> 3]!;
  const isHexLetter = /[a-f]/.test(before) && bit >> 3 >= 'sha256='.length;
  return { header: bytes.toString('latin1'), sameDigest: isHexLetter && after === before.toUpperCase(), flipped: bytes[bit >> 3]! };
}
