import type { JsonSchema } from './json-schema.js';

// A schema generated on its own refers to its parts from its root (`#/$defs/…`, `#` itself for a
// recursive one). Placed inside a larger document, it needs those references to start where it
// now sits; and only a document's root may name the dialect (`$schema`).

/** `chat.message.received` → `ChatMessageReceived`: a name code generators turn into a type. */
export function typeName(event: string): string {
  const words = event.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  const name = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
  return /^[A-Za-z]/.test(name) ? name : `Event${name}`;
}

/** Event name → a distinct type name for each, in the order given, none of them one of `reserved`. */
export function typeNames(events: Iterable<string>, reserved: Iterable<string> = []): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set(reserved);
  for (const event of events) {
    let name = typeName(event);
    for (let n = 2; taken.has(name); n++) name = `${typeName(event)}${n}`;
    taken.add(name);
    names.set(event, name);
  }
  return names;
}

/** A JSON Pointer fragment for these path segments (`~` and `/` escaped, RFC 6901). */
export function pointer(...segments: readonly string[]): string {
  return `#${segments.map((s) => `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')}`;
}

/** `schema` as it must read when placed at `at` (a pointer fragment) inside another document. */
export function embed(schema: JsonSchema, at: string): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rebase(rest, at) as JsonSchema;
}

/** A schema's keywords: `$ref`s rebased, data (`const`, `enum` …) copied, names (`properties` …) kept. */
function rebase(schema: Record<string, unknown>, at: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === '$ref' && typeof value === 'string' && value.startsWith('#')) out[keyword] = at + value.slice(1);
    else if (DATA_KEYWORDS.has(keyword)) out[keyword] = value;
    else if (NAMED_SCHEMAS.has(keyword) && isObject(value)) {
      out[keyword] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, rebaseAny(sub, at)]));
    } else out[keyword] = rebaseAny(value, at);
  }
  return out;
}

/** Subschemas wherever they sit: alone (`items`, `not`) or in lists (`anyOf`, `prefixItems`). */
function rebaseAny(value: unknown, at: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rebaseAny(item, at));
  return isObject(value) ? rebase(value, at) : value;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keywords whose value is data, never a schema. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example', 'required', '$comment', 'description', 'title']);
/** Keywords whose value maps names (of fields, of definitions) to schemas. */
const NAMED_SCHEMAS = new Set(['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions']);
