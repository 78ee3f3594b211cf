import { z } from 'zod';

/** A JSON Schema (draft 2020-12), as zod writes it. */
export type JsonSchema = z.core.JSONSchema.JSONSchema;

/** Event name → the zod schema of its whole delivery (envelope and `data`), as a receiver holds them. */
export type DeliverySchemas = ReadonlyMap<string, { readonly schema: z.ZodType }>;

/** The zod definition fields read below (zod 4's `_zod.def`). */
interface Def {
  readonly type: string;
  readonly checks?: readonly { readonly _zod: { readonly def: { readonly check: string; readonly pattern?: RegExp } } }[];
  readonly in?: { readonly _zod: { readonly traits: ReadonlySet<string> } };
}

/** Regex flags that change what a pattern matches; JSON Schema patterns carry no flags. */
const MEANINGFUL_FLAGS = /[ims]/;

/**
 * JSON Schema 2020-12 of one whole delivery, by zod's own conversion (`z.toJSONSchema`).
 *
 * `io: 'input'`: the contract is what the sender puts on the wire, before defaults fill in and
 * transforms run (a field with a default is optional there; a plain `z.object` accepts unknown
 * keys it would strip). Where zod checks something JSON Schema cannot say, the document is made
 * looser, never stricter, and says so in a `$comment`: a consumer of it must never reject a
 * delivery the receiver accepts. A type with no JSON form (a Date, a bigint) is an error.
 */
export function deliveryJsonSchema(name: string, schema: z.ZodType): JsonSchema {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: ({ path, message }) => {
      throw new TypeError(
        `Cannot describe the event '${name}' as JSON Schema: ${message} (at ${dataPath(path)}). ` +
          'Describe what the sender puts on the wire, e.g. z.iso.datetime() instead of z.date().',
      );
    },
    override: ({ zodSchema, jsonSchema }) => loosenWhatJsonSchemaCannotSay(zodSchema._zod.def as Def, jsonSchema),
  });
  // A plain JSON copy: zod's result also carries a non-enumerable `~standard` property.
  return JSON.parse(JSON.stringify(generated)) as JsonSchema;
}

function loosenWhatJsonSchemaCannotSay(def: Def, json: JsonSchema): void {
  // z.preprocess: zod writes the schema after the function ran, which rejects inputs the function would accept.
  if (def.type === 'pipe' && def.in?._zod.traits.has('$ZodTransform') === true) {
    for (const key of Object.keys(json)) delete json[key];
    json.$comment = 'zod preprocesses this value with code; any JSON value may be sent';
    return;
  }
  for (const { _zod } of def.checks ?? []) {
    const { check, pattern } = _zod.def;
    if (check === 'custom') {
      addComment(json, 'zod also checks this value with code (refine) that JSON Schema cannot express');
    } else if (pattern !== undefined && MEANINGFUL_FLAGS.test(pattern.flags)) {
      dropPattern(json, pattern.source);
      addComment(json, `zod matches /${pattern.source}/${pattern.flags}; JSON Schema patterns have no flags`);
    }
  }
}

function dropPattern(json: JsonSchema, source: string): void {
  if (json.pattern === source) delete json.pattern;
  if (Array.isArray(json.allOf)) {
    json.allOf = json.allOf.filter((member) => member.pattern !== source);
    if (json.allOf.length === 0) delete json.allOf;
  }
}

function addComment(json: JsonSchema, comment: string): void {
  json.$comment = json.$comment === undefined ? comment : `${json.$comment}; ${comment}`;
}

/** `['properties', 'data', 'properties', 'at']` → `data.at`: where in the delivery, as issues name it. */
function dataPath(path: readonly (string | number)[]): string {
  const fields: string[] = [];
  path.forEach((segment, i) => {
    if (path[i - 1] === 'properties') fields.push(String(segment));
    else if (segment === 'items' || segment === 'additionalProperties') fields.push('*');
  });
  return fields.length === 0 ? 'the root' : fields.join('.');
}

/** `toJSONSchema()`: every event's whole-delivery schema, by event name. */
export function deliveryJsonSchemas(schemas: DeliverySchemas): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [name, { schema }] of schemas) out[name] = deliveryJsonSchema(name, schema);
  return out;
}
