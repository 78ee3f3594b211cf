import { z } from 'zod';
import { withinDepth } from './depth.js';

// A fast path in front of zod, for the one question the hot path asks of a parsed body: would
// `schema.safeParse(json)` succeed and give back a value equal to `json`? When the answer is yes,
// the parsed JSON is handed on as it is and zod (≈ 1 µs a delivery, most of our overhead over a
// bare HMAC + JSON.parse) never runs. When it is no, zod runs and has the last word.
//
// The check is generated once per schema, from zod v4's own definitions (`_zod.def`), as the
// source of one plain function (as zod and ajv do): each property read is then its own
// monomorphic site, which a tree of closures cannot give (measured: 0.05 µs against 0.4 µs on a
// 1 KB delivery). Only schemas whose output equals their input are compiled: a node kind or check
// we don't know (transform, default, coercion, pipe, refine, lazy, union …) makes the whole schema
// return `undefined`, and that schema always goes through zod; so does everything where
// `new Function` is forbidden. Checks (min, max, int, formats) are zod's own check functions,
// called as zod calls them, so their rules are never written twice. Inputs are what `JSON.parse`
// produces: no `undefined`, functions or symbols.
//
// The same walk enforces the depth limit on every object and array, including values under keys
// no schema declares, so a delivery that passes needs no separate depth walk.

/** `true`: `value` passes the schema, zod's output would equal it, and it nests at most `levelsLeft` levels. */
export type CompiledCheck = (value: unknown, levelsLeft: number) => boolean;

interface CheckPayload {
  value: unknown;
  issues: unknown[];
}

type CheckFunction = (payload: CheckPayload) => unknown;

/** The parts of a zod v4 schema (or check) this compiler reads. */
interface ZodNode {
  readonly _zod: {
    readonly def: NodeDef;
    readonly traits: ReadonlySet<string>;
    readonly optin?: 'optional' | 'defaulted' | undefined;
    readonly optout?: 'optional' | undefined;
    readonly values?: ReadonlySet<unknown> | undefined;
    readonly check?: CheckFunction;
    readonly version?: { readonly major?: unknown; readonly minor?: unknown };
  };
}

interface NodeDef {
  readonly type: string;
  readonly checks?: readonly ZodNode[];
  readonly coerce?: boolean;
  readonly check?: string;
  readonly format?: string;
  readonly shape?: Readonly<Record<string, ZodNode>>;
  readonly catchall?: ZodNode;
  readonly element?: ZodNode;
  readonly innerType?: ZodNode;
  readonly keyType?: ZodNode;
  readonly valueType?: ZodNode;
}

/** Check kinds whose zod function only reads the value (no rewriting, no user code). */
const READ_ONLY_CHECKS = new Set(['min_length', 'max_length', 'length_equals', 'greater_than', 'less_than', 'number_format', 'multiple_of']);
/** String formats whose zod check is a test of the format's own pattern, nothing else. */
const PATTERN_FORMATS = new Set(['datetime', 'date', 'time', 'regex', 'uuid', 'guid', 'email']);

class Unsupported extends Error {}

/**
 * The zod releases this compiler was tested with, as `major.minor`: it reads zod's internal
 * definitions (`_zod.def`), which a minor release may move, so with any other zod every schema goes
 * through zod itself. After a zod upgrade: run `npm run test:unit` (test/unit/fast-validator.test.ts
 * holds the compiled check against zod on every kind of node), and if it passes, add the new minor here.
 */
export const TESTED_ZOD_RELEASES: readonly string[] = ['4.6'];

/** The fast check of `schema`, or `undefined` when zod must run every time. */
export function compileCheck(schema: z.core.$ZodType): CompiledCheck | undefined {
  if (z.config().jitless === true) return undefined; // zod's own switch for CSP-restricted hosts
  const generator = new Generator();
  try {
    generator.node(schema as unknown as ZodNode, 'value', 0);
  } catch {
    return undefined; // Unsupported, or a definition shaped unlike zod 4's: either way, zod decides
  }
  const source = `return function fastCheck(value, levels) {\n${generator.lines.join('\n')}\nreturn true;\n};`;
  let build: (...args: unknown[]) => CompiledCheck;
  try {
    build = new Function('refs', 'withinDepth', 'payload', 'failed', source) as (...args: unknown[]) => CompiledCheck;
  } catch {
    // Code generation is forbidden here, and not always everywhere in one process: workerd allows
    // it while a Worker starts up and throws an EvalError inside a request. Asked each time, then.
    return undefined;
  }
  return build(generator.refs, withinDepth, payload, failed);
}

// One payload for every check call: checks are synchronous and never re-enter the fast check.
const payload: CheckPayload = { value: undefined, issues: [] };

/** A check pushed an issue: forget it, and answer "not valid". */
function failed(): false {
  payload.issues.length = 0;
  return false;
}

/**
 * Writes the statements that `return false` unless the value in variable `v` passes `node`. `depth`
 * counts the objects and arrays around `v`, so `v` may itself be one while `levels > depth`.
 */
class Generator {
  readonly lines: string[] = [];
  readonly refs: unknown[] = [];
  #names = 0;
  readonly #visiting = new Set<ZodNode>();

  node(node: ZodNode, v: string, depth: number): void {
    // A schema that contains itself (a getter in its shape) is left to zod.
    if (this.#visiting.has(node)) throw new Unsupported();
    // Each node: a user's schema may come from another zod than the envelope around it.
    const version = node._zod.version;
    if (!TESTED_ZOD_RELEASES.includes(`${String(version?.major)}.${String(version?.minor)}`)) throw new Unsupported();
    this.#visiting.add(node);
    const checks = checksOf(node); // refuse before writing anything for this node
    this.#type(node, v, depth);
    if (checks.length > 0) {
      for (const check of checks) this.lines.push(`payload.value = ${v}; ${this.#ref(check)}(payload);`);
      this.lines.push('payload.value = undefined;', 'if (payload.issues.length !== 0) return failed();');
    }
    this.#visiting.delete(node);
  }

  #type(node: ZodNode, v: string, depth: number): void {
    const def = node._zod.def;
    if (def.coerce === true) throw new Unsupported();
    switch (def.type) {
      case 'string':
        return this.#fail(`typeof ${v} !== 'string'`);
      case 'number':
        // zod rejects NaN and ±Infinity (JSON.parse gives Infinity for 1e400).
        return this.#fail(`typeof ${v} !== 'number' || !Number.isFinite(${v})`);
      case 'boolean':
        return this.#fail(`typeof ${v} !== 'boolean'`);
      case 'null':
        return this.#fail(`${v} !== null`);
      case 'literal':
      case 'enum': {
        const values = node._zod.values; // the very set zod tests against
        if (values === undefined) throw new Unsupported();
        const [only] = values;
        if (values.size === 1 && typeof only === 'string') return this.#fail(`${v} !== ${JSON.stringify(only)}`);
        return this.#fail(`!${this.#ref(values)}.has(${v})`);
      }
      case 'unknown':
      case 'any':
        return this.#fail(`typeof ${v} === 'object' && ${v} !== null && !withinDepth(${v}, levels - ${depth})`);
      case 'optional':
        if (node._zod.traits.has('$ZodExactOptional')) throw new Unsupported();
        return this.#unless(`${v} === undefined`, () => this.node(required(def.innerType), v, depth));
      case 'nullable':
        return this.#unless(`${v} === null`, () => this.node(required(def.innerType), v, depth));
      case 'array':
        return this.#array(required(def.element), v, depth);
      case 'record':
        return this.#record(def, v, depth);
      case 'object':
        return this.#object(def, v, depth);
      default:
        throw new Unsupported();
    }
  }

  #array(element: ZodNode, v: string, depth: number): void {
    const i = this.#name('i');
    const item = this.#name('item');
    this.#fail(`!Array.isArray(${v}) || levels <= ${depth}`);
    this.lines.push(`for (let ${i} = 0; ${i} < ${v}.length; ${i}++) {`, `const ${item} = ${v}[${i}];`);
    this.node(element, item, depth + 1);
    this.lines.push('}');
  }

  /** `z.record(z.string(), value)`: every own key is a string, so only the values are checked. */
  #record(def: NodeDef, v: string, depth: number): void {
    const key = required(def.keyType)._zod;
    if (key.def.type !== 'string' || key.def.coerce === true || (key.def.checks?.length ?? 0) > 0 || key.values !== undefined) {
      throw new Unsupported();
    }
    const name = this.#name('key');
    const item = this.#name('item');
    this.#fail(`typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v}) || levels <= ${depth}`);
    this.lines.push(`for (const ${name} in ${v}) {`);
    this.#fail(`${name} === '__proto__'`); // zod leaves it out of its output, so the input would not be the output
    this.lines.push(`const ${item} = ${v}[${name}];`);
    this.node(required(def.valueType), item, depth + 1);
    this.lines.push('}');
  }

  #object(def: NodeDef, v: string, depth: number): void {
    const shape = required(def.shape);
    if (Object.getOwnPropertySymbols(shape).length > 0) throw new Unsupported();
    const keys = Object.keys(shape);
    // A key every object inherits (`toString`, `__proto__` …) reads as present when it is absent: zod's business.
    if (keys.some((key) => key in Object.prototype)) throw new Unsupported();
    const extras = extraKeysOf(def.catchall);

    const present = this.#name('present');
    this.#fail(`typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v}) || levels <= ${depth}`);
    this.lines.push(`let ${present} = 0;`);
    for (const key of keys) {
      const field = shape[key]!;
      const item = this.#name('item');
      this.lines.push(`const ${item} = ${v}[${JSON.stringify(key)}];`);
      if (isOptionalKey(field)) {
        this.#unless(`${item} === undefined`, () => {
          this.node(field, item, depth + 1);
          this.lines.push(`${present}++;`);
        });
      } else {
        this.#fail(`${item} === undefined`);
        this.node(field, item, depth + 1);
        this.lines.push(`${present}++;`);
      }
    }
    // Counting keys allocates nothing; only an object with keys outside its shape pays for finding them.
    const count = this.#name('count');
    const key = this.#name('key');
    this.lines.push(`let ${count} = 0;`, `for (const ${key} in ${v}) ${count}++;`);
    if (extras === 'loose') {
      this.#fail(`${count} !== ${present} && !${this.#ref(looseExtrasCheck(new Set(keys)))}(${v}, levels - ${depth + 1})`);
    } else {
      this.#fail(`${count} !== ${present}`); // zod drops extra keys (strip) or rejects them (strict)
    }
  }

  #fail(condition: string): void {
    this.lines.push(`if (${condition}) return false;`);
  }

  #unless(condition: string, body: () => void): void {
    this.lines.push(`if (!(${condition})) {`);
    body();
    this.lines.push('}');
  }

  #ref(value: unknown): string {
    this.refs.push(value);
    return `refs[${this.refs.length - 1}]`;
  }

  #name(prefix: string): string {
    return `${prefix}${this.#names++}`;
  }
}

function required<T>(part: T | undefined): T {
  if (part === undefined) throw new Unsupported();
  return part;
}

/** Only `optional` in and out means "an absent key is simply absent"; defaults and the like are zod's. */
function isOptionalKey(field: ZodNode): boolean {
  const { optin, optout } = field._zod;
  if (optin === undefined) return false;
  if (optin === 'optional' && optout === 'optional') return true;
  throw new Unsupported();
}

/** The node's checks (its own, when it is a format such as `z.iso.date()`, then `.min()` …): all read-only, or refused. */
function checksOf(node: ZodNode): CheckFunction[] {
  const all = node._zod.traits.has('$ZodCheck') ? [node, ...(node._zod.def.checks ?? [])] : (node._zod.def.checks ?? []);
  return all.map((check) => {
    const { check: kind, format } = check._zod.def;
    const readOnly = kind === 'string_format' ? format !== undefined && PATTERN_FORMATS.has(format) : kind !== undefined && READ_ONLY_CHECKS.has(kind);
    const run = check._zod.check;
    if (!readOnly || run === undefined) throw new Unsupported();
    return run;
  });
}

/** What an object does with keys its shape does not declare: `loose` keeps them, `exact` means zod's output has none. */
function extraKeysOf(catchall: ZodNode | undefined): 'loose' | 'exact' {
  if (catchall === undefined) return 'exact'; // strip: zod drops them
  const { type, checks } = catchall._zod.def;
  if (type === 'never') return 'exact'; // strict: zod rejects them
  if ((type === 'unknown' || type === 'any') && (checks?.length ?? 0) === 0) return 'loose';
  throw new Unsupported(); // a catchall schema of its own
}

/** Keys outside a loose object's shape are kept as they are: only their depth, and `__proto__`, matter. */
function looseExtrasCheck(declared: ReadonlySet<string>): CompiledCheck {
  return (value, levelsLeft) => {
    const object = value as Record<string, unknown>;
    for (const key in object) {
      if (declared.has(key)) continue;
      if (key === '__proto__') return false; // zod never copies it, so its output would differ
      if (!withinDepth(object[key], levelsLeft)) return false;
    }
    return true;
  };
}
