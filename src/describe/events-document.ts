import { embed, pointer, typeNames } from './embed.js';
import type { JsonSchema } from './json-schema.js';

/**
 * One JSON Schema document for every delivery of a known event: each event's schema under
 * `$defs` (named after the event, `ChatMessageReceived`), and the root accepting any one of them.
 */
export function eventsDocument(perEvent: Readonly<Record<string, JsonSchema>>): JsonSchema {
  const names = typeNames(Object.keys(perEvent));
  const $defs: Record<string, JsonSchema> = {};
  for (const [event, name] of names) $defs[name] = embed(perEvent[event]!, pointer('$defs', name));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'AICommerce webhook deliveries',
    description:
      'A delivery of any known event: the envelope (event, timestamp, signature?, data) around that event\'s data. ' +
      'Each event\'s own schema is under $defs. Generated from the zod schemas of aicommerce-webhooks.',
    oneOf: [...names.values()].map((name) => ({ $ref: pointer('$defs', name) })),
    $defs,
  };
}
