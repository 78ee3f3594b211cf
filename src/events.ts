import { z } from 'zod';

// AICommerce publishes one example payload and no schema, so these shapes are ours (the events
// table in README.md). Every object is loose: fields AICommerce adds later are accepted and kept. Formats we
// were never told about (URLs, currencies) stay plain strings, since rejecting a real delivery
// over a guess would lose it.

const id = z.string().min(1);
const count = z.number().int().nonnegative();

/** A product as chat events mention it. */
export const chatProductSchema = z.looseObject({
  id,
  name: z.string(),
  relevanceScore: z.number().min(0).max(1).optional(),
});

/** A product as the store's catalogue holds it. */
export const catalogueProductSchema = z.looseObject({
  id,
  name: z.string(),
  price: z.number().nonnegative().optional(),
  currency: z.string().optional(),
  url: z.string().optional(),
  imageUrl: z.string().optional(),
});

/** The schema of `data` for every event AICommerce documents, by event name. */
export const eventSchemas = {
  'chat.session.created': z.looseObject({
    sessionId: id,
    storeId: id,
    customerId: z.string().optional(),
    source: z.string().optional(),
    context: z.record(z.string(), z.unknown()).optional(),
  }),
  'chat.message.received': z.looseObject({
    sessionId: id,
    storeId: id,
    message: z.string(), // a shopper can send an empty message
    products: z.array(chatProductSchema).optional(),
    messageId: z.string().optional(),
  }),
  'chat.message.sent': z.looseObject({
    sessionId: id,
    storeId: id,
    message: z.string(),
    products: z.array(chatProductSchema),
    messageId: z.string().optional(),
    inReplyTo: z.string().optional(),
  }),
  'product.viewed': z.looseObject({
    sessionId: id,
    storeId: id,
    product: chatProductSchema,
    position: count.optional(),
  }),
  'product.added': z.looseObject({
    storeId: id,
    product: catalogueProductSchema,
  }),
  'product.updated': z.looseObject({
    storeId: id,
    product: catalogueProductSchema,
    changedFields: z.array(z.string()).optional(),
  }),
  'analytics.daily': z.looseObject({
    storeId: id,
    date: z.iso.date(), // YYYY-MM-DD
    sessions: count,
    messages: count,
    productViews: count.optional(),
    conversions: count.optional(),
    revenue: z.number().nonnegative().optional(),
    currency: z.string().optional(),
    topProducts: z.array(z.looseObject({ id, name: z.string().optional(), views: count.optional() })).optional(),
    topQueries: z.array(z.string()).optional(),
  }),
} as const;

/** The fields every delivery carries besides `event` and `data`. */
const envelopeFields = z.object({
  timestamp: z.iso.datetime({ offset: true }),
  // The body's own `signature` can never sign the body that holds it: accepted, never trusted.
  signature: z.unknown().optional(),
});

/** The envelope of an event whose name we have no schema for: enough to check its freshness. */
export const anyEnvelopeSchema = envelopeFields.extend({ event: z.string().min(1), data: z.looseObject({}) }).loose();

/** Event name → the zod schema of its `data`. */
export type SchemaMap = Readonly<Record<string, z.ZodType>>;
/** The type of `eventSchemas`: each built-in event name → the zod schema of its `data`. */
export type EventSchemas = typeof eventSchemas;
/** The name of a built-in event: `'chat.session.created'`, `'chat.message.received'` … `'analytics.daily'`. */
export type EventName = keyof EventSchemas;

/** The built-in schemas with the user's replacements and additions (`schemas` option). */
export type MergeSchemas<Custom extends SchemaMap> = Omit<EventSchemas, keyof Custom> & Custom;

/**
 * `T` as its declared fields only: a loose object's index signature (`[key: string]: unknown`) is
 * dropped, deep, so `event.data.sesionId` is a compile error. The fields AICommerce adds are still
 * kept at runtime; a schema of your own (`schemas` option) types them. An object with no declared
 * field at all (a `z.record`) keeps its index signature.
 */
export type DeclaredFields<T> = T extends readonly unknown[]
  ? { [I in keyof T]: DeclaredFields<T[I]> }
  : T extends object
    ? [keyof WithoutIndex<T>] extends [never]
      ? T
      : { [K in keyof WithoutIndex<T>]: DeclaredFields<WithoutIndex<T>[K]> }
    : T;

type WithoutIndex<T> = { [K in keyof T as string extends K ? never : number extends K ? never : symbol extends K ? never : K]: T[K] };

/** A validated delivery of event `Name` (a union of names gives a union of events, narrowed by `event`). */
export type WebhookEvent<Name extends keyof Schemas & string = EventName, Schemas extends SchemaMap = EventSchemas> =
  Name extends unknown
    ? z.output<typeof envelopeFields> & { event: Name; data: DeclaredFields<z.output<Schemas[Name]>> }
    : never;

/** The envelope of an event the receiver has a schema for, with `data` as that schema outputs it (before its type is known). */
export interface KnownEvent {
  readonly event: string;
  readonly timestamp: string;
  readonly data: unknown;
}

/** The event names of a schema map. */
export type Names<Schemas> = keyof Schemas & string;
/** `'chat.message.received'` → `'chat' | 'chat.message'`: the prefixes a `'prefix.*'` pattern may name. */
export type Prefixes<Name extends string> = Name extends `${infer Head}.${infer Rest}` ? Head | `${Head}.${Prefixes<Rest>}` : never;
/** The names under a prefix. */
export type Matching<Name extends string, Prefix extends string> = Extract<Name, `${Prefix}.${string}`>;

/** The whole-delivery schema of one event: the common envelope around its `data` schema. */
export function envelopeSchemaFor(name: string, data: z.ZodType): z.ZodType {
  return envelopeFields.extend({ event: z.literal(name), data }).loose();
}
