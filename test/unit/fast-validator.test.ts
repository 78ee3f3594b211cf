import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWebhookReceiver, eventSchemas, signPayload, WebhookPayloadError, type SchemaMap } from 'aicommerce-webhooks';
import { sampleEvents } from 'aicommerce-webhooks/testing';
// The fast path is internal; its contract with zod is what these tests pin down.
import { anyEnvelopeSchema, envelopeSchemaFor } from '../../src/events.js';
import { MAX_DEPTH, withinDepth } from '../../src/validation/depth.js';
import { compileCheck, TESTED_ZOD_RELEASES, type CompiledCheck } from '../../src/validation/compiled-check.js';

// The fast check must say "valid" exactly when zod would accept the value and hand back an equal
// one (and the value nests no deeper than the limit); when it says "not valid", zod decides.

const secret = 'whsec_fast_validator';
const at = new Date('2026-11-27T12:00:00.000Z');

const compiled = (schema: z.ZodType): CompiledCheck => {
  const fast = compileCheck(schema);
  if (fast === undefined) throw new Error('expected the schema to be compiled');
  return fast;
};

/**
 * The oracle: zod accepts the value and outputs an equal one (so handing on the parsed JSON is
 * what zod would have done), and it nests no deeper than the limit the fast check also enforces.
 */
function zodAcceptsAsIs(schema: z.ZodType, value: unknown): boolean {
  const result = schema.safeParse(value);
  return result.success && isDeepStrictEqual(result.data, value) && withinDepth(value, MAX_DEPTH);
}

function expectAgreement(schema: z.ZodType, fast: CompiledCheck, value: unknown): void {
  expect(fast(value, MAX_DEPTH), JSON.stringify(value)).toBe(zodAcceptsAsIs(schema, value));
}

// ——— values as JSON.parse makes them ———

const INFINITY = '\u0000infinity';
/** Round-trips through JSON text, as a body does; `INFINITY` becomes `1e400`, which JSON.parse reads as Infinity. */
const asParsedJson = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value).replaceAll(JSON.stringify(INFINITY), '1e400'));

const nested = (levels: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { level: value };
  return value;
};

/** Values that sit on the edges of the built-in schemas' rules. */
const edgeValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(
    '', 'x', '👟', ' ', '2026-11-26', '2026-02-29', '2024-02-29', '2026-13-01', '26-11-26',
    '2026-11-27T12:00:00Z', '2026-11-27T12:00:00.123456Z', '2026-11-27T12:00:00+01:00', '2026-11-27T12:00:00', '2026-11-27 12:00:00Z',
    0, -0, 1, -1, 0.5, 1.0000001, -0.0001, 2 ** 53, 2 ** 53 + 2, 1e21, INFINITY,
    true, false, null, [], {}, [1], { id: 'p' }, nested(MAX_DEPTH - 4), nested(MAX_DEPTH + 2),
  ) },
  fc.string(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Keys to add, some of them ones every object inherits. */
const extraKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'id', 'extra', ''), fc.string({ maxLength: 6 }));

type Path = readonly (string | number)[];

/** Every path to an object, array or leaf inside `value`. */
function pathsOf(value: unknown, path: Path = []): Path[] {
  const paths: Path[] = [path];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...path, index])));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...path, key]));
  return paths;
}

type Mutation = { kind: 'set'; at: number; value: unknown } | { kind: 'delete'; at: number } | { kind: 'add'; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: edgeValue }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: extraKey, value: edgeValue }),
);

/** Applies the mutations to a copy of `base`; `at` picks a path among those that exist at that moment. */
function mutate(base: unknown, mutations: readonly Mutation[]): unknown {
  let root: unknown = structuredClone(base);
  for (const change of mutations) {
    const paths = pathsOf(root);
    const path = paths[change.at % paths.length]!;
    // Copies: the edge values are shared between runs, and a later mutation may write inside this one.
    const value = change.kind === 'delete' ? undefined : structuredClone(change.value);
    if (path.length === 0) {
      if (change.kind === 'set') root = value;
      continue;
    }
    const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<string | number, unknown>;
    const key = path.at(-1)!;
    if (change.kind === 'set') parent[key] = value;
    else if (change.kind === 'delete') Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key];
    else {
      const target = parent[key];
      // Defined as an own property, as JSON.parse makes `"__proto__": …`.
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
        Object.defineProperty(target, change.key, { value, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return root;
}

const builtIn = Object.entries(eventSchemas).map(([name, data]) => ({
  name,
  schema: envelopeSchemaFor(name, data),
  sample: { event: name, timestamp: at.toISOString(), data: sampleEvents[name as keyof typeof sampleEvents] },
}));

describe('the fast check agrees with zod on every built-in schema', () => {
  it('compiles every built-in event schema and the envelope of unknown events', () => {
    for (const { schema } of builtIn) expect(compileCheck(schema)).toBeTypeOf('function');
    expect(compileCheck(anyEnvelopeSchema)).toBeTypeOf('function');
  });

  it.each(builtIn)('$name: the sample is valid, and handed on as it is', ({ schema, sample }) => {
    const fast = compiled(schema);
    expect(fast(asParsedJson(sample), MAX_DEPTH)).toBe(true);
    expectAgreement(schema, fast, asParsedJson(sample));
  });

  it.each(builtIn)('$name: mutated samples (missing, extra, retyped and edge values)', ({ schema, sample }) => {
    const fast = compiled(schema);
    const anyEnvelope = compiled(anyEnvelopeSchema);
    let valid = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const value = asParsedJson(mutate(sample, mutations));
        expectAgreement(schema, fast, value);
        expectAgreement(anyEnvelopeSchema, anyEnvelope, value);
        if (fast(value, MAX_DEPTH)) valid++;
      }),
      { numRuns: 600 },
    );
    // Both sides of the question were asked: some mutations keep the delivery valid.
    expect(valid).toBeGreaterThan(0);
  });

  it.each(builtIn)('$name: arbitrary JSON values', ({ schema }) => {
    const fast = compiled(schema);
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => expectAgreement(schema, fast, asParsedJson(value))), { numRuns: 300 });
  });

  it('the depth limit holds under keys no schema declares, at the limit and one past it', () => {
    const fast = compiled(builtIn[0]!.schema);
    const sample = builtIn[0]!.sample;
    // The extra key sits in `data` (level 2), so the value under it may nest MAX_DEPTH − 2 levels.
    const within = { ...sample, data: { ...sample.data, extra: nested(MAX_DEPTH - 2) } };
    const beyond = { ...sample, data: { ...sample.data, extra: nested(MAX_DEPTH - 1) } };
    expect(fast(asParsedJson(within), MAX_DEPTH)).toBe(true);
    expect(fast(asParsedJson(beyond), MAX_DEPTH)).toBe(false);
    expect(withinDepth(asParsedJson(beyond), MAX_DEPTH)).toBe(false);
  });
});

describe('each supported kind of node', () => {
  const cases: { name: string; schema: z.ZodType; values: unknown[] }[] = [
    { name: 'string with min/max (code points, as zod counts)', schema: z.string().min(2).max(3), values: ['a', 'ab', 'abc', 'abcd', '👟', '👟👟', '👟👟👟', '👟👟👟👟', 1, null] },
    { name: 'string of exact length', schema: z.string().length(2), values: ['ab', 'a', '👟', '👟👟', ''] },
    { name: 'number (finite only, as zod; JSON.parse reads 1e400 as Infinity)', schema: z.number(), values: [0, 1.5, -1e308, Infinity, -Infinity, NaN, '1'] },
    { name: 'non-negative number', schema: z.number().nonnegative(), values: [0, 10432.5, -1, Infinity] },
    { name: 'number with bounds', schema: z.number().min(0).max(1), values: [0, -0, 1, 0.5, -0.1, 1.1, Number.POSITIVE_INFINITY, '1', null] },
    { name: 'exclusive bounds', schema: z.number().gt(0).lt(1), values: [0, 1, 0.5, 1e-9] },
    { name: 'integer', schema: z.number().int().nonnegative(), values: [0, 1, 1.5, -1, 2 ** 53, 2 ** 53 - 1, 1e21] },
    { name: 'multiple of', schema: z.number().multipleOf(0.5), values: [0, 0.5, 1, 0.3, 1e300] },
    { name: 'boolean', schema: z.boolean(), values: [true, false, 0, 'true', null] },
    { name: 'null', schema: z.null(), values: [null, undefined, 0, ''] },
    { name: 'nullable', schema: z.string().nullable(), values: [null, 'x', 1] },
    { name: 'string literal', schema: z.literal('a'), values: ['a', 'b', 'A', null] },
    { name: 'literals of several types', schema: z.literal([1, 'one', true, null]), values: [1, 'one', true, null, 2, '1', false] },
    { name: 'enum', schema: z.enum(['x', 'y']), values: ['x', 'y', 'z', 0] },
    { name: 'unknown (only the depth counts)', schema: z.unknown(), values: [1, 'x', null, {}, [], nested(MAX_DEPTH), nested(MAX_DEPTH + 1)] },
    { name: 'any', schema: z.any(), values: [1, nested(MAX_DEPTH + 1)] },
    { name: 'array with length bounds', schema: z.array(z.string()).min(1).max(2), values: [[], ['a'], ['a', 'b'], ['a', 'b', 'c'], [1], 'a', {}] },
    { name: 'record of strings to unknown', schema: z.record(z.string(), z.unknown()), values: [{}, { a: 1, b: { c: [] } }, [], null, JSON.parse('{"__proto__": 1}')] },
    { name: 'record of strings to numbers', schema: z.record(z.string(), z.number()), values: [{ a: 1 }, { a: 'x' }, { a: 1, b: null }] },
    { name: 'ISO date', schema: z.iso.date(), values: ['2026-11-26', '2024-02-29', '2026-02-29', '2026-11-26T00:00:00Z', 20261126] },
    { name: 'ISO date-time, Z only', schema: z.iso.datetime(), values: ['2026-11-27T12:00:00Z', '2026-11-27T12:00:00.5Z', '2026-11-27T12:00:00+01:00', '2026-11-27'] },
    { name: 'ISO date-time with offset', schema: z.iso.datetime({ offset: true }), values: ['2026-11-27T12:00:00Z', '2026-11-27T12:00:00+01:00', '2026-11-27T12:00:00+0100', '2026-11-27T24:00:00Z'] },
    { name: 'a regex', schema: z.string().regex(/^ab+$/), values: ['ab', 'abbb', 'a', 'xab'] },
    { name: 'loose object', schema: z.looseObject({ a: z.string(), b: z.number().optional() }), values: [{ a: 'x' }, { a: 'x', b: 1 }, { a: 'x', c: 2 }, { b: 1 }, { a: 'x', b: 'y' }, [], null, JSON.parse('{"a":"x","__proto__":{"b":1}}')] },
    { name: 'object that strips unknown keys: valid only without them', schema: z.object({ a: z.string() }), values: [{ a: 'x' }, { a: 'x', b: 1 }, {}] },
    { name: 'strict object', schema: z.strictObject({ a: z.string() }), values: [{ a: 'x' }, { a: 'x', b: 1 }] },
    { name: 'required unknown key', schema: z.object({ a: z.unknown() }), values: [{ a: 1 }, { a: null }, {}] },
  ];

  it.each(cases)('$name', ({ schema, values }) => {
    const fast = compiled(schema);
    for (const value of values) expectAgreement(schema, fast, value);
  });

  it('a value zod accepts but changes (strip) is never vouched for', () => {
    const schema = z.object({ a: z.string() });
    const value = { a: 'x', b: 1 };
    expect(schema.safeParse(value).success).toBe(true);
    expect(compiled(schema)(value, MAX_DEPTH)).toBe(false);
  });
});

describe('schemas the fast check leaves to zod', () => {
  const unsupported: Record<string, z.ZodType> = {
    transform: z.string().transform((s) => s.length),
    default: z.object({ a: z.string().default('x') }),
    pipe: z.string().pipe(z.string().min(1)),
    coerce: z.coerce.number(),
    refine: z.string().refine((s) => s !== 'x'),
    trim: z.string().trim(),
    url: z.string().url(),
    union: z.union([z.string(), z.number()]),
    'catchall schema': z.object({}).catchall(z.string()),
    'exact optional': z.object({ a: z.exactOptional(z.string()) }),
    'a key every object inherits': z.object({ constructor: z.string() }),
    'record with enum keys': z.record(z.enum(['a', 'b']), z.number()),
    'a schema that contains itself': (() => {
      const node: z.ZodType = z.object({
        get children() {
          return z.array(node);
        },
      });
      return node;
    })(),
    'a transform deep inside': z.object({ a: z.array(z.object({ b: z.string().transform((s) => s.toUpperCase()) })) }),
  };

  it.each(Object.entries(unsupported))('%s', (_name, schema) => {
    expect(compileCheck(schema)).toBeUndefined();
  });

  it('every schema, under a zod release the compiler was not tested with (its internals may have moved)', async () => {
    const schema = eventSchemas['chat.message.received'];
    expect(compileCheck(schema)).toBeTypeOf('function'); // this zod: compiled
    const untested = Object.create(schema) as typeof schema;
    Object.defineProperty(untested, '_zod', { value: { ...schema._zod, version: { major: 4, minor: 99, patch: 0 } } });
    expect(compileCheck(untested)).toBeUndefined();
    expect(TESTED_ZOD_RELEASES).toContain(`${schema._zod.version.major}.${schema._zod.version.minor}`);
    // Inside the receiver's envelope (made by this zod), the untested node still leaves the whole delivery to zod,
    // which accepts the valid and refuses the invalid.
    expect(compileCheck(envelopeSchemaFor('chat.message.received', untested))).toBeUndefined();
    expect(compileCheck(envelopeSchemaFor('chat.message.received', schema))).toBeTypeOf('function');
    const webhooks = createWebhookReceiver({ secret, now: () => at, dedupe: false, schemas: { 'chat.message.received': untested } });
    const send = (data: unknown) => {
      const body = JSON.stringify({ event: 'chat.message.received', timestamp: at.toISOString(), data });
      return webhooks.receive({ body, signature: signPayload(body, secret) });
    };
    await expect(send(sampleEvents['chat.message.received'])).resolves.toMatchObject({ outcome: 'handled' });
    await expect(send({ ...sampleEvents['chat.message.received'], sessionId: 7 })).rejects.toMatchObject({ code: 'invalid_payload', issues: [{ path: 'data.sessionId' }] });
  });

  describe('through receive()', () => {
    const deliver = async (schemas: SchemaMap, data: unknown, unknownEvents: 'ignore' | 'reject' = 'ignore', event = 'chat.message.received') => {
      const webhooks = createWebhookReceiver({ secret, now: () => at, dedupe: false, schemas, unknownEvents });
      const seen: unknown[] = [];
      webhooks.onAny((delivered) => void seen.push(delivered.data));
      const body = JSON.stringify({ event, timestamp: at.toISOString(), data });
      const outcome = await webhooks.receive({ body, signature: signPayload(body, secret) }).then(
        (result) => result.outcome,
        (error: unknown) => error,
      );
      return { outcome, seen };
    };

    it("a user schema with a transform: the handler gets zod's output, not the raw JSON", async () => {
      const schema = z.looseObject({ sessionId: z.string().transform((s) => s.toUpperCase()), storeId: z.string(), message: z.string() });
      const { outcome, seen } = await deliver({ 'chat.message.received': schema }, { sessionId: 'sess_a', storeId: 's', message: 'm' });
      expect(outcome).toBe('handled');
      expect(seen).toEqual([{ sessionId: 'SESS_A', storeId: 's', message: 'm' }]);
    });

    it('a user schema that strips: the handler gets the stripped object', async () => {
      const schema = z.object({ storeId: z.string() });
      const { seen } = await deliver({ 'chat.message.received': schema }, { storeId: 's', extra: 1 });
      expect(seen).toEqual([{ storeId: 's' }]);
    });

    it('the depth limit holds where zod decides (a transformed schema) and for unknown events', async () => {
      const transformed = z.looseObject({ storeId: z.string().transform((s) => s) });
      const deep = { storeId: 's', extra: nested(MAX_DEPTH + 1) };
      for (const { outcome } of [
        await deliver({ 'chat.message.received': transformed }, deep),
        await deliver({}, deep, 'ignore', 'some.future.event'),
      ]) {
        expect(outcome).toBeInstanceOf(WebhookPayloadError);
        expect((outcome as WebhookPayloadError).message).toMatch(/nested deeper than 64 levels/);
      }
    });

    it('an invalid delivery of a compiled schema still gets zod\'s issues', async () => {
      const { outcome } = await deliver({}, { sessionId: '', storeId: 's', message: 1 });
      expect(outcome).toBeInstanceOf(WebhookPayloadError);
      expect((outcome as WebhookPayloadError).issues.map((issue) => issue.path).sort()).toEqual(['data.message', 'data.sessionId']);
    });
  });

  describe("where code generation is off (zod's jitless switch, for CSP-restricted hosts)", () => {
    afterEach(() => void z.config({ jitless: false }));

    it('nothing is compiled, and deliveries still go through zod', async () => {
      z.config({ jitless: true });
      expect(compileCheck(builtIn[0]!.schema)).toBeUndefined();
      const webhooks = createWebhookReceiver({ secret, now: () => at, dedupe: false });
      const seen: unknown[] = [];
      webhooks.on('chat.message.received', (event) => void seen.push(event.data));
      const body = JSON.stringify({ event: 'chat.message.received', timestamp: at.toISOString(), data: sampleEvents['chat.message.received'] });
      await expect(webhooks.receive({ body, signature: signPayload(body, secret) })).resolves.toMatchObject({ outcome: 'handled' });
      expect(seen).toEqual([sampleEvents['chat.message.received']]);
    });
  });
});
